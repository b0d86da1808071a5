"""Build the offline course site: a home page made from the lecture plan (`docs/teaching.md`), every notebook of nbs/
(with its committed outputs) grouped by lecture, the project's docs and the benchmark results, as static HTML with a
sidebar, previous/next links, a contents list per page and a full-text search. Nothing is fetched: MathJax comes from a
local copy (the `django-static-mathjax` package), the search index is a JavaScript file loaded by a <script> tag (so it
works from file://), and the page template loads nothing from a CDN.

    .venv/bin/python docs/site/build.py [--out _site]

Notebook processing follows nbdev's rules for docs: `#| hide` cells and the `#| default_exp` cell are left out, the
directive lines (`#| ...`) are removed from the code that is shown, outputs are kept. Exported code (`#| export`) is
folded into a closed <details> (its output stays visible); a solution (`#| solution`) is folded whole, output included.
A cell whose output is a live widget gets a note that it needs a running kernel.

The sidebar lists the lectures of `docs/teaching.md` (its sessions table), then the other notebooks, then RESULTS, then
PROJECT_DOCS; a listed page that is missing stops the build. Markdown files those pages link to become pages too (not
in the sidebar), and the build ends by checking that every internal link resolves (exit status 1 if not).
`docs/site/check_browser.py` then renders every page in headless Chromium and checks it."""
import argparse, copy, html, json, re, shutil
from collections import Counter, namedtuple
from html.parser import HTMLParser
from pathlib import Path
import nbformat
from nbconvert import HTMLExporter

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).parent
TEMPLATE = HERE / 'lesson.html.j2'
WIDGET = 'application/vnd.jupyter.widget-view+json'
TEACHING = 'docs/teaching.md'                  # the lecture plan: its sessions table makes the home page and the sidebar
PROJECT_DOCS = ['README.md', 'docs/method.md', 'docs/teaching.md', 'docs/reliability.md']
RESULTS_INDEX = 'docs/results/index.md'        # the Results section's entry page, when it exists
RESULTS = ['docs/results/README.md', 'docs/results/cifar10/100k/seed0/quality.md', 'docs/results/shapes/64k/seed0/quality.md', 'docs/results/shapes/64k/seed0/reading.md',
           'docs/results/shapes/design/design.md', 'docs/results/ablations/ablations.md', 'docs/results/shapes/pipelines/pipelines.md',
           'docs/results/shapes/pipelines/reading.md', 'docs/results/cifar10/pipelines/pipelines.md', 'docs/results/shapes/64k/seeds.md',
           'docs/results/cifar10/100k/seeds.md', 'docs/results/cifar10/200k/seed0/quality.md', 'docs/results/cifar10/200k/seeds.md',
           'docs/results/speed/speed-cifar-cpu-cpu.md']  # the one list of result pages: a listed page that is missing stops the build
TITLES = {'README.md': 'About / install'}

Page = namedtuple('Page', 'name src title group')   # name: where it lands in the site; src: the repository file (or None)

# ---------------------------------------------------------------- the lecture plan

def table_rows(text, first_column):
    "The rows of the first markdown table whose header starts with `first_column`, as dicts keyed by the header."
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.startswith(f'| {first_column} |'):
            header = [c.strip() for c in line.strip('|').split('|')]
            rows = []
            for row in lines[i + 2:]:
                if not row.startswith('|'): break
                cells = [c.strip() for c in row.strip().strip('|').split(' | ')]
                if len(cells) != len(header): raise ValueError(f'{TEACHING}: a row has {len(cells)} cells, the header {len(header)}: {row[:80]}')
                rows.append(dict(zip(header, cells)))
            return rows
    raise ValueError(f'{TEACHING}: no table whose first column is "{first_column}"')

def lectures(text):
    "The sessions of the lecture plan: number, title, notebooks (stems), minutes, question, outcomes (a list), exercise."
    out = []
    for row in table_rows(text, 'session'):
        number, _, title = row['session'].partition('. ')
        out.append(dict(number=int(number), title=title, notebooks=re.findall(r'`([^`]+)`', row['notebooks']),
                        minutes=int(row['minutes']), question=row['the question it answers'],
                        outcomes=[o.strip() for o in row['after it, a student can'].split(';') if o.strip()],
                        exercise=row['in-class exercise']))
    return out

def lecture_group(lec):
    return f"Lecture {lec['number']}: {lec['title']}"

# ---------------------------------------------------------------- titles and page names

def nb_title(nb, fallback):
    "A notebook's title: its first markdown heading."
    for c in nb.cells:
        if c.cell_type == 'markdown' and c.source.lstrip().startswith('# '):
            return c.source.lstrip()[2:].splitlines()[0].strip()
    return fallback

def md_title(text, fallback):
    "A markdown page's title: its first `#` heading."
    m = re.search(r'^# (.+)$', text, re.M)
    return m.group(1).strip() if m else fallback

def page_name(path):
    "Where a repository file lands in the site."
    p = Path(path)
    if p.suffix == '.ipynb': return p.stem + '.html'
    if str(p) == 'README.md': return 'about.html'
    return str(p.with_suffix('.html'))

def existing(paths):
    "The listed pages; a missing one stops the build, named (a page moved without this list knowing)."
    missing = [p for p in paths if not (ROOT / p).exists()]
    if missing: raise FileNotFoundError(f'docs/site/build.py lists pages that do not exist: {", ".join(missing)}')
    return paths

def unique_titles(pages):
    "Pages of one group with the same title are told apart by their folder under docs/results: 'The same runs at 3 seeds (cifar10, 100k)'."
    seen = Counter((p.group, p.title) for p in pages)
    where = lambda src: Path(src).parent.as_posix().replace('docs/results/', '').replace('/', ', ')
    return [p._replace(title=f'{p.title} ({where(p.src)})') if p.src and seen[p.group, p.title] > 1 else p for p in pages]

def plan_pages(notebooks, plan):
    "Every page in sidebar order: home, the lectures' notebooks, the other notebooks, the results, the project docs."
    stems = {p.stem: p for p in notebooks}
    pages, placed = [Page('index.html', None, 'Course home', None)], set()
    for lec in plan:
        for stem in lec['notebooks']:
            if stem not in stems: raise FileNotFoundError(f'{TEACHING} names a notebook that is not in nbs/: {stem}')
            pages.append(Page(page_name(stem + '.ipynb'), f'nbs/{stem}.ipynb', notebooks[stems[stem]], lecture_group(lec)))
            placed.add(stem)
    pages += [Page(page_name(p.name), f'nbs/{p.name}', t, 'Reference notebooks') for p, t in notebooks.items() if p.stem not in placed]
    results = ([RESULTS_INDEX] if (ROOT / RESULTS_INDEX).exists() else []) + existing(RESULTS)
    for group, srcs in (('Results', results), ('Project docs', existing(PROJECT_DOCS))):
        pages += [Page(page_name(s), s, TITLES.get(s) or md_title((ROOT / s).read_text(), s), group) for s in srcs]
    pages.append(Page('search.html', None, 'Search', None))
    return unique_titles(pages)

def lessons(pages):
    "The notebook pages, in the order of the course."
    return [p for p in pages if p.src and p.src.endswith('.ipynb')]

def prev_next(pages):
    "For each lesson page, its previous and next page: lecture order, then the reference notebooks; home before the first."
    chain = [pages[0]] + lessons(pages)
    return {b.name: (a, c) for a, b, c in zip(chain, chain[1:], chain[2:] + [None])}

# ---------------------------------------------------------------- the home page, from the lecture plan

def landing_markdown(plan, pages):
    """The course home page, as markdown: each lecture with its notebooks, minutes, question and what a student can do.
    Its links are repository paths, made into site links like every page's."""
    by_src = {p.src: p for p in pages}
    total = sum(l['minutes'] for l in plan)
    out = ['# M3I pre-training, as a course',
           f'{len(plan)} lectures of about {total // len(plan)} minutes on unified pre-training: one mutual-information objective '
           'behind MAE, MoCo, CLIP and supervised training, the parts it is made of, the table of methods it unifies, and '
           'M3I, which trains one encoder on all of them. Every notebook runs on a laptop CPU and is shown here with its '
           'committed outputs; each page has a link to download the notebook. The plan is '
           f'[the teaching notes]({TEACHING}); how to install and run the code is in [About / install](README.md).']
    first = plan[0]['notebooks'][0]
    out += [f"**Start here:** [{by_src[f'nbs/{first}.ipynb'].title}](nbs/{first}.ipynb), then follow the *next* links."]
    for lec in plan:
        out += [f"## {lecture_group(lec)} ({lec['minutes']} minutes)", f"**The question:** {lec['question']}", '**Notebooks:**', '']
        out += [f"{i}. [{by_src[f'nbs/{s}.ipynb'].title}](nbs/{s}.ipynb) (`{s}`)" for i, s in enumerate(lec['notebooks'], 1)]
        out += ['', '**After this lecture, a student can:**', '']
        out += [f'- {o}' for o in lec['outcomes']]
        out += ['', f"**In class:** {lec['exercise']}"]
    ref = [p for p in pages if p.group == 'Reference notebooks']
    out += ['## Reference notebooks', 'For students who want to go further:', '']
    out += [f'- [{p.title}]({p.src}) (`{Path(p.src).stem}`)' for p in ref]
    results = [p for p in pages if p.group == 'Results']
    out += ['', '## Results', f'The benchmark pages, starting with [{results[0].title}]({results[0].src}).']
    return '\n\n'.join(out)

# ---------------------------------------------------------------- notebooks

def directives(source):
    return [l[3:].strip() if l.startswith('#| ') else l[2:].strip() for l in source.splitlines() if l.startswith('#|')]

def defined_names(source):
    "The top-level functions and classes a cell defines, for the summary of its folded code."
    return re.findall(r'^(?:async def|def|class) (\w+)', source, re.M)

def process(nb):
    """nbdev's docs processing, offline: drop hidden and default_exp cells, strip directive lines, note live widgets;
    mark exported code and solutions to be folded (`site_fold` in the cell's metadata, read by the template)."""
    out, module = [], None
    for cell in nb.cells:
        if cell.cell_type == 'code':
            d = directives(cell.source)
            module = next((x.split()[1] for x in d if x.startswith('default_exp ')), module)
            if any(x == 'hide' or x.startswith('default_exp') for x in d): continue
            cell = copy.deepcopy(cell)
            lines = [l for l in cell.source.splitlines() if not l.startswith('#|')]
            if 'solution' in d:
                lines.insert(0, '# Solution (run by the tests: nbdev tst_flags "solution")')
                cell.metadata['site_fold'] = 'solution'
            elif any(x.split()[0] in ('export', 'exports') for x in d if x):
                names = defined_names(cell.source)
                shown = ', '.join(names[:5]) + (', ...' if len(names) > 5 else '')
                cell.metadata['site_fold'] = 'export'
                cell.metadata['site_summary'] = (f'Code exported to m3i_ref{"." + module if module else ""}'
                                                 f'{": " + shown if shown else ""} (click to open)')
            cell.source = '\n'.join(lines)
            widget = any(WIDGET in o.get('data', {}) for o in cell.get('outputs', []))
            cell.outputs = [o for o in cell.get('outputs', []) if WIDGET not in o.get('data', {})]
            out.append(cell)
            if widget:
                out.append(nbformat.v4.new_markdown_cell('<div class="site-note">This cell shows an interactive widget: it needs a live '
                                                         'kernel. Open the notebook in JupyterLab (`jupyter lab nbs/`) to use it; '
                                                         'the next cell draws its default view.</div>', id=f'widget-note-{len(out)}'))
        else: out.append(cell)
    nb = copy.deepcopy(nb); nb.cells = out
    nb.metadata.pop('widgets', None)
    return nb

LINK = re.compile(r'(!?)\[([^\]]*)\]\(([^)\s]+)\)')
SMALL = 2_000_000                               # a linked repository file up to this size is copied into the site

def repo_target(target, src):
    "The repository path a relative link of `src` points to (None for URLs, anchors and paths outside the repository)."
    if re.match(r'[a-z]+:', target) or target.startswith('#'): return None
    try: return str((ROOT / Path(src).parent / target.partition('#')[0]).resolve().relative_to(ROOT))
    except ValueError: return None

def markdown_of(src, loaded):
    "The markdown a page is made of: a markdown file's text, or a notebook's markdown cells."
    if src.endswith('.ipynb'): return '\n\n'.join(c.source for c in loaded[ROOT / src].cells if c.cell_type == 'markdown')
    return (ROOT / src).read_text()

def linked_pages(pages, loaded):
    """Markdown files of the repository that the site's pages link to (and those they link to, and so on), which the
    sidebar does not list: they become pages too, found by search, so that no link is a dead end."""
    known = {p.src for p in pages if p.src}
    todo, extra = [p.src for p in pages if p.src], []
    while todo:
        src = todo.pop(0)
        for bang, _, target in LINK.findall(markdown_of(src, loaded)):
            rel = repo_target(target, src)
            if bang or not rel or not rel.endswith('.md') or rel in known or not (ROOT / rel).is_file(): continue
            known.add(rel); todo.append(rel)
            extra.append(Page(page_name(rel), rel, TITLES.get(rel) or md_title((ROOT / rel).read_text(), rel), 'Linked pages'))
    return extra

def rewrite_links(text, src, sources, files):
    """Links between pages of the repository become links between pages of the site (`sources`: repository path ->
    page). A link to another small repository file links to a copy of it (added to `files`); a link to a file that is
    missing or too large becomes plain text naming it, since it could not be followed."""
    def fix(m):
        bang, label, target = m.groups()
        rel = repo_target(target, src)
        if bang or rel is None: return m.group(0)                 # figures are copied next to their page
        anchor = target.partition('#')[2]
        anchor = '#' + anchor if anchor else ''
        if rel in sources: return f'[{label}]({{root}}{sources[rel]}{anchor})'
        f = ROOT / rel
        if f.is_file() and f.stat().st_size <= SMALL and f.suffix not in ('.md', '.ipynb'):
            files.add(rel); return f'[{label}]({{root}}{rel})'
        return f'{label} (`{rel}`)' if label.strip('`') != rel else f'`{rel}`'
    return LINK.sub(fix, text)

# ---------------------------------------------------------------- the parts of a page

def sidebar(pages, current, root):
    "The site menu: home and search, then one heading per group. At phone width it folds behind a 'Menu' toggle."
    out = ['<nav class="site">', '<input type="checkbox" id="site-menu-toggle" class="site-menu-toggle">',
           '<label for="site-menu-toggle" class="site-menu-label">&#9776; Menu</label>', '<div class="site-menu">',
           f'<form class="site-search" action="{root}search.html" method="get">'
           '<input type="search" name="q" placeholder="Search the course" aria-label="Search the course"></form>']
    last = None
    for p in pages:
        if p.name == 'search.html': continue
        if p.group != last and p.group: out.append(f'<h3>{html.escape(p.group)}</h3>'); last = p.group
        cls = ' class="current"' if p.name == current else ''
        tip = f' title="{html.escape(p.src)}"' if p.src else ''
        out.append(f'<a{cls} href="{root}{p.name}"{tip}>{html.escape(p.title)}</a>')
    return '\n'.join(out + ['</div>', '</nav>'])

def pager(page, links, root):
    "Previous / next links of a lesson page."
    if page.name not in links: return ''
    prev, nxt = links[page.name]
    prev = f'<a class="site-prev" rel="prev" href="{root}{prev.name}">&larr; {html.escape(prev.title)}</a>'
    nxt = f'<a class="site-next" rel="next" href="{root}{nxt.name}">{html.escape(nxt.title)} &rarr;</a>' if nxt else '<span></span>'
    return f'<nav class="site-pager">{prev}{nxt}</nav>'

def download_link(page, root):
    "A notebook page's link to its .ipynb (copied to nbs/ in the site)."
    if not (page.src and page.src.endswith('.ipynb')): return ''
    name = Path(page.src).name
    return (f'<p class="site-download"><a href="{root}nbs/{name}" download>Download the notebook <code>{name}</code></a> '
            '(run it with <code>jupyter lab</code> after <code>bash install.sh</code>)</p>')

HEADING = re.compile(r'<h([23]) id="([^"]+)">(.*?)(?:<a class="anchor-link"[^>]*>[^<]*</a>)?</h\1>', re.S)

def contents(body):
    "The page's h2/h3 headings as a list of links to their anchors (empty when the page has fewer than two)."
    found = HEADING.findall(body)
    if len(found) < 2: return ''
    items = [f'<li class="site-toc-h{level}"><a href="#{hid}">{text}</a></li>' for level, hid, text in found]
    return '<details class="site-toc" open><summary>On this page</summary><ul>' + ''.join(items) + '</ul></details>'

class Visible(HTMLParser):
    """The text a reader sees in <main> (not the menus, the contents list, scripts, figures or folded-code summaries),
    and the page's h2/h3 headings (id, text), for the search index."""
    SKIP = {'script', 'style', 'nav', 'svg', 'summary'}
    def __init__(self):
        super().__init__(); self.skipping, self.in_main, self.text, self.headings, self.heading = [], False, [], [], None
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == 'main': self.in_main = True
        if self.skipping and tag == self.skipping[-1][0]: self.skipping[-1][1] += 1        # the same tag nested
        elif tag in self.SKIP or a.get('class') in ('anchor-link', 'site-toc', 'site-download'): self.skipping.append([tag, 1])
        if tag in ('h2', 'h3') and a.get('id'): self.heading = [a['id'], '']
    def handle_endtag(self, tag):
        if self.skipping and tag == self.skipping[-1][0]:
            self.skipping[-1][1] -= 1
            if not self.skipping[-1][1]: self.skipping.pop()
        if tag in ('h2', 'h3') and self.heading: self.headings.append(self.heading); self.heading = None
    def handle_data(self, data):
        if self.in_main and not self.skipping:
            self.text.append(data)
            if self.heading: self.heading[1] += data

def search_entry(page, body):
    "One page of the search index: its name, title, group, headings and visible text (whitespace collapsed)."
    v = Visible(); v.feed(body)
    squash = lambda s: re.sub(r'\s+', ' ', s).strip()
    return dict(page=page.name, title=page.title, group=page.group or '', text=squash(' '.join(v.text)),
                headings=[dict(id=i, text=squash(t)) for i, t in v.headings])

def search_index_js(entries):
    "The search index as a script (a file loaded by <script>, since file:// pages may not fetch)."
    return 'window.SITE_SEARCH_INDEX = ' + json.dumps(entries, ensure_ascii=False, separators=(',', ':')) + ';\n'

SEARCH_BODY = ('<form class="site-search-page" action="search.html" method="get"><input type="search" name="q" id="site-q" '
               'placeholder="a word, e.g. infonce" aria-label="Search"> <button>Search</button></form>'
               '<div id="site-search-results"><p>Type a word above.</p></div>'
               '<script src="search-index.js"></script><script src="static/search.js"></script>')

# ---------------------------------------------------------------- links

class Links(HTMLParser):
    "Every href and src of a page, and its ids."
    def __init__(self):
        super().__init__(); self.urls, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'a' and a.get('name'): self.ids.add(a['name'])
        for k in ('href', 'src'):
            if a.get(k) and not (tag == 'form'): self.urls.append(a[k])

def broken_links(site):
    """Every internal link of the built site that does not resolve: [(page, url, why)]. External URLs (a scheme, or
    `//host`) are not followed; a path must name a file of the site, an anchor an id of the page it points to."""
    site = Path(site)
    parsed = {}
    def parse(f):
        if f not in parsed: parsed[f] = Links(); parsed[f].feed(f.read_text(errors='replace'))
        return parsed[f]
    bad = []
    for f in sorted(site.rglob('*.html')):
        for url in parse(f).urls:
            if re.match(r'[a-zA-Z][a-zA-Z0-9+.-]*:', url) or url.startswith('//'): continue
            path, _, anchor = html.unescape(url).partition('#')
            path = path.split('?')[0]
            target = (f.parent / path).resolve() if path else f
            if not target.is_file(): bad.append((str(f.relative_to(site)), url, 'no such file')); continue
            if anchor and target.suffix == '.html' and anchor not in parse(target).ids:
                bad.append((str(f.relative_to(site)), url, 'no such anchor'))
    return bad

# ---------------------------------------------------------------- the build

def copy_figures(text, src, out):
    "The images a markdown page shows, next to its page in the site."
    for img in re.findall(r'!\[[^\]]*\]\(([^)\s]+)\)', text):
        if re.match(r'[a-z]+:', img): continue
        f = (ROOT / src).parent / img
        if f.is_file():
            dest = (out / page_name(src)).parent / img
            dest.parent.mkdir(parents=True, exist_ok=True); shutil.copy(f, dest)

def build(out=ROOT / '_site'):
    out = Path(out)
    if out.exists(): shutil.rmtree(out)
    (out / 'static' / 'mathjax').mkdir(parents=True)
    (out / 'nbs').mkdir()
    import mathjax
    shutil.copy(Path(mathjax.__file__).parent / 'static' / 'mathjax' / 'es5' / 'tex-svg.js', out / 'static' / 'mathjax' / 'tex-svg.js')
    shutil.copy(HERE / 'search.js', out / 'static' / 'search.js')
    paths = sorted((ROOT / 'nbs').glob('*.ipynb'))
    loaded = {p: nbformat.read(p, as_version=4) for p in paths}
    plan = lectures((ROOT / TEACHING).read_text())
    pages = plan_pages({p: nb_title(nb, p.stem) for p, nb in loaded.items()}, plan)
    extra = linked_pages(pages, loaded)
    sources = {p.src: p.name for p in pages + extra if p.src}
    links, files = prev_next(pages), set()
    exporter = HTMLExporter(template_file=str(TEMPLATE), exclude_input_prompt=True, exclude_output_prompt=True)
    index = []
    def write(page, nb, src, after=''):
        root = '../' * page.name.count('/')
        for c in nb.cells:
            if c.cell_type == 'markdown': c.source = rewrite_links(c.source, src, sources, files).replace('{root}', root)
        bar = pager(page, links, root)
        nb.metadata['title'] = re.sub(r'[$\\]', '', page.title) + ' | M3I course'     # a browser tab shows no TeX
        body, _ = exporter.from_notebook_node(nb, resources=dict(
            sidebar=sidebar(pages, page.name, root), site_root=root, after=after, top=bar + download_link(page, root), bottom=bar))
        body = body.replace('</h1>', '</h1>' + contents(body), 1) if '</h1>' in body else body   # under the page's title
        (out / page.name).parent.mkdir(parents=True, exist_ok=True)
        (out / page.name).write_text(body)
        if page.name != 'search.html': index.append(search_entry(page, body))
    md_page = lambda text: nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(text, id='page')])   # fixed id: same build, same HTML
    for page in pages + extra:
        if page.name == 'index.html': write(page, md_page(landing_markdown(plan, pages)), 'index.md')
        elif page.name == 'search.html': write(page, md_page('# Search'), 'search.md', after=SEARCH_BODY)
        elif page.src.endswith('.ipynb'):
            write(page, process(loaded[ROOT / page.src]), page.src)
            shutil.copy(ROOT / page.src, out / 'nbs')                              # what the download link points to
        else:
            text = (ROOT / page.src).read_text()
            write(page, md_page(text), page.src)
            copy_figures(text, page.src, out)
    for rel in sorted(files):
        (out / rel).parent.mkdir(parents=True, exist_ok=True); shutil.copy(ROOT / rel, out / rel)
    (out / 'search-index.js').write_text(search_index_js(index))
    (out / 'pages.json').write_text(json.dumps([dict(page=p.name, title=p.title, group=p.group, src=p.src) for p in pages + extra],
                                               indent=1) + '\n')
    return out, pages + extra

if __name__ == '__main__':
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--out', default=str(ROOT / '_site'))
    out, pages = build(ap.parse_args().out)
    bad = broken_links(out)
    for page, url, why in bad: print(f'broken link in {page}: {url} ({why})')
    print(f'{len(pages)} pages written to {out} (open {out / "index.html"}); {len(bad)} broken internal links')
    raise SystemExit(1 if bad else 0)
