"""Execute every notebook through nbdev (cells flagged notest/slow/gpu/ddp are skipped; IN_TEST shrinks the work).
Exercise solutions (`#| solution`) are a tst_flag, so a student's `nbdev-test` skips them; CI runs them here."""
from pathlib import Path
import pytest
from nbdev.test import test_nb as run_nb   # the alias keeps pytest from collecting nbdev's function
from nbdev.config import get_config

NBS = sorted((Path(__file__).resolve().parent.parent / 'nbs').glob('[0-9]*.ipynb'))

def test_there_are_notebooks():
    assert len(NBS) >= 10

def test_every_notebook_ends_with_a_summary_exercises_a_tested_solution_and_references():
    "Solutions are marked `#| solution` (so they can be hidden or skipped) and this suite does not skip that flag."
    import json
    assert 'solution' in get_config().tst_flags.split()
    for nb in NBS:
        cells = [''.join(c['source']) for c in json.loads(nb.read_text())['cells']]
        text = '\n'.join(cells)
        assert any(c.startswith('#| solution') for c in cells), f'{nb.name}: no solution cell'
        for part in ('## Summary', 'Exercise', '### References'): assert part in text, f'{nb.name}: no {part!r}'

@pytest.mark.notebook
@pytest.mark.parametrize('nb', NBS, ids=lambda p: p.stem)
def test_notebook(nb, monkeypatch):
    monkeypatch.chdir(nb.parent)
    ok, secs = run_nb(nb, skip_flags=[f for f in get_config().tst_flags.split() if f != 'solution'])
    assert ok, f'{nb.name} failed'

LESSONS = ['08_supervised_clip', '09_intra_view', '10_inter_view', '13_m3i', '13a_pipelines']
SKIP = [f for f in get_config().tst_flags.split() if f != 'solution']

@pytest.mark.notebook
@pytest.mark.parametrize('name', LESSONS)
def test_lesson_runs_in_fast_mode(name, monkeypatch):
    """What a teacher does in class (docs/teaching.md): M3I_STEPS set, on the full toy data (not IN_TEST), every cell run
    in order, solutions included. Result asserts about the full budget must stand aside; any exception fails the test."""
    import nbformat
    from nbclient import NotebookClient
    monkeypatch.setenv('M3I_STEPS', '20'); monkeypatch.delenv('IN_TEST', raising=False)
    nb = nbformat.read(NBS[0].parent / f'{name}.ipynb', as_version=4)
    for cell in nb.cells:                                     # the cells nbdev's test skips (GPU, DDP, slow) stay skipped
        if cell.cell_type == 'code' and any(l.strip() in (f'#| {f}', f'#|{f}') for l in cell.source.splitlines()[:3] for f in SKIP):
            cell.source = ''
    NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': str(NBS[0].parent)}}).execute()

READS_RESULTS = ['01_data', '08_supervised_clip', '09_intra_view', '10_inter_view', '15_bench']   # the notebooks whose committed outputs print numbers read from docs/results

@pytest.mark.notebook
@pytest.mark.parametrize('name', READS_RESULTS)
def test_committed_outputs_that_read_the_results_are_current(name, monkeypatch):
    """A cell that reads docs/results prints what the JSON says now: the notebook executed afresh (IN_TEST, so the rest is
    small), the printed text of every such cell equals its committed output. A page regenerated without re-executing the
    notebook fails here."""
    import copy, nbformat
    from nbclient import NotebookClient
    monkeypatch.setenv('IN_TEST', '1')
    committed = nbformat.read(NBS[0].parent / f'{name}.ipynb', as_version=4)
    nb = copy.deepcopy(committed)
    for cell in nb.cells:
        if cell.cell_type == 'code' and any(l.strip() in (f'#| {f}', f'#|{f}') for l in cell.source.splitlines()[:3] for f in SKIP):
            cell.source = ''
    NotebookClient(nb, timeout=900, kernel_name='python3', resources={'metadata': {'path': str(NBS[0].parent)}}).execute()
    text = lambda c: ''.join(o.get('text', '') for o in c.get('outputs', []) if o.get('output_type') == 'stream')
    reading = [(a, b) for a, b in zip(committed.cells, nb.cells) if a.cell_type == 'code' and '../docs/results' in a.source]
    assert reading, f'{name} has no cell that reads docs/results'
    for a, b in reading:
        assert text(a) and text(b) == text(a), f'{name}: a cell reading docs/results prints something else now; re-execute the notebook\n{a.source[:200]}'
