"""The offline course site builds from the notebooks and the docs, with nothing fetched from the network, and is shaped
as a course (issue 26): a home page made from the lecture plan, a sidebar grouped by lecture, previous/next links, a
contents list per page, an offline search, folded exported code and solutions, notebook downloads, links that resolve."""
import html, importlib.util, json, re
from html.parser import HTMLParser
from pathlib import Path
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]

def load(name, path):
    "docs/site/build.py by its path (a module named `build` is also pypa's build package)."
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
    return module

build = load('site_build', ROOT / 'docs' / 'site' / 'build.py')

slow = pytest.mark.slow                 # builds the whole course site once (module fixture)

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    out, pages = build.build(tmp_path_factory.mktemp('site'))
    return out, pages

def plan():
    "The sessions of docs/teaching.md, read here without build.py: (title, notebooks, minutes, outcomes)."
    rows = re.findall(r'^\| (\d)\. ([^|]+) \| ([^|]+) \| (\d+) \| [^|]+ \| ([^|]+) \|', (ROOT / 'docs/teaching.md').read_text(), re.M)
    assert len(rows) == 4
    return [(f'Lecture {n}: {t.strip()}', re.findall(r'`([^`]+)`', nbs), int(m), [o.strip() for o in outs.split(';')])
            for n, t, nbs, m, outs in rows]

def lecture_stems():
    return [s for _, nbs, _, _ in plan() for s in nbs]

class Outline(HTMLParser):
    "A page's sidebar (groups and links), pager links, contents links, ids, and <details> blocks with their text."
    def __init__(self):
        super().__init__()
        self.groups, self.ids, self.toc, self.prev, self.next, self.details = [], set(), [], None, None, []
        self.stack, self.in_nav, self.in_h3, self.in_toc, self.open = [], False, False, False, []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'])
        if tag == 'nav' and a.get('class') == 'site': self.in_nav = True
        if self.in_nav and tag == 'h3': self.in_h3 = True; self.groups.append([None, []])
        if self.in_nav and tag == 'a' and self.groups: self.groups[-1][1].append([a['href'], ''])
        if tag == 'a' and a.get('rel') == 'prev': self.prev = self.prev or a['href']
        if tag == 'a' and a.get('rel') == 'next': self.next = self.next or a['href']
        if tag == 'details' and 'site-toc' in (a.get('class') or ''): self.in_toc = True
        if self.in_toc and tag == 'a': self.toc.append(a['href'])
        if tag == 'details': self.open.append([a.get('class') or '', []])
    def handle_endtag(self, tag):
        if tag == 'nav': self.in_nav = False
        if tag == 'h3': self.in_h3 = False
        if tag == 'details':
            cls, text = self.open.pop()
            if 'site-toc' in cls: self.in_toc = False
            self.details.append((cls, ''.join(text)))
            if self.open: self.open[-1][1].extend(text)
    def handle_data(self, data):
        if self.in_h3: self.groups[-1][0] = (self.groups[-1][0] or '') + data
        elif self.in_nav and self.groups and self.groups[-1][1]: self.groups[-1][1][-1][1] += data
        if self.open: self.open[-1][1].append(data)

def outline(path):
    o = Outline(); o.feed(Path(path).read_text()); return o

# ---------------------------------------------------------------- the parts, without a build

def test_the_lecture_plan_is_read_from_its_table_and_a_broken_table_is_refused():
    lecs = build.lectures((ROOT / 'docs/teaching.md').read_text())
    assert [(build.lecture_group(l), l['notebooks'], l['minutes'], l['outcomes']) for l in lecs] == plan()
    table = '| session | notebooks | minutes | the question it answers | after it, a student can | in-class exercise |\n|---|---|---|---|---|---|\n'
    assert build.lectures(table + '| 1. A | `00_x` | 45 | why? | do a; do b | try |\n')[0]['outcomes'] == ['do a', 'do b']
    with pytest.raises(ValueError, match='cells'): build.lectures(table + '| 1. A | `00_x` | 45 | why? | try |\n')
    with pytest.raises(ValueError, match='no table'): build.lectures(table.replace('| session', '| lecture'))

def test_a_listed_page_that_is_missing_stops_the_build_and_a_results_index_leads_the_results(monkeypatch):
    notebooks = {ROOT / 'nbs' / f'{s}.ipynb': s for s in lecture_stems()}
    lecs = build.lectures((ROOT / 'docs/teaching.md').read_text())
    monkeypatch.setattr(build, 'RESULTS', build.RESULTS + ['docs/results/moved/quality.md'])
    with pytest.raises(FileNotFoundError, match='docs/results/moved/quality.md'): build.plan_pages(notebooks, lecs)
    monkeypatch.setattr(build, 'RESULTS', ['docs/results/shapes/64k/seed0/quality.md'])
    monkeypatch.setattr(build, 'RESULTS_INDEX', 'docs/results/README.md')          # stands in for docs/results/index.md
    results = [p.src for p in build.plan_pages(notebooks, lecs) if p.group == 'Results']
    assert results == ['docs/results/README.md', 'docs/results/shapes/64k/seed0/quality.md']
    monkeypatch.setattr(build, 'RESULTS_INDEX', 'docs/results/not-there.md')      # absent: the list alone
    assert [p.src for p in build.plan_pages(notebooks, lecs) if p.group == 'Results'] == ['docs/results/shapes/64k/seed0/quality.md']

def test_the_link_checker_catches_a_missing_file_and_a_missing_anchor(tmp_path):
    (tmp_path / 'sub').mkdir()
    (tmp_path / 'a.html').write_text('<h2 id="x">X</h2><a href="#x">ok</a><a href="sub/b.html#y">ok</a><a href="https://e.org/z">ext</a>'
                                     '<img src="sub/f.png">')
    (tmp_path / 'sub' / 'b.html').write_text('<p id="y"></p><a href="../a.html">ok</a>')
    (tmp_path / 'sub' / 'f.png').write_bytes(b'')
    assert build.broken_links(tmp_path) == []
    (tmp_path / 'sub' / 'b.html').write_text('<p id="y"></p><a href="../a.html#nope">x</a><a href="../c.html">x</a><a href="#gone">x</a>')
    assert sorted(build.broken_links(tmp_path)) == [('sub/b.html', '#gone', 'no such anchor'), ('sub/b.html', '../a.html#nope', 'no such anchor'),
                                                    ('sub/b.html', '../c.html', 'no such file')]

def test_contents_lists_the_h2_and_h3_headings_by_their_anchors():
    body = ('<h1 id="T">T</h1><h2 id="A-b">A b<a class="anchor-link" href="#A-b">¶</a></h2><p>x</p>'
            '<h3 id="C">C $x$</h3><h4 id="D">D</h4>')
    toc = build.contents(body)
    assert re.findall(r'href="([^"]+)"', toc) == ['#A-b', '#C'] and '¶' not in toc and 'C $x$' in toc
    assert build.contents('<h2 id="A">A</h2>') == ''                # one heading: no list

def test_export_and_solution_cells_are_marked_to_fold():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell('#| default_exp views'),
                                         nbformat.v4.new_code_cell('#| export\ndef f(): pass\nclass G: pass'),
                                         nbformat.v4.new_code_cell('#|export\nx = 1'),
                                         nbformat.v4.new_code_cell('#| solution\nprint(1)'),
                                         nbformat.v4.new_code_cell('y = 2')])
    cells = build.process(nb).cells
    assert [c.metadata.get('site_fold') for c in cells] == ['export', 'export', 'solution', None]
    assert cells[0].metadata['site_summary'] == 'Code exported to m3i_ref.views: f, G (click to open)'
    assert cells[0].source == 'def f(): pass\nclass G: pass'

def test_a_search_entry_holds_the_visible_text_and_headings_but_not_the_menus():
    body = ('<nav class="site"><a href="x">Side</a></nav><main><nav class="site-pager"><a>prev</a></nav>'
            '<p class="site-download"><a>dl</a></p><h1 id="T">Title<a class="anchor-link" href="#T">¶</a></h1>'
            '<details class="site-toc"><summary>On</summary><ul><li><a href="#A">A</a></li></ul></details>'
            '<h2 id="A">Head A<a class="anchor-link">¶</a></h2><p>Body <a href="y">link</a> text</p>'
            '<details class="site-fold"><summary>Code exported</summary><pre>def f(): pass</pre></details><script>var s;</script></main>')
    entry = build.search_entry(build.Page('p.html', 'p.md', 'T', 'G'), body)
    assert entry['text'] == 'Title Head A Body link text def f(): pass'
    assert entry['headings'] == [dict(id='A', text='Head A')] and entry['page'] == 'p.html'

# ---------------------------------------------------------------- the built site

@slow
def test_every_notebook_and_listed_doc_is_a_page_with_the_course_plan_as_home(site):
    out, pages = site
    names = [p.name for p in pages]
    notebook_pages = [p.name for p in pages if p.src and p.src.endswith('.ipynb')]
    assert sorted(notebook_pages) == sorted(p.stem + '.html' for p in (ROOT / 'nbs').glob('*.ipynb'))
    for n in names: assert (out / n).exists(), n
    for src in build.PROJECT_DOCS + build.RESULTS: assert build.page_name(src) in names, src
    assert 'docs/results/shapes/pipelines/pipelines.html' in names and (out / 'docs/results/shapes/pipelines/pipelines.png').exists()
    assert names[0] == 'index.html'
    home, about = [html.unescape(re.sub(r'<[^>]+>', '', (out / n).read_text())) for n in ('index.html', 'about.html')]
    assert 'bash install.sh' not in home and 'Quick start' not in home                  # the README is no longer the home page
    assert 'Quick start' in about and 'bash install.sh' in about and 'href="about.html"' in (out / 'index.html').read_text()

@slow
def test_the_home_page_lists_every_lecture_with_its_notebooks_minutes_and_outcomes(site):
    out, _ = site
    home = (out / 'index.html').read_text()
    text = html.unescape(re.sub(r'<[^>]+>', '', home))
    for group, nbs, minutes, outcomes in plan():
        section = text.split(f'{group} ({minutes} minutes)')[2]              # [0] before, [1] its contents entry, [2] the section
        section = section.split('Lecture ')[0]
        for s in nbs:
            assert f'({s})' in section, (group, s)
            assert f'href="{s}.html"' in home
        for o in outcomes: assert re.sub(r'\s+', ' ', o) in section, (group, o)
    for p in ['03a_convnet', '04_distributed', '14_cli', '15_bench']: assert f'href="{p}.html"' in home   # reference notebooks

@slow
def test_the_sidebar_groups_pages_by_lecture_with_titles(site):
    out, pages = site
    o = outline(out / '11b_results.html')
    groups = [g for g, _ in o.groups]
    assert groups == [g for g, _, _, _ in plan()] + ['Reference notebooks', 'Results', 'Project docs']
    links = {g: [h for h, _ in ls] for g, ls in o.groups}
    for g, nbs, _, _ in plan(): assert links[g] == [f'{s}.html' for s in nbs], g
    rest = sorted(p.stem for p in (ROOT / 'nbs').glob('*.ipynb') if p.stem not in lecture_stems())
    assert links['Reference notebooks'] == [f'{s}.html' for s in rest]
    results = ([build.RESULTS_INDEX] if (ROOT / build.RESULTS_INDEX).exists() else []) + build.RESULTS
    assert links['Results'] == [build.page_name(s) for s in results]
    assert links['Project docs'][0] == 'about.html'
    titles = [t.strip() for _, ls in o.groups for _, t in ls]
    assert 'The mutual-information objective' in titles and 'About / install' in titles
    for t in titles: assert not re.search(r'\.(md|html|ipynb)\b|\w/\w', t), t                 # titles, not file names
    for g, ls in o.groups: assert len({t for _, t in ls}) == len(ls), g                # told apart within a group

@slow
def test_previous_and_next_links_chain_every_lesson_in_lecture_order(site):
    out, _ = site
    rest = sorted(p.stem for p in (ROOT / 'nbs').glob('*.ipynb') if p.stem not in lecture_stems())
    order = [f'{s}.html' for s in lecture_stems() + rest]
    seen, page = [], order[0]
    assert outline(out / page).prev == 'index.html'
    while page:
        seen.append(page)
        o = outline(out / page)
        if len(seen) > 1: assert o.prev == seen[-2], page
        page = o.next
    assert seen == order

@slow
def test_every_contents_entry_points_to_a_heading_of_its_page(site):
    out, pages = site
    with_toc = 0
    for p in pages:
        o = outline(out / p.name)
        for href in o.toc: assert href.startswith('#') and html.unescape(href[1:]) in o.ids, (p.name, href)
        heads = re.findall(r'<h[23] id="([^"]+)"', (out / p.name).read_text())
        if len(heads) > 1: assert [html.unescape(h[1:]) for h in o.toc] == [html.unescape(h) for h in heads], p.name
        with_toc += bool(o.toc)
    assert with_toc > 30

@slow
def test_the_search_index_holds_every_page_and_finds_a_known_word(site):
    out, pages = site
    js = (out / 'search-index.js').read_text()
    assert js.startswith('window.SITE_SEARCH_INDEX = ')
    index = json.loads(js[len('window.SITE_SEARCH_INDEX = '):].rstrip().rstrip(';'))
    assert sorted(e['page'] for e in index) == sorted(p.name for p in pages if p.name != 'search.html')
    by_page = {e['page']: e for e in index}
    assert 'infonce' in by_page['00_mutual_information.html']['text'].lower()
    assert not any('infonce' in by_page[p]['text'].lower() for p in ['01_data.html', 'docs/results/speed/speed-cifar-cpu-cpu.html'])
    assert any(h['id'] == 'Patches' for h in by_page['02_views.html']['headings'])
    search = (out / 'search.html').read_text()
    assert '<script src="search-index.js"></script>' in search and '<script src="static/search.js"></script>' in search
    assert (out / 'static/search.js').exists() and 'fetch(' not in (out / 'static/search.js').read_text()   # file:// may not fetch
    assert 'action="search.html"' in (out / '07_methods.html').read_text()                                 # the box on every page

@slow
def test_exported_code_and_solutions_are_folded(site):
    out, _ = site
    total_export = total_solution = 0
    for nb_path in sorted((ROOT / 'nbs').glob('*.ipynb')):
        nb = build.process(nbformat.read(nb_path, as_version=4))
        n_export = sum(c.metadata.get('site_fold') == 'export' for c in nb.cells)
        n_solution = sum(c.metadata.get('site_fold') == 'solution' for c in nb.cells)
        o = outline(out / (nb_path.stem + '.html'))
        assert sum('site-export' in c for c, _ in o.details) == n_export, nb_path.name
        assert sum('site-solution' in c for c, _ in o.details) == n_solution, nb_path.name
        total_export += n_export; total_solution += n_solution
    assert total_export > 50 and total_solution >= 24
    o = outline(out / '00_mutual_information.html')
    folded = ' '.join(t for c, t in o.details if 'site-fold' in c)
    assert 'def gaussian_nll(pred, target, sigma=1.0):' in folded and '# Solution (run by the tests' in folded
    page = (out / '00_mutual_information.html').read_text()
    unfolded = re.sub(r'<details class="site-fold.*?</details>', '', page, flags=re.S)
    assert 'gaussian_nll</span><span class="p">(</span><span class="n">pred' not in unfolded and '# Solution' not in unfolded
    assert '<details class="site-fold site-export"><summary>Code exported to m3i_ref.' in page and '<details open' not in page

@slow
def test_every_notebook_page_links_its_notebook_for_download(site):
    out, pages = site
    for p in pages:
        if not (p.src and p.src.endswith('.ipynb')): continue
        name = Path(p.src).name
        assert f'href="nbs/{name}"' in (out / p.name).read_text(), p.name
        assert (out / 'nbs' / name).read_bytes() == (ROOT / p.src).read_bytes()

@slow
def test_every_internal_link_resolves(site):
    out, _ = site
    assert build.broken_links(out) == []
    assert len(list(out.rglob('*.html'))) > 50

@slow
def test_the_layout_has_a_phone_menu(site):
    out, _ = site
    page = (out / '07_methods.html').read_text()
    assert '@media (max-width: 700px)' in page and 'id="site-menu-toggle"' in page and '.site-menu-toggle:checked ~ .site-menu' in page

def test_the_committed_browser_report_passed_at_phone_width_with_search_and_links():
    report = json.loads((ROOT / 'docs/site/check_browser.json').read_text())
    assert report['failed'] == 0 and report['search']['ok'] and report['broken_links'] == []
    assert report['search']['expected'] in report['search']['hits']
    pages = {p['page'] for p in report['pages']}
    assert {'index.html', 'search.html', '00_mutual_information.html', 'about.html'} <= pages
    for p in report['pages']: assert p['ok'] and p['phone_window_width'] == 390 and p['phone_scroll_width'] <= 390, p['page']
    for shot in ['index-phone.png', '02_views-phone.png', 'index.png']: assert (ROOT / 'docs/site/screenshots' / shot).exists()

@slow
def test_nothing_is_fetched_and_math_is_typeset_by_a_local_mathjax(site):
    out, pages = site
    assert (out / 'static/mathjax/tex-svg.js').stat().st_size > 1_000_000
    remote = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)=["'](?:https?:)?//""", re.I)
    for p in pages:
        text = (out / p.name).read_text()
        assert not remote.search(text), p.name
        root = '../' * p.name.count('/')
        assert f'src="{root}static/mathjax/tex-svg.js"' in text and "inlineMath: [['$', '$']" in text, p.name

@slow
def test_notebooks_are_processed_like_nbdev_docs(site):
    out, _ = site
    page = (out / '00_mutual_information.html').read_text()
    assert '#| export' not in page and '#| default_exp' not in page and 'default_exp' not in page
    text = re.sub(r'<[^>]+>', '', page)
    assert 'def gaussian_nll(pred, target, sigma=1.0):' in text        # exported code is shown as code (folded)
    assert 'needs a live' in text                                      # the widget's note
    assert 'In&nbsp;[' not in page and 'In [ ]:' not in text           # no prompts
    assert '# Solution (run by the tests' in text

@slow
def test_links_between_pages_point_into_the_site(site):
    out, _ = site
    about = (out / 'about.html').read_text()
    assert 'href="docs/results/shapes/pipelines/pipelines.html"' in about and not re.search(r'href="[^"]*\.(md|ipynb)[#"]', about)
    assert 'href="../../docs/results/cifar10/budgets.html"' in (out / 'docs/results/README.html').read_text()     # a linked page outside the lists
    assert (out / 'docs/results/cifar10/budgets.html').exists()
