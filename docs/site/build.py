"""Build the offline course site: every notebook of nbs/ in lesson order (with its committed outputs), the README as
the home page, and the project's docs and benchmark pages, as static HTML with a sidebar. Nothing is fetched: MathJax
comes from a local copy (the `django-static-mathjax` package), and the page template loads nothing from a CDN.

    .venv/bin/python docs/site/build.py [--out _site]

Notebook processing follows nbdev's rules for docs: `#| hide` cells and the `#| default_exp` cell are left out, the
directive lines (`#| ...`) are removed from the code that is shown, exported code is shown as code, outputs are kept.
A cell whose output is a live widget gets a note that it needs a running kernel. `docs/site/check_browser.py` then
renders every page in headless Chromium and checks it."""
import argparse, copy, html, json, re, shutil
from pathlib import Path
import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = Path(__file__).with_name('lesson.html.j2')
WIDGET = 'application/vnd.jupyter.widget-view+json'
DOCS = ['docs/method.md', 'docs/teaching.md', 'docs/reliability.md', 'docs/results/README.md', 'docs/results/cifar10/100k/seed0/quality.md',
        'docs/results/shapes/64k/seed0/quality.md', 'docs/results/shapes/64k/seed0/reading.md', 'docs/results/shapes/design/design.md', 'docs/results/ablations/ablations.md', 'docs/results/shapes/pipelines/pipelines.md', 'docs/results/shapes/pipelines/reading.md',
        'docs/results/cifar10/pipelines/pipelines.md', 'docs/results/shapes/64k/seeds.md', 'docs/results/cifar10/100k/seeds.md',
        'docs/results/cifar10/200k/seed0/quality.md', 'docs/results/cifar10/200k/seeds.md', 'docs/results/speed/speed-cifar-cpu-cpu.md']

def directives(source):
    return [l[3:].strip() for l in source.splitlines() if l.startswith('#|')]

def process(nb):
    "nbdev's docs processing, offline: drop hidden and default_exp cells, strip directive lines, note live widgets."
    out = []
    for cell in nb.cells:
        if cell.cell_type == 'code':
            d = directives(cell.source)
            if any(x == 'hide' or x.startswith('default_exp') for x in d): continue
            cell = copy.deepcopy(cell)
            lines = [l for l in cell.source.splitlines() if not l.startswith('#|')]
            if 'solution' in d: lines.insert(0, '# Solution (run by the tests: nbdev tst_flags "solution")')
            cell.source = '\n'.join(lines)
            widget = any(WIDGET in o.get('data', {}) for o in cell.get('outputs', []))
            cell.outputs = [o for o in cell.get('outputs', []) if WIDGET not in o.get('data', {})]
            out.append(cell)
            if widget:
                out.append(nbformat.v4.new_markdown_cell('<div class="site-note">This cell shows an interactive widget: it needs a live '
                                                         'kernel. Open the notebook in JupyterLab (`jupyter lab nbs/`) to use it; '
                                                         'the next cell draws its default view.</div>'))
        else: out.append(cell)
    nb = copy.deepcopy(nb); nb.cells = out
    nb.metadata.pop('widgets', None)
    return nb

def title_of(nb, fallback):
    for c in nb.cells:
        if c.cell_type == 'markdown' and c.source.lstrip().startswith('# '):
            return c.source.lstrip()[2:].splitlines()[0].strip()
    return fallback

def page_name(path):
    "Where a repository file lands in the site."
    p = Path(path)
    if p.suffix == '.ipynb': return p.stem + '.html'
    if str(p) == 'README.md': return 'index.html'
    return str(p.with_suffix('.html'))

def rewrite_links(text, src):
    "Links between pages of the repository become links between pages of the site."
    base = Path(src).parent
    def fix(m):
        label, target = m.group(1), m.group(2)
        if re.match(r'[a-z]+:', target) or target.startswith('#'): return m.group(0)
        path, _, anchor = target.partition('#')
        full = (base / path)
        try: rel = full.resolve().relative_to(ROOT)
        except ValueError: return m.group(0)
        if rel.suffix in ('.md', '.ipynb'): return f'[{label}]({{root}}{page_name(rel)}{"#" + anchor if anchor else ""})'
        return f'[{label}]({{root}}{rel})'
    return re.sub(r'\[([^\]]*)\]\(([^)\s]+)\)', fix, text)

def sidebar(pages, current, root):
    groups, items = {}, []
    for name, title, group in pages:
        cls = ' class="current"' if name == current else ''
        items.append((group, f'<a{cls} href="{root}{name}">{html.escape(title)}</a>'))
    out, last = ['<nav class="site">'], None
    for group, a in items:
        if group != last: out.append(f'<h3>{group}</h3>'); last = group
        out.append(a)
    return '\n'.join(out + ['</nav>'])

def build(out=ROOT / '_site'):
    out = Path(out)
    if out.exists(): shutil.rmtree(out)
    (out / 'static' / 'mathjax').mkdir(parents=True)
    import mathjax
    shutil.copy(Path(mathjax.__file__).parent / 'static' / 'mathjax' / 'es5' / 'tex-svg.js', out / 'static' / 'mathjax' / 'tex-svg.js')
    notebooks = sorted((ROOT / 'nbs').glob('*.ipynb'))
    loaded = {p: nbformat.read(p, as_version=4) for p in notebooks}
    pages = [('index.html', 'Home (README)', 'm3i-ref')]
    pages += [(page_name(p.name), f'{p.stem.split("_")[0]} {title_of(nb, p.stem)}', 'Lessons (nbs/)') for p, nb in loaded.items()]
    docs = [d for d in DOCS if (ROOT / d).exists()]
    pages += [(page_name(d), d[len('docs/'):], 'Method, teaching and benchmarks') for d in docs]
    exporter = HTMLExporter(template_file=str(TEMPLATE), exclude_input_prompt=True, exclude_output_prompt=True)
    def write(name, nb, src):
        root = '../' * name.count('/')
        for c in nb.cells:
            if c.cell_type == 'markdown': c.source = rewrite_links(c.source, src).replace('{root}', root)
        body, _ = exporter.from_notebook_node(nb, resources=dict(sidebar=sidebar(pages, name, root), site_root=root))
        (out / name).parent.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(body)
    for p, nb in loaded.items(): write(page_name(p.name), process(nb), f'nbs/{p.name}')
    for src in ['README.md', *docs]:
        text = (ROOT / src).read_text()
        write(page_name(src), nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text)]), src)
        for img in re.findall(r'!\[[^\]]*\]\(([^)\s]+\.png)\)', text):         # the pages' figures, next to them
            f = (ROOT / src).parent / img
            if f.exists(): (out / page_name(src)).parent.joinpath(img).parent.mkdir(parents=True, exist_ok=True); shutil.copy(f, (out / page_name(src)).parent / img)
    (out / 'pages.json').write_text(json.dumps([dict(page=n, title=t, group=g) for n, t, g in pages], indent=1) + '\n')
    return out, pages

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=str(ROOT / '_site'))
    out, pages = build(ap.parse_args().out)
    print(f'{len(pages)} pages written to {out} (open {out / "index.html"})')
