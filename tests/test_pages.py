"""Every benchmark page is regenerated from the run files beside it, with the command written on it, and must equal the
committed page byte for byte: a page cannot go stale against its data or against the code that writes it (its
statistics, its floors, its verdict rule). Pictures are redrawn but not compared."""
import importlib.util, re, shutil, sys
from pathlib import Path
import pytest
from m3i_ref.bench import quality_report, seed_report, budget_report
from m3i_ref.pipelines import pipeline_report

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / 'docs' / 'results'

def command_of(page):
    m = re.search(r'^Command: `(.*)`', page.read_text(), re.M)
    assert m, f'{page} does not say the command that made it'
    return m.group(1)

def args_of(command, name):
    "The folders and --out of a `m3i-ref bench NAME A B ... --out X` command."
    words = command.split()
    assert words[:3] == ['m3i-ref', 'bench', name], command
    out = words[words.index('--out') + 1] if '--out' in words else None
    folders = [w for i, w in enumerate(words[3:], 3) if not w.startswith('--') and words[i - 1] != '--out']
    return folders, out

QUALITY = sorted(BENCH.rglob('quality.md'))
SEEDS = sorted(BENCH.rglob('seeds.md'))
BUDGETS = sorted(BENCH.rglob('budgets.md'))
PIPELINES = sorted(BENCH.rglob('pipelines.md'))
OUTSIDE = sorted(BENCH.rglob('outside.md'))           # docs/results/outside: lightly's runs beside ours (issue 24)

def test_the_pages_are_found():
    assert len(QUALITY) > 30 and len(SEEDS) >= 4 and len(BUDGETS) >= 2 and len(PIPELINES) >= 2 and len(OUTSIDE) >= 1

def _same(made, committed):
    assert made.read_text() == committed.read_text(), f'{committed.relative_to(ROOT)} is stale: regenerate it with the command on it'

@pytest.mark.parametrize('page', QUALITY, ids=lambda p: str(p.parent.relative_to(BENCH)))
def test_quality_page_is_what_its_runs_give(page, tmp_path):
    shutil.copytree(page.parent / 'runs', tmp_path / 'runs')
    quality_report(tmp_path, command_of(page))
    for name in ('quality.md', 'quality.json'):
        if (page.parent / name).exists(): _same(tmp_path / name, page.parent / name)

@pytest.mark.parametrize('page', SEEDS, ids=lambda p: str(p.parent.relative_to(BENCH)))
def test_seed_page_is_what_its_folders_give(page, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)                                   # the command names folders from the repository root
    folders, out = args_of(command_of(page), 'seeds')
    assert (ROOT / out).resolve() == page.resolve(), f'{page}: its command writes {out}'
    seed_report(folders, tmp_path / 'seeds.md', command=command_of(page))
    _same(tmp_path / 'seeds.md', page); _same(tmp_path / 'seeds.json', page.with_suffix('.json'))

@pytest.mark.parametrize('page', BUDGETS, ids=lambda p: str(p.parent.relative_to(BENCH)))
def test_budget_page_is_what_its_folders_give(page, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    folders, out = args_of(command_of(page), 'budgets')
    assert (ROOT / out).resolve() == page.parent.resolve()
    budget_report(folders, tmp_path, command=command_of(page))
    _same(tmp_path / 'budgets.md', page)

@pytest.mark.parametrize('page', PIPELINES, ids=lambda p: str(p.parent.relative_to(BENCH)))
def test_pipeline_page_is_what_its_stages_give(page, tmp_path):
    for seed in page.parent.glob('seed*'): shutil.copytree(seed, tmp_path / seed.name)
    pipeline_report(tmp_path, command_of(page))
    _same(tmp_path / 'pipelines.md', page); _same(tmp_path / 'pipelines.json', page.with_suffix('.json'))

def _outside_script():
    "docs/results/outside/outside.py by its path; importing it imports no lightly (only its outside runs do)."
    spec = importlib.util.spec_from_file_location('outside_refs', BENCH / 'outside' / 'outside.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

@pytest.mark.parametrize('page', OUTSIDE, ids=lambda p: str(p.parent.relative_to(BENCH)))
def test_outside_page_is_what_its_run_files_give(page, tmp_path):
    """An outside-reference page is rewritten from its run files (outside/, ours/, floors/) by the script's `report`, without
    lightly (no test imports it: it is no dependency of m3i-ref) and without training: it equals the committed page."""
    outside = _outside_script()
    for sub in ('outside', 'ours', 'floors'): shutil.copytree(page.parent / sub, tmp_path / sub)
    outside.report(tmp_path, command_of(page))
    _same(tmp_path / 'outside.md', page); _same(tmp_path / 'outside.json', page.with_suffix('.json'))
    assert 'lightly' not in sys.modules

def test_the_index_lists_every_page_and_is_what_the_pages_give(tmp_path, monkeypatch):
    "docs/results/index.md is generated from the pages and their JSON: regenerated, it equals the committed one, and it links every page."
    monkeypatch.chdir(ROOT)
    from m3i_ref.bench import results_index
    made = tmp_path / 'index.md'
    results_index(BENCH, made)
    _same(made, BENCH / 'index.md')
    text = made.read_text()
    for page in BENCH.rglob('*.md'):
        if page.name != 'index.md' and not page.name.endswith('.tmpl.md') and 'runs' not in page.parts:
            rel = page.relative_to(BENCH).as_posix()
            assert f'[{rel}]({rel})' in text, f'{rel} is not in the index'
