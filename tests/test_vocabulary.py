"""One vocabulary for results (issue 25): the floors, the seed statistics and the dataset list are each written once,
and the benchmark and pipeline code name no row except through the table. These tests grep the package for a second
implementation, so a copy added later fails here."""
import ast, re
from pathlib import Path
from m3i_ref.methods import ROW, METHODS

PKG = Path(__file__).resolve().parent.parent / 'm3i_ref'
SOURCES = {p.name: p.read_text() for p in sorted(PKG.glob('*.py')) if p.name != '_modidx.py'}

def _defs(pattern):
    return sorted((name, m.group(1)) for name, src in SOURCES.items() for m in re.finditer(rf'^def ({pattern})\(', src, re.M))

def test_the_floors_are_computed_in_one_place():
    "Only `results` computes floors: no other module defines a *floors function or measures raw pixels, chance or an untrained encoder itself."
    outside = [d for d in _defs(r'\w*floors') if d[0] != 'results.py']
    assert ('results.py', 'floors') in _defs(r'\w*floors') and outside == [('lesson.py', 'plot_floors')], outside   # a picture of them, not a computation
    for name, src in SOURCES.items():
        if name in ('results.py', 'evaluate.py'): continue           # evaluate defines the measures, results applies them
        for call in ('raw_pixel_features(', 'chance_accuracy(', 'initial_encoder('):
            assert call not in src, f'{name} calls {call}..): floors are results.floors'

def test_the_seed_statistics_are_written_once():
    for fn in ('t_critical', 'paired_stats', 'verdict_of', 'paired_verdict', 'average_ranks', 'spearman'):
        assert [n for n, _ in _defs(fn)] == ['results.py'], f'{fn} is defined outside results'
    for name, src in SOURCES.items():
        if name != 'results.py': assert 'T975' not in src.replace('from .results import', ''), name

def test_the_dataset_list_is_written_once():
    for name, src in SOURCES.items():
        if name == 'data.py': continue
        tree = ast.parse(src)
        assert not [n.lineno for n in ast.walk(tree) if isinstance(n, ast.Constant) and n.value in ('cifar100', 'ImageFolder')], \
            f'{name} names a dataset itself: use data.DATASETS / CIFAR_DATASETS'

def test_bench_and_pipelines_name_rows_only_through_the_table():
    "Row names as string literals appear only in the pipeline and plain-baseline definitions, not in the report code."
    names = set(ROW) | set(METHODS)
    for name in ('bench.py', 'pipelines.py'):
        for node in ast.parse(SOURCES[name]).body:
            if isinstance(node, ast.Assign) and any(getattr(t, 'id', '') in ('PIPELINES', 'BENCH_PIPELINES', 'PLAIN_BASELINES') for t in node.targets):
                continue
            hits = [(n.lineno, n.value) for n in ast.walk(node) if isinstance(n, ast.Constant) and n.value in names]
            assert not hits, f'{name} names rows as literals at {hits}: read them from methods (ROW, M3I_METHODS, *_PAIRS, FLOOR_METHOD)'
