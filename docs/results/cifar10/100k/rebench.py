"""Assemble docs/results/cifar10/100k/seed0: the CIFAR-10 benchmark at 100,000 images under the current defaults.

- Runs whose code path and settings did not change since docs/results/cifar10/100k/old-defaults are carried over (same code, seed and data give
  the same result; their JSON gets `carried_from`).
- Runs whose defaults changed were re-run by the ablations (docs/results/ablations/run.sh cifar) with exactly the new
  default settings; their JSON is copied with `rerun_in` naming the ablation folder.
- The rest are left for `m3i-ref bench quality --data-root ../shared/data --images 100000 --out docs/results/cifar10/100k/seed0`,
  which runs only what is missing (resumable) and rewrites the page.
Usage: .venv/bin/python docs/results/cifar10/100k/rebench.py  (then the bench command above, or `--runs random_init` to only redraw the page)."""
import json, pathlib, sys
here = pathlib.Path(__file__).resolve().parent
old, new, abl = here / 'old-defaults' / 'runs', here / 'seed0' / 'runs', here.parents[1] / 'ablations' / 'cifar'
CHANGED = {   # run -> the ablation folder that ran it with the new defaults (None: not re-run yet)
    'mim_feature': 'target-norm-instance', 'sim_feature': 'target-norm-instance', 'dense_distillation': 'target-norm-instance',
    'm3i': 'm3i-target-norm-instance', 'instance_discrimination': 'head-batch', 'mim_global': 'head-batch',
    'global_distillation': 'head-batch', 'sim_global': None,     # sim_global: head_norm=batch, measured on the toy data only
    'm3i_nomix': None,          # inherits the MIM / SiameseIM feature target
    'mim_pixel': None,          # its decoder now queries only the hidden patches (MAE's design)
}
CHANGED.update(json.loads(sys.argv[1]) if len(sys.argv) > 1 else {})
new.mkdir(parents=True, exist_ok=True)
for p in sorted(old.glob('*.json')):
    name = p.stem
    if name in CHANGED:
        folder = CHANGED[name]
        src = abl / folder / 'runs' / p.name if folder else None
        if src and src.exists():
            r = json.loads(src.read_text()); r['rerun_in'] = f'docs/results/ablations/cifar/{folder}'
            (new / p.name).write_text(json.dumps(r, indent=1) + '\n'); print(f'{name:32s} re-run ({folder})')
        else: print(f'{name:32s} NOT YET RE-RUN')
        continue
    r = json.loads(p.read_text()); r['carried_from'] = 'docs/results/cifar10/100k/old-defaults'
    (new / p.name).write_text(json.dumps(r, indent=1) + '\n'); print(f'{name:32s} carried over')
