"The offline course site builds from the notebooks and the docs, with nothing fetched from the network."
import json, re, sys
from pathlib import Path
import pytest
pytestmark = pytest.mark.slow           # builds the whole course site once (module fixture)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'docs' / 'site'))

@pytest.fixture(scope='module')
def site(tmp_path_factory):
    import build
    out, pages = build.build(tmp_path_factory.mktemp('site'))
    return out, pages

def test_every_notebook_is_a_page_in_lesson_order_with_the_readme_as_home(site):
    out, pages = site
    names = [p for p, _, _ in pages]
    lessons = [n for n in names if '/' not in n and n != 'index.html']
    assert lessons == sorted(p.stem + '.html' for p in (ROOT / 'nbs').glob('*.ipynb'))
    assert names[0] == 'index.html' and 'm3i-ref' in (out / 'index.html').read_text()
    for n in names: assert (out / n).exists(), n
    assert 'docs/results/shapes/pipelines/pipelines.html' in names and (out / 'docs/results/shapes/pipelines/pipelines.png').exists()
    page = (out / '07_methods.html').read_text()
    assert page.count('<nav class="site">') == 1 and all(f'href="{l}"' in page for l in lessons)   # the sidebar lists every lesson

def test_nothing_is_fetched_and_math_is_typeset_by_a_local_mathjax(site):
    out, pages = site
    assert (out / 'static/mathjax/tex-svg.js').stat().st_size > 1_000_000
    remote = re.compile(r"""<(?:script|link|img|iframe)\b[^>]*(?:src|href)=["'](?:https?:)?//""", re.I)
    for n, _, _ in pages:
        text = (out / n).read_text()
        assert not remote.search(text), n
        root = '../' * n.count('/')
        assert f'src="{root}static/mathjax/tex-svg.js"' in text and "inlineMath: [['$', '$']" in text, n

def test_notebooks_are_processed_like_nbdev_docs(site):
    out, _ = site
    page = (out / '00_mutual_information.html').read_text()
    assert '#| export' not in page and '#| default_exp' not in page and 'default_exp' not in page
    text = re.sub(r'<[^>]+>', '', page)
    assert 'def gaussian_nll(pred, target, sigma=1.0):' in text        # exported code is shown as code
    assert 'needs a live' in text                                      # the widget's note
    assert 'In&nbsp;[' not in page and 'In [ ]:' not in text           # no prompts
    assert '# Solution (run by the tests' in text

def test_links_between_pages_point_into_the_site(site):
    out, _ = site
    index = (out / 'index.html').read_text()
    assert 'href="docs/results/shapes/pipelines/pipelines.html"' in index and '.md"' not in re.sub(r'<code>.*?</code>', '', index, flags=re.S)
