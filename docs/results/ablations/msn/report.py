"""MSN (id_variant=msn) against the row's default MoCo-style InfoNCE (id_variant=moco) on sim_global, per seed and paired,
and MSN with 64 prototypes (the toy batch size: MSN's ratio of prototypes to global batch, 1024 / 1024) instead of 256.
Reads docs/results/ablations/msn/<folder>/seed<s>/runs/sim_global.json (written by run.sh) and writes msn.md and msn.json
beside this script (or into OUT_DIR). Usage: python docs/results/ablations/msn/report.py [OUT_DIR]"""
import json, sys
from pathlib import Path
from m3i_ref.results import paired_stats, verdict_of, markdown_table, VERDICT_RULE, diffs_text

HERE = Path(__file__).resolve().parent
ROW, SEEDS, METRICS = 'sim_global', (0, 1, 2), {'knn_top1': 'kNN', 'linear_top1': 'linear'}
FOLDERS = {'moco': dict(id_variant='moco', prototypes=None), 'msn': dict(id_variant='msn', prototypes=None),
           'msn-k64': dict(id_variant='msn', prototypes=64)}                     # what each folder's runs set (None: the default)
PAIRS = [('msn', 'moco'), ('msn-k64', 'moco'), ('msn-k64', 'msn')]
FLOOR = HERE / 'random_init'        # the untrained encoder of the same seed, preset and protocol: seed<s>/runs/random_init.json
out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
floor = [json.loads((FLOOR / f'seed{s}' / 'runs' / 'random_init.json').read_text()) for s in SEEDS]
runs = {f: [json.loads((HERE / f / f'seed{s}' / 'runs' / f'{ROW}.json').read_text()) for s in SEEDS] for f in FOLDERS}
first = runs['moco'][0]
for f, sets in FOLDERS.items():                    # the runs are what they say: the settings, the seed, the same budget
    for s, r in zip(SEEDS, runs[f]):
        assert all(r['config'][k] == v for k, v in sets.items()) and r['config']['seed'] == s, (f, s)
        assert (r['images_seen'], r['preset'], r['test_images']) == (first['images_seen'], first['preset'], first['test_images']), (f, s)
for s, r in zip(SEEDS, floor): assert r['config']['seed'] == s and r['preset'] == first['preset'] and r['test_images'] == first['test_images']
result = dict(row=ROW, seeds=list(SEEDS), preset=first['preset'], images_seen=first['images_seen'], test_images=first['test_images'],
              settings=FOLDERS, runs={}, means={}, paired={}, random_init={m: [r[m] for r in floor] for m in METRICS})
result['random_init_mean'] = {m: sum(x) / len(x) for m, x in result['random_init'].items()}
for f in FOLDERS:
    result['runs'][f] = {m: [r[m] for r in runs[f]] for m in (*METRICS, 'seconds')}
    result['means'][f] = {m: sum(x) / len(x) for m, x in result['runs'][f].items()}
for a, b in PAIRS:
    result['paired'][f'{a} - {b}'] = {}
    for m in METRICS:
        st = paired_stats(result['runs'][a][m], result['runs'][b][m])
        result['paired'][f'{a} - {b}'][m] = {**st, 'verdict': verdict_of(st['diffs'])}
lines = [f"# MSN against MoCo-style InfoNCE on SiameseIM global (the poster's row (l)), toy preset, {len(SEEDS)} seeds", '',
         'Commands: `bash docs/results/ablations/msn/run.sh` (each run: `m3i-ref bench quality --preset toy --runs sim_global '
         '--out docs/results/ablations/msn/<folder>/seed<s> --set seed=<s> --set id_variant=<variant>`, and `--set prototypes=64` '
         'for `msn-k64`), then `python docs/results/ablations/msn/report.py`.', '',
         f"Every run: the same row (a masked view, 60% of its patches hidden block-wise, against the EMA teacher's global "
         f"feature of the other view), data, seeds, views and budget ({result['images_seen']:,} images seen, preset "
         f"`{result['preset']}`, batch 64); kNN (k=200, t=0.1) and linear probe on {result['test_images']:,} test images. "
         "`moco`: the row's default, InfoNCE with the batch's other images as negatives (tau 0.2, EMA base 0.995). "
         "`msn`: MSN's loss with 256 prototypes (tau 0.1, sharpening T 0.25, Sinkhorn, me-max weight 1, EMA base 0.996; "
         "`m3i-ref methods --defaults` lists every setting with its source). `msn-k64`: the same with 64 prototypes, as many "
         "as the batch has images (MSN: 1024 prototypes for a global batch of 1024). `random init`: the untrained encoder of the "
         "same seed under the same protocol (`random_init/seed<s>`, `--runs random_init`).", '']
for m, name in METRICS.items():
    rows = [[s, f"{result['random_init'][m][i]:.1f}"] + [f"{result['runs'][f][m][i]:.1f}" for f in FOLDERS] + [f"{result['paired'][f'{a} - {b}'][m]['diffs'][i]:+.1f}" for a, b in PAIRS]
            for i, s in enumerate(SEEDS)]
    rows.append(['mean', f"{result['random_init_mean'][m]:.1f}"] + [f"{result['means'][f][m]:.1f}" for f in FOLDERS] + [f"{result['paired'][f'{a} - {b}'][m]['mean']:+.1f}" for a, b in PAIRS])
    lines += [f'## {name} top-1', ''] + markdown_table(['seed', 'random init', *FOLDERS, *(f'{a} - {b}' for a, b in PAIRS)], rows) + ['']
    for a, b in PAIRS:
        p = result['paired'][f'{a} - {b}'][m]
        lines.append(f"- {a} > {b} on {name}: per-seed differences {diffs_text(p)} (t = {p['t']:.2f}): **{p['verdict']}**.")
    lines.append('')
k, l = result['paired']['msn - moco']['knn_top1'], result['paired']['msn - moco']['linear_top1']
lines += ['## Reading', '',
          f"At this budget SiameseIM global learns little either way: on kNN `moco` is {result['means']['moco']['knn_top1'] - result['random_init_mean']['knn_top1']:+.1f} "
          f"points from the untrained encoder on average and `msn` {result['means']['msn']['knn_top1'] - result['random_init_mean']['knn_top1']:+.1f}; on the linear probe "
          f"{result['means']['moco']['linear_top1'] - result['random_init_mean']['linear_top1']:+.1f} and {result['means']['msn']['linear_top1'] - result['random_init_mean']['linear_top1']:+.1f}. "
          f"MSN's loss is below the row's InfoNCE on average (kNN {k['mean']:+.1f}, linear {l['mean']:+.1f}), at "
          f"{sum(d < 0 for d in k['diffs'] + l['diffs'])} of {len(k['diffs'] + l['diffs'])} paired comparisons, but by gaps the paired rule "
          f"calls {k['verdict']} (kNN) and {l['verdict']} (linear). Fewer prototypes (64) do not change that "
          f"(`msn-k64 - msn`: kNN {result['paired']['msn-k64 - msn']['knn_top1']['verdict']}, linear "
          f"{result['paired']['msn-k64 - msn']['linear_top1']['verdict']}). The row keeps its default, `id_variant='moco'`; "
          "`msn` keeps 256 prototypes. What MSN's own recipe has and these runs do not (ten masked focal crops per image; "
          "random rather than block masking, of 15% of the patches for ViT-S/16; a far longer schedule on ImageNet) is in the "
          "sources of the `msn` settings (`m3i-ref methods --defaults`) and in `docs/method.md`.", '']
lines += ['Seconds per run (training and evaluation, 2 CPU cores shared with other jobs, one thread): ' +
          ', '.join(f"{f} {result['means'][f]['seconds']:.0f}" for f in FOLDERS) + ' on average.', '', f'Rule: {VERDICT_RULE}', '']
(out / 'msn.md').write_text('\n'.join(lines))
(out / 'msn.json').write_text(json.dumps(result, indent=1) + '\n')
print('\n'.join(lines))
