"""Compute cost of the settings on the DINO page: milliseconds per training step (forward, backward, AdamW step, EMA
update; views drawn outside the timer) of the toy preset's model and batch (ViT toy, 32 px, patch 8, 64 images), one
thread, each setting timed in turn in one process, best of `REPEATS` after `WARMUP` steps. Relative costs are what the
page uses (the machine is shared: absolute times vary with its load). Writes cost.json beside this file.
Usage: OMP_NUM_THREADS=1 python docs/results/ablations/toy/dino/cost.py"""
import json, pathlib, platform, time
import torch
from m3i_ref.methods import ModelConfig, Pretrainer, make_slots
from m3i_ref.train import make_config, model_config
from m3i_ref.data import make_shapes, WordTokenizer

SETTINGS = {'moco': {'id_variant': 'moco'}, 'mocov3': {'id_variant': 'mocov3'},
            'dino-local0': {'id_variant': 'dino', 'local_crops': 0}, 'dino-local2': {'id_variant': 'dino', 'local_crops': 2},
            'dino-local4': {'id_variant': 'dino', 'local_crops': 4}}
WARMUP, REPEATS, ROUNDS = 2, 5, 3
torch.set_num_threads(1)
data = make_shapes(64, seed=0)
tok = WordTokenizer.from_texts(data.all_captions())
mean, std = data.mean_std()
models = {}
for name, sets in SETTINGS.items():
    cfg = model_config(make_config('instance_discrimination', 'toy', {k: str(v) for k, v in sets.items()}))
    cfg.num_classes, cfg.vocab_size = data.num_classes, len(tok)
    torch.manual_seed(0)
    model = Pretrainer(cfg)
    models[name] = (cfg, model, torch.optim.AdamW(model.parameters(), 1e-3))
times = {name: [] for name in SETTINGS}
for r in range(ROUNDS):                                   # interleaved rounds: a burst of load elsewhere hits every setting
    for name, (cfg, model, opt) in models.items():
        for i in range(WARMUP + REPEATS):
            slots = make_slots(cfg, data.batch(torch.arange(64)), mean, std, torch.Generator().manual_seed(i), tok)
            t = time.perf_counter()
            out = model(slots); opt.zero_grad(); out['loss'].backward(); opt.step(); model.momentum_update(0.996)
            if i >= WARMUP: times[name].append(time.perf_counter() - t)
ms = {name: round(1000 * min(ts), 1) for name, ts in times.items()}
res = dict(ms_per_step=ms, relative_to_moco={k: round(v / ms['moco'], 2) for k, v in ms.items()}, threads=1, batch=64,
           repeats=f'best of {ROUNDS} x {REPEATS} steps', torch=torch.__version__, cpu=platform.machine())
(pathlib.Path(__file__).parent / 'cost.json').write_text(json.dumps(res, indent=1) + '\n')
print(json.dumps(res, indent=1))
