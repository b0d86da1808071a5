"""The BYOL and Barlow Twins page: id_variant='byol' and 'barlow' (their recipes exactly) against MoCo ('moco', our
one-directional InfoNCE, the row's default until docs/results/ablations/cifar/mocov3) and MoCo v3 ('mocov3', the default
since), toy data, 3 seeds, paired by seed. Reads runs/<variant>/seed<k>/runs/instance_discrimination.json
(run.sh), the MoCo and MoCo v3 runs of the DINO page (../dino/runs) and the floors of the toy benchmark (shapes/64k/seed<k>);
writes byol-barlow.md and byol-barlow.json beside this file (or into the folder given as the first argument).
Usage: python docs/results/ablations/toy/byol-barlow/report.py [OUT_DIR]"""
import json, pathlib, sys
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[5]))
from m3i_ref.results import paired_comparisons, VERDICT_RULE, markdown_table, date_span, seeds_cell, seed_record, probe_seed_note

here = pathlib.Path(__file__).resolve().parent
out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here
FOLDERS = {'byol': here / 'runs' / 'byol', 'barlow': here / 'runs' / 'barlow',
           'moco': here.parent / 'dino' / 'runs' / 'moco', 'mocov3': here.parent / 'dino' / 'runs' / 'mocov3'}
TITLES = {'byol': 'BYOL', 'barlow': 'Barlow Twins', 'moco': 'MoCo (`moco`)', 'mocov3': 'MoCo v3'}
FLOORS = ('random_init', 'raw_pixels', 'chance')
METRICS = {'knn_top1': 'kNN', 'linear_top1': 'linear'}
SEEDS = (0, 1, 2)
read = lambda p: json.loads(p.read_text())
runs = {v: [read(f / f'seed{s}' / 'runs' / 'instance_discrimination.json') for s in SEEDS] for v, f in FOLDERS.items()}
floors = {f: [read(here.parents[2] / 'shapes' / '64k' / f'seed{s}' / 'runs' / f'{f}.json') for s in SEEDS] for f in FLOORS}
for v, rs in runs.items():                   # each run is what its folder says, at the floors' preset and test set
    for s, r in zip(SEEDS, rs):
        assert r['config']['seed'] == s and r['config']['id_variant'] == v and r['preset'] == 'toy', (v, s)
        assert r['test_images'] == floors['random_init'][s]['test_images'] and r['images_seen'] == runs['moco'][s]['images_seen']
table = {v: seed_record(rs, METRICS) for v, rs in {**runs, **floors}.items()}
PAIRS = [('byol', 'moco'), ('barlow', 'moco'), ('byol', 'mocov3'), ('barlow', 'mocov3'), ('byol', 'barlow'),
         ('byol', 'random_init'), ('barlow', 'random_init')]
comparisons, crows = paired_comparisons(table, PAIRS, METRICS, lambda a, b: f"{TITLES.get(a, a)} vs {TITLES.get(b, b.replace('_', ' '))}")
rows = [[TITLES.get(v, v.replace('_', ' ') + ' (floor)'), *(seeds_cell(table[v][m]) for m in METRICS)] for v in [*FOLDERS, *FLOORS]]
when = date_span(r['date'] for rs in runs.values() for r in rs)
lines = ["# BYOL and Barlow Twins beside MoCo and MoCo v3 (instance discrimination, toy data, 3 seeds)", '',
         'Commands: `bash docs/results/ablations/toy/byol-barlow/run.sh` (6 runs: `m3i-ref bench quality --preset toy --runs '
         'instance_discrimination --out docs/results/ablations/toy/byol-barlow/runs/VARIANT/seedK --set id_variant=VARIANT --set seed=K`), '
         'then `python docs/results/ablations/toy/byol-barlow/report.py`. MoCo and MoCo v3 are the runs of the DINO page '
         '(`docs/results/ablations/toy/dino/run.sh`, the same command with their variant), the floors those of the toy benchmark '
         f"(`docs/results/shapes/64k/seed0..2`). {when}.", '',
         f"Toy preset, {runs['moco'][0]['images_seen']:,} images seen per run, test set {runs['moco'][0]['test_images']:,} images "
         '(one image is 0.1 points); kNN (k=200, t=0.1) and the linear probe, per seed 0 / 1 / 2. Each variant runs its '
         'recipe exactly as `m3i-ref methods --defaults` lists it (BYOL: its MLPs, both directions summed, EMA base 0.996; '
         "Barlow Twins: its projector, no predictor, its loss, no momentum encoder); the preset's widths, ViT, views and optimiser are ours.", '',
         *markdown_table(['run', 'kNN top-1', 'linear top-1'], rows), '',
         *markdown_table(['comparison (paired by seed)', 'per seed', 'mean', 'verdict'], crows), '', *probe_seed_note(comparisons),
         VERDICT_RULE, '']
(out / 'byol-barlow.md').write_text('\n'.join(lines))
(out / 'byol-barlow.json').write_text(json.dumps(dict(seeds=list(SEEDS), preset='toy', images_seen=runs['moco'][0]['images_seen'],
                                                      runs=table, comparisons=comparisons), indent=1) + '\n')
print('\n'.join(lines))
