"""Collect docs/results/ablations/<scale>/<variant>/runs/*.json into docs/results/ablations/ablations.md and ablations.json.
Each run is compared with the same row at the defaults: the bench page of that scale (toy: docs/results/shapes/64k/seed0/runs,
cifar: docs/results/cifar10/100k/old-defaults/runs; toy: a copy of docs/results/shapes/64k/seed0/runs from before the change, in ablations/toy-defaults). The hand-written reading (docs/results/ablations/reading.md) is appended."""
import json, pathlib, statistics
from dataclasses import fields
from m3i_ref.train import TrainConfig
DEFAULTS = {f.name: f.default for f in fields(TrainConfig)}
root = pathlib.Path(__file__).resolve().parent
results = root.parent
BASE = {'toy': root / 'toy-defaults', 'cifar': results / 'cifar10' / '100k' / 'old-defaults' / 'runs'}   # the defaults before this page (toy: docs/results/shapes/64k/seed0/runs as of commit 76e9cbd)
TITLE = {'toy': 'Toy shapes, toy preset (500 steps, 32,000 images)', 'cifar': 'CIFAR-10 (JPEG copy), preset cifar-cpu, 100,000 images'}
KEYS = ('images_seen', 'ema_base', 'ema_final', 'target_layers', 'target_norm', 'loss_on', 'symmetric', 'head_norm', 'crop_min', 'dino_head', 'negatives',
        'neg_weight', 'mask_ratio', 'blr', 'seed')
read = lambda p: json.loads(p.read_text())
out, lines = {}, ['# Ablations: what moves the self-distillation and instance-discrimination rows', '',
                  'Commands: `bash docs/results/ablations/run.sh toy`, `bash docs/results/ablations/run.sh cifar`, then '
                  '`.venv/bin/python docs/results/ablations/report.py`. One setting changed at a time from the defaults; '
                  'each run is compared with the same row at the defaults before this page (toy: `ablations/toy-defaults`, CIFAR: `100k/runs`; same seed, '
                  'same data, same kNN (k=200, t=0.1) and linear-probe protocol). One seed each: on the toy data (1,024 test images) '
                  'three seeds spread by up to 8 kNN points, so smaller toy differences are unresolved; CIFAR has 10,000 test images.', '']
for scale in ('toy', 'cifar'):
    d = root / scale
    if not d.is_dir(): continue
    floors = {k: read(BASE[scale] / f'{k}.json')['knn_top1'] for k in ('random_init', 'raw_pixels', 'chance') if (BASE[scale] / f'{k}.json').exists()}
    lines += [f'## {TITLE[scale]}', '', 'Floors (kNN): ' + ', '.join(f'{k.replace("_", " ")} {v:.1f}' for k, v in floors.items()) + '.', '',
              '| row | variant | setting | kNN | kNN vs default | kNN vs random init | linear | linear vs default | s |', '|---|---|---|---|---|---|---|---|---|']
    rows = []
    for v in sorted(p for p in d.iterdir() if p.is_dir()):
        for p in sorted((v / 'runs').glob('*.json')):
            r = read(p); b = BASE[scale] / p.name
            if not b.exists(): continue
            base = read(b)
            setting = ', '.join(f'{k}={r["config"].get(k)}' for k in KEYS if r['config'].get(k, DEFAULTS.get(k)) != base['config'].get(k, DEFAULTS.get(k))) or '(defaults)'
            rows.append(dict(row=r['run'], variant=v.name, setting=setting, knn=r['knn_top1'], linear=r['linear_top1'],
                             d_knn=r['knn_top1'] - base['knn_top1'], d_linear=r['linear_top1'] - base['linear_top1'],
                             vs_random=r['knn_top1'] - floors.get('random_init', float('nan')), seconds=r['seconds'],
                             default_knn=base['knn_top1'], default_linear=base['linear_top1']))
    rows.sort(key=lambda x: (x['row'], x['variant'] != 'baseline', x['variant']))
    for x in rows:
        lines.append(f"| {x['row']} | {x['variant']} | {x['setting']} | {x['knn']:.1f} | {x['d_knn']:+.1f} | {x['vs_random']:+.1f} | "
                     f"{x['linear']:.1f} | {x['d_linear']:+.1f} | {x['seconds']:.0f} |")
    lines.append('')
    out[scale] = dict(floors=floors, runs=rows)
reading = root / 'reading.md'
if reading.exists(): lines += [reading.read_text()]
(root / 'ablations.md').write_text('\n'.join(lines).rstrip() + '\n')
(root / 'ablations.json').write_text(json.dumps(out, indent=1) + '\n')
print('\n'.join(lines))
