"""The DINO page: id_variant='dino' against MoCo ('moco', the row's default when it was made) and MoCo v3 ('mocov3'), and DINO's local crops
(0, 2, 4), on the toy data at 3 seeds. Reads runs/<setting>/seed<k>/runs/instance_discrimination.json (written by run.sh)
and cost.json (cost.py); writes dino.md and dino.json beside this file (or into the folder given as the first argument).
Usage: python docs/results/ablations/toy/dino/report.py [OUT_DIR]"""
import json, pathlib, sys
from m3i_ref.results import paired_comparisons, VERDICT_RULE, markdown_table, date_span, probe_seed_note

here = pathlib.Path(__file__).resolve().parent
out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here
SETTINGS = ('dino-local0', 'dino-local2', 'dino-local4', 'moco', 'mocov3')
METRICS = {'knn_top1': 'kNN', 'linear_top1': 'linear'}
runs = {s: {int(p.parent.parent.name[4:]): json.loads(p.read_text()) for p in sorted((here / 'runs' / s).glob('seed*/runs/instance_discrimination.json'))}
        for s in SETTINGS}
seeds = sorted(set.intersection(*(set(r) for r in runs.values())))
cost = json.loads((here / 'cost.json').read_text())
cfg = lambda s: runs[s][seeds[0]]['config']
table, rows = {}, []
for s in SETTINGS:
    per = {m: [runs[s][k][m] for k in seeds] for m in METRICS}
    table[s] = dict(id_variant=cfg(s)['id_variant'], local_crops=cfg(s)['local_crops'], ema_base=cfg(s)['ema_base'],
                    **{m: dict(seeds=v, mean=sum(v) / len(v), spread=max(v) - min(v)) for m, v in per.items()},
                    ms_per_step=cost['ms_per_step'][s], relative_cost=cost['relative_to_moco'][s])
    rows.append([s, cfg(s)['id_variant'], cfg(s)['local_crops'] if cfg(s)['id_variant'] == 'dino' else '',
                 *(f"{' / '.join(f'{x:.1f}' for x in per[m])} (mean {table[s][m]['mean']:.1f})" for m in METRICS),
                 f"{cost['ms_per_step'][s]:.0f} ({cost['relative_to_moco'][s]:.2f}x)"])
PAIRS = [('dino-local2', 'dino-local0', 'two local crops vs none'), ('dino-local4', 'dino-local0', 'four local crops vs none'),
         ('dino-local4', 'dino-local2', 'four local crops vs two'), ('dino-local0', 'moco', 'DINO (no local crops) vs MoCo'),
         ('dino-local0', 'mocov3', 'DINO (no local crops) vs MoCo v3'), ('mocov3', 'moco', 'MoCo v3 vs MoCo')]
comparisons, crows = paired_comparisons(table, PAIRS, METRICS)
when = date_span(r['date'] for s in SETTINGS for r in runs[s].values())
lines = ['# DINO against MoCo and MoCo v3, and DINO\'s local crops (toy data, 3 seeds)', '',
         'Commands: `bash docs/results/ablations/toy/dino/run.sh`, `OMP_NUM_THREADS=1 python docs/results/ablations/toy/dino/cost.py`, '
         'then `python docs/results/ablations/toy/dino/report.py`. Each of the 15 runs of run.sh is `m3i-ref bench quality --preset toy '
         '--runs instance_discrimination --out docs/results/ablations/toy/dino/runs/SETTING/seedK --set id_variant=VARIANT '
         '[--set local_crops=N] --set seed=K` (its page and run file in that folder).', '',
         f'The instance-discrimination row at the toy preset (1,000 steps of 64 images, {runs["moco"][seeds[0]]["test_images"]:,} test images), '
         f'seeds {", ".join(map(str, seeds))}, each setting with its variant\'s own settings (`VARIANTS`, `nbs/07_methods`; '
         f'EMA base {", ".join(sorted({str(table[s]["ema_base"]) + " (" + table[s]["id_variant"] + ")" for s in SETTINGS}))}). '
         f'`dino-localN`: `id_variant=dino` with N local crops of 16 px beside the two 32 px global crops. kNN (k=200, t=0.1) and '
         f'linear probe on the frozen encoder. {when}.', '',
         *markdown_table(['setting', 'id_variant', 'local crops', 'kNN per seed', 'linear per seed', 'ms per step (x MoCo)'], rows), '',
         f"Cost: one training step of the toy model on 64 images, one thread, {cost['repeats']} (`cost.py`); relative "
         'costs are what to read, absolute times depend on the shared machine\'s load.', '',
         *markdown_table(['comparison', 'per-seed differences', 'mean', 'verdict'], crows), '', *probe_seed_note(comparisons),
         VERDICT_RULE, '']
(out / 'dino.md').write_text('\n'.join(lines))
(out / 'dino.json').write_text(json.dumps(dict(seeds=seeds, runs=table, comparisons=comparisons, cost=cost), indent=1) + '\n')
