"""MSN (id_variant=msn) against the row's default MoCo-style InfoNCE (id_variant=moco) on sim_global, per seed and paired.
Reads docs/results/ablations/msn/<variant>/seed<s>/runs/sim_global.json (written by run.sh) and writes msn.md and msn.json
beside this script (or into OUT_DIR). Usage: python docs/results/ablations/msn/report.py [OUT_DIR]"""
import json, sys
from pathlib import Path
from m3i_ref.results import paired_stats, verdict_of, markdown_table, VERDICT_RULE

HERE = Path(__file__).resolve().parent
ROW, VARIANTS, SEEDS, METRICS = 'sim_global', ('moco', 'msn'), (0, 1, 2), {'knn_top1': 'kNN', 'linear_top1': 'linear'}
out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
runs = {v: [json.loads((HERE / v / f'seed{s}' / 'runs' / f'{ROW}.json').read_text()) for s in SEEDS] for v in VARIANTS}
for v in VARIANTS:                                     # the runs are what they say: the variant, the seed, the same budget
    for s, r in zip(SEEDS, runs[v]):
        assert r['config']['id_variant'] == v and r['config']['seed'] == s and r['images_seen'] == runs['moco'][0]['images_seen'], (v, s)
result = dict(row=ROW, seeds=list(SEEDS), preset=runs['moco'][0]['preset'], images_seen=runs['moco'][0]['images_seen'],
              test_images=runs['moco'][0]['test_images'], runs={}, means={}, paired={})
for v in VARIANTS:
    result['runs'][v] = {m: [r[m] for r in runs[v]] for m in (*METRICS, 'seconds')}
    result['means'][v] = {m: sum(x) / len(x) for m, x in result['runs'][v].items()}
for m in METRICS:
    st = paired_stats(result['runs']['msn'][m], result['runs']['moco'][m])
    result['paired'][m] = {**st, 'verdict': verdict_of(st['diffs'])}
r0 = runs['moco'][0]
lines = [f'# MSN against MoCo-style InfoNCE on SiameseIM global (the poster\'s row (l)), toy preset, {len(SEEDS)} seeds', '',
         'Commands: `bash docs/results/ablations/msn/run.sh` (each run: `m3i-ref bench quality --preset toy --runs sim_global '
         '--out docs/results/ablations/msn/<variant>/seed<s> --set seed=<s> --set id_variant=<variant>`), then '
         '`python docs/results/ablations/msn/report.py`.', '',
         f"Both variants: the same row (a masked view, 60% of its patches hidden block-wise, against the EMA teacher's global "
         f"feature of the other view), data, seeds, views and budget ({result['images_seen']:,} images seen, preset "
         f"`{result['preset']}`); kNN (k=200, t=0.1) and linear probe on {result['test_images']:,} test images. "
         "`moco`: the row's default, InfoNCE with the batch's other images as negatives (tau 0.2, EMA base 0.995). "
         "`msn`: MSN's loss (256 prototypes, tau 0.1, sharpening T 0.25, Sinkhorn, me-max weight 1, EMA base 0.996; "
         "`m3i-ref methods --defaults` lists every setting with its source).", '']
for m, name in METRICS.items():
    p = result['paired'][m]
    rows = [[s, f"{result['runs']['moco'][m][i]:.1f}", f"{result['runs']['msn'][m][i]:.1f}", f"{p['diffs'][i]:+.1f}"] for i, s in enumerate(SEEDS)]
    rows.append(['mean', f"{result['means']['moco'][m]:.1f}", f"{result['means']['msn'][m]:.1f}", f"{p['mean']:+.1f}"])
    lines += [f'## {name} top-1', ''] + markdown_table(['seed', 'moco', 'msn', 'msn - moco'], rows) + \
             ['', f"msn > moco on {name}: per-seed differences {', '.join(f'{d:+.1f}' for d in p['diffs'])} (t = {p['t']:.2f}): **{p['verdict']}**.", '']
lines += ['Seconds per run (training and evaluation, 2 shared CPU cores): ' +
          ', '.join(f"{v} {result['means'][v]['seconds']:.0f}" for v in VARIANTS) + ' on average.', '', f'Rule: {VERDICT_RULE}', '']
(out / 'msn.md').write_text('\n'.join(lines))
(out / 'msn.json').write_text(json.dumps(result, indent=1) + '\n')
print('\n'.join(lines))
