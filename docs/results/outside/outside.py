"""Equal-budget outside references (issue 24): MoCo v3, DINO and MAE built from a maintained outside SSL library
(lightly) on our encoder, data, views, optimiser, schedule, budget and kNN protocol, each beside our own row at the same
settings, trained by our own code path (`m3i_ref.bench.quality_run`, what `m3i-ref bench quality` runs).

Usage (lightly is needed for the outside runs only, and is no dependency of m3i-ref; install it in an environment of its
own, e.g. `python -m venv /tmp/outside && echo $PWD/.venv/lib/python3.11/site-packages > /tmp/outside/lib/python3.11/site-packages/m3i.pth
&& /tmp/outside/bin/pip install lightly==1.6.0`, then run this file with that python):

    python docs/results/outside/outside.py --preset toy --seeds 0,1,2 --out docs/results/outside/shapes/64k
    python docs/results/outside/outside.py --preset cifar-cpu --images 100000 --seeds 0,1,2 --data-root ../shared/data --out docs/results/outside/cifar10/100k

On a shared CPU machine set OMP_NUM_THREADS=1: with two threads under a load of ~15 a toy step took 25 times longer
(measured 25 s against 1 s); the committed toy page ran so (its machine line says threads 1).

Resumable: a finished run (`outside/<method>/seed<k>.json`, `ours/<method>/seed<k>/runs/<row>.json`) is read back, not
redone. `report(out, command)` rewrites outside.md and outside.json from those files alone (no lightly, no training):
tests/test_pages.py regenerates the committed page with it."""
import argparse, copy, datetime, json, math, shutil, sys, time
from dataclasses import asdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))     # the repository's m3i_ref, wherever this runs from
import torch
import torch.nn as nn
from m3i_ref.bench import quality_run, read_result, machine, preset_images
from m3i_ref.config import make_config, model_config
from m3i_ref.convnet import make_encoder
from m3i_ref.data import atomic_save, load_dataset, DATASETS
from m3i_ref.evaluate import extract_features, knn_accuracy, linear_probe
from m3i_ref.methods import ROW, FLOOR_METHOD
from m3i_ref.results import (FLOORS, FLOOR_NAMES, VERDICT_RULE, floors, floor_view, paired_stats, verdict_of, date_span,
                             machine_span, markdown_table)
from m3i_ref.train import Batches, load_data, lr_at, param_groups, step_generator, total_steps
from m3i_ref.views import ViewConfig, render_view, sample_view_params

LIGHTLY_VERSION = '1.6.0'        # the version the committed pages were made with (the run files record the one used)

# Our side of each comparison: the (row, options) of the same recipe; one the registry refuses (an option value it does not
# know, in an older checkout) is recorded as 'not available' on the page, never replaced by another row.
OURS = {
    'mocov3': ('instance_discrimination', {'id_variant': 'mocov3'}),
    'dino': ('instance_discrimination', {'id_variant': 'dino'}),
    'mae': ('mim_pixel', {}),
}
METHODS = list(OURS)
TITLES = {'mocov3': 'MoCo v3', 'dino': 'DINO', 'mae': 'MAE'}

# The outside side's method settings: the papers' (via lightly's examples and benchmarks), sized to the preset where the
# paper's width does not fit a 64-wide toy ViT. Everything else (encoder, data, views, optimiser, schedule, budget, kNN)
# is ours and shared with our row.
OUTSIDE = {
    'mocov3': dict(temperature=0.2, momentum_base=0.99, momentum_final=1.0, projector_layers=3, predictor_layers=2),
    'dino': dict(output_dim=None, warmup_teacher_temp=0.04, teacher_temp=0.07, teacher_temp_warmup=0.3, student_temp=0.1,
                 center_momentum=0.9, momentum_base=0.996, momentum_final=1.0, norm_last_layer=True, freeze_last_layer_epochs=1,
                 local_crops=0, local_scale_min=0.05),
    'mae': dict(mask_ratio=0.75, norm_pix=False),
}

# What of each outside run is lightly's, and what is ours (written on the page).
PIECES = {
    'mocov3': ("lightly: `MoCoProjectionHead` as the projector (3 layers, BN in every layer, BN on the output) and again as "
               "the predictor (2 layers), `NTXentLoss(temperature=0.2, memory_bank_size=0)` summed over both directions "
               "(ntx(q1, k2) + ntx(q2, k1)), `update_momentum`, `cosine_schedule` (momentum 0.99 to 1), "
               "`deactivate_requires_grad`: MoCo v3 as lightly's maintainers describe building it from the MoCo v2 example "
               "(lightly-ai/lightly#1190; lightly has no MoCo v3 example)."),
    'dino': ("lightly: `DINOProjectionHead` (3-layer GELU MLP, l2-normalised bottleneck, weight-normalised last layer, frozen "
             "during the first epoch with `cancel_last_layer_gradients`), `DINOLoss` (centring, teacher temperature 0.04 to "
             "0.07 over the first 30% of the steps, student 0.1), `update_momentum`, `cosine_schedule` (momentum 0.996 to 1), "
             "`deactivate_requires_grad`."),
    'mae': ("lightly: `MAEDecoder` (torchvision blocks, fixed 2-D sine-cosine positions, width and depth of our preset's "
            "decoder), `random_token_mask` (75%, uniform), `repeat_token`, `set_at_index`, `get_at_index`, `patchify`; "
            "MSE on the hidden patches of the normalised view, as lightly's MAE benchmark (no per-patch normalisation)."),
}
SHARED = ("ours on both sides: the encoder `m3i_ref.vit.ViT` at the preset's size, initialised under the run's seed (the "
          "weights our run and the random-init floor start from); the data (`m3i_ref.train.load_data`), the global batches "
          "(`m3i_ref.train.Batches`: the same images at every step), the views (`sample_view_params` + `render_view` from "
          "`step_generator(seed, step)`, as `make_slots` draws them: crops >= crop_min, flips, colour jitter, greyscale); "
          "AdamW with decay on matrices only (`param_groups`), betas, weight decay, warm-up + cosine (`lr_at`), gradient "
          "clipping and the budget in images seen (`total_steps`); the kNN protocol (`extract_features` of the student "
          "encoder's mean patch token, `knn_accuracy` with the preset's k and t) and the floors (`m3i_ref.results.floors`).")
DEVIATIONS = [
    "All methods: our ViT, our optimiser and schedule (not LARS/AdamW at the papers' learning rates, no weight-decay schedule), "
    "our views (no blur or solarisation), our budget; the heads read the encoder's mean patch token, which the kNN protocol "
    "evaluates (the papers use the [CLS] token).",
    "MoCo v3: lightly's NT-Xent is SimCLR's loss: besides the other keys, the other queries of the batch are negatives too, and "
    "the loss is not scaled by 2 tau; widths are the preset's (toy: hidden 256, output 128; MoCo v3: 4096, 256); "
    "lightly's output BN has affine parameters (MoCo v3's has none). The loss alone, swapped into our MoCo v3 "
    "(`--set contrastive_loss=nt_xent`), is measured at CIFAR-10 scale in docs/results/ablations/cifar/mocov3-loss.",
    "DINO: two global crops and no local crops by default (`local_crops=0`; our ViT's positions are fixed to its grid, so "
    "local crops, when asked for, are rendered at full size from scales below crop_min, each costing a full pass); heads sized "
    "to the preset (toy: hidden 256, bottleneck 128, 256 prototypes = our row's; DINO: 2048, 256, 65536); the student "
    "encoder is evaluated, as on our side (DINO evaluates the teacher: its kNN is recorded in the run files too).",
    "MAE: 75% uniform random masking (our mim_pixel row: 60% block-wise), no norm_pix (lightly's benchmark; MAE's best "
    "setting normalises each target patch, as our row does); the decoder is our preset's width and depth (MAE: 512 x 8).",
]

# ---------------------------------------------------------------- settings

def run_config(preset, images, seed, data_root=None):
    "The run settings both sides share (the preset's, as `quality_run` makes them for a floor): data, encoder, batch, optimiser, budget."
    over = dict(images_seen=images, steps=0, seed=seed, progress=False, eval_knn=False, overwrite=True)
    if data_root: over['data_root'] = data_root
    return make_config(FLOOR_METHOD, preset, over)

def ours_spec(method, preset):
    "Our side of `method` (`OURS`) and [], or None and the refusal with the registry's reason."
    row, opts = OURS[method]
    try:
        model_config(make_config(row, preset, dict(opts))).check_options()
        return dict(row=row, options=dict(opts)), []
    except (ValueError, KeyError) as e:
        return None, [dict(row=row, options=dict(opts), why=str(e))]

SHARED_KEYS = ('dataset', 'shapes', 'train_size', 'test_size', 'encoder', 'vit', 'img_size', 'patch', 'batch_size', 'images_seen',
               'blr', 'min_lr', 'warmup', 'weight_decay', 'beta1', 'beta2', 'clip_grad', 'crop_min', 'jitter_p', 'gray_p',
               'seed', 'knn_k', 'knn_t', 'precision')

def shared_settings(cfg):
    c = asdict(cfg) if not isinstance(cfg, dict) else cfg
    return {k: c.get(k) for k in SHARED_KEYS}

# ---------------------------------------------------------------- the outside runs (lightly imported here only)

def _lightly():
    try:
        import lightly
        from lightly import loss, models
        from lightly.models import utils
        from lightly.models.modules import heads
        from lightly.models.modules.masked_autoencoder import MAEDecoder
        from lightly.utils.scheduler import cosine_schedule
    except ImportError as e:
        raise SystemExit(f'the outside runs need lightly ({e}); install it in an environment of its own, e.g. '
                         f'pip install lightly=={LIGHTLY_VERSION} (it is no dependency of m3i-ref)') from None
    return lightly

class MomentumMethod(nn.Module):
    "An outside method with momentum copies: after each update they follow the online modules on lightly's cosine schedule."
    @torch.no_grad()
    def after_update(self, step, total):
        from lightly.models.utils import update_momentum
        from lightly.utils.scheduler import cosine_schedule
        m = cosine_schedule(step, total, self.o['momentum_base'], self.o['momentum_final'])
        for online, momentum in self.momentum_pairs(): update_momentum(online, momentum, m)

class OutsideMoCoV3(MomentumMethod):
    "MoCo v3 from lightly's pieces on our encoder: online encoder + projector + predictor, momentum encoder + projector."
    def __init__(self, encoder, cfg, o):
        super().__init__()
        from lightly.models.modules.heads import MoCoProjectionHead
        from lightly.loss import NTXentLoss
        from lightly.models.utils import deactivate_requires_grad
        self.o, self.encoder = o, encoder
        self.projector = MoCoProjectionHead(encoder.dim, cfg.hidden_dim, cfg.proj_dim, num_layers=o['projector_layers'], batch_norm=True)
        self.predictor = MoCoProjectionHead(cfg.proj_dim, cfg.hidden_dim, cfg.proj_dim, num_layers=o['predictor_layers'], batch_norm=True)
        self.encoder_momentum, self.projector_momentum = copy.deepcopy(self.encoder), copy.deepcopy(self.projector)
        deactivate_requires_grad(self.encoder_momentum); deactivate_requires_grad(self.projector_momentum)
        self.criterion = NTXentLoss(temperature=o['temperature'], memory_bank_size=0)
    def loss(self, views, step, total):
        v1, v2 = views[:2]
        q1, q2 = (self.predictor(self.projector(self.encoder(v).global_feature)) for v in (v1, v2))
        with torch.no_grad():
            k1, k2 = (self.projector_momentum(self.encoder_momentum(v).global_feature) for v in (v1, v2))
        return self.criterion(q1, k2) + self.criterion(q2, k1)
    def before_update(self, step, epoch): pass
    def momentum_pairs(self): return [(self.encoder, self.encoder_momentum), (self.projector, self.projector_momentum)]

class OutsideDINO(MomentumMethod):
    "DINO from lightly's pieces on our encoder: student encoder + head, EMA teacher encoder + head, DINOLoss with centring."
    def __init__(self, encoder, cfg, o):
        super().__init__()
        from lightly.models.modules.heads import DINOProjectionHead
        from lightly.loss import DINOLoss
        from lightly.models.utils import deactivate_requires_grad
        self.o, self.encoder = o, encoder
        head = lambda: DINOProjectionHead(encoder.dim, cfg.hidden_dim, cfg.proj_dim, o['output_dim'], batch_norm=False,
                                          freeze_last_layer=o['freeze_last_layer_epochs'], norm_last_layer=o['norm_last_layer'])
        self.head = head()
        self.teacher_encoder, self.teacher_head = copy.deepcopy(encoder), head()
        self.teacher_head.load_state_dict(self.head.state_dict())       # the teacher starts as the student (DINO)
        deactivate_requires_grad(self.teacher_encoder); deactivate_requires_grad(self.teacher_head)
        self.criterion = DINOLoss(o['output_dim'], warmup_teacher_temp=o['warmup_teacher_temp'], teacher_temp=o['teacher_temp'],
                                  student_temp=o['student_temp'], center_momentum=o['center_momentum'])
    def teacher_temp(self, step, total):
        "Linear warm-up of the teacher temperature over the first `teacher_temp_warmup` share of the steps, then constant."
        n = max(1, round(self.o['teacher_temp_warmup'] * total))
        if step >= n: return self.o['teacher_temp']
        return self.o['warmup_teacher_temp'] + (self.o['teacher_temp'] - self.o['warmup_teacher_temp']) * step / n
    def loss(self, views, step, total):
        with torch.no_grad():
            t = [self.teacher_head(self.teacher_encoder(v).global_feature) for v in views[:2]]   # global crops only
        s = [self.head(self.encoder(v).global_feature) for v in views]
        return self.criterion(t, s, teacher_temp=self.teacher_temp(step, total))
    def before_update(self, step, epoch): self.head.cancel_last_layer_gradients(epoch)
    def momentum_pairs(self): return [(self.encoder, self.teacher_encoder), (self.head, self.teacher_head)]

class OutsideMAE(nn.Module):
    "MAE from lightly's decoder and masking utilities on our encoder (which drops the hidden patches itself)."
    def __init__(self, encoder, cfg, o):
        super().__init__()
        from lightly.models.modules.masked_autoencoder import MAEDecoder
        self.o, self.encoder, self.patch = o, encoder, cfg.patch
        self.seq = encoder.num_patches + 1                                # with the [CLS] token, as lightly counts
        self.decoder = MAEDecoder(seq_length=self.seq, num_layers=cfg.decoder_depth, num_heads=cfg.decoder_heads,
                                  embed_input_dim=encoder.dim, hidden_dim=cfg.decoder_dim, mlp_dim=4 * cfg.decoder_dim,
                                  out_dim=cfg.patch ** 2 * 3, dropout=0.0, attention_dropout=0.0)
        self.mask_token = nn.Parameter(torch.zeros(1, 1, cfg.decoder_dim))
        nn.init.normal_(self.mask_token, std=0.02)
    def loss(self, views, step, total):
        from lightly.models import utils
        x = views[0]
        b = len(x)
        idx_keep, idx_mask = utils.random_token_mask((b, self.seq), mask_ratio=self.o['mask_ratio'], device=x.device)
        enc = self.encoder(x, idx_keep[:, 1:] - 1)                        # lightly's index 0 is [CLS]; ours keeps patch indices
        tokens = torch.cat([enc.cls[:, None], enc.dense], 1)             # in idx_keep's order
        full = utils.set_at_index(utils.repeat_token(self.mask_token, (b, self.seq)), idx_keep, self.decoder.embed(tokens))
        pred = self.decoder.predict(utils.get_at_index(self.decoder.decode(full), idx_mask))
        target = utils.get_at_index(utils.patchify(x, self.patch), idx_mask - 1)
        if self.o['norm_pix']: target = (target - target.mean(-1, keepdim=True)) / (target.var(-1, keepdim=True) + 1e-6).sqrt()
        return nn.functional.mse_loss(pred, target)
    def before_update(self, step, epoch): pass
    def after_update(self, step, total): pass

OUTSIDE_MODELS = {'mocov3': OutsideMoCoV3, 'dino': OutsideDINO, 'mae': OutsideMAE}
VIEWS = {'mocov3': 2, 'dino': 2, 'mae': 1}          # views each step renders (DINO: + its local crops)

def outside_recipe(method, cfg):
    "The method settings of an outside run, sized to the preset where the paper's size does not fit."
    o = dict(OUTSIDE[method])
    if method == 'dino' and o['output_dim'] is None: o['output_dim'] = ROW['global_distillation'].defaults['prototypes'].value
    return o

def render_views(batch, cfg, view_cfg, mean, std, generator, n, local=0, local_scale=(0.05, 0.25)):
    "`n` views of the batch drawn as `make_slots` draws them (each view's geometry and jitter from the step's generator), then `local` small-scale crops at full size."
    images, views = batch['image'], []
    for i in range(n + local):
        vc = view_cfg if i < n else ViewConfig(**{**asdict(view_cfg), 'scale': local_scale})
        views.append(render_view(images, *sample_view_params(len(images), vc, generator), cfg.img_size, mean, std))
    return views

def evaluate(encoder, cfg, train_data, test_data, mean, std, linear_epochs=30):
    "The kNN protocol `quality_run` applies (kNN, linear probe, and on the shapes the held-out draw)."
    ftr, ltr = extract_features(encoder, train_data, mean, std)
    fte, lte = extract_features(encoder, test_data, mean, std)
    out = dict(knn_top1=knn_accuracy(ftr, ltr, fte, lte, train_data.num_classes, cfg.knn_k, cfg.knn_t),
               linear_top1=linear_probe(ftr, ltr, fte, lte, train_data.num_classes, epochs=linear_epochs, seed=cfg.seed))
    if cfg.dataset == 'shapes':
        ho = load_dataset('shapes', 'heldout', size=cfg.img_size, n=cfg.test_size or None, seed=cfg.seed, shapes=cfg.shapes)
        fho, lho = extract_features(encoder, ho, mean, std)
        out['heldout_knn_top1'] = knn_accuracy(ftr, ltr, fho, lho, train_data.num_classes, cfg.knn_k, cfg.knn_t)
    return out

def outside_run(method, out, preset, images, seed, data_root=None, data=None):
    "Train `method` from lightly's pieces on our setting, evaluate, write `out/outside/<method>/seed<seed>.json` (read back when done)."
    path = Path(out) / 'outside' / method / f'seed{seed}.json'
    cfg = run_config(preset, images, seed, data_root)
    recipe = outside_recipe(method, cfg)
    if path.exists():
        res = json.loads(path.read_text())
        if (res['settings'], res['recipe']) != (shared_settings(cfg), recipe):
            raise ValueError(f'{path} was made with other settings; delete it to rerun, or write into another --out')
        return res
    lightly = _lightly()
    t0 = time.time()
    train_data, test_data = data or load_data(cfg)
    mean, std = train_data.mean_std()
    device = torch.device('cuda' if torch.cuda.is_available() else 'cpu')
    bf16 = cfg.precision == 'bf16' or (cfg.precision == 'auto' and device.type == 'cuda')   # as our loop
    torch.manual_seed(cfg.seed)
    encoder = make_encoder(cfg.encoder, cfg.vit, cfg.img_size, cfg.patch, freeze_patch_embed=cfg.freeze_patch_embed)   # = our run's start
    model = OUTSIDE_MODELS[method](encoder, cfg, recipe).to(device).train()
    opt = torch.optim.AdamW(param_groups(model, cfg.weight_decay), lr=0.0, betas=(cfg.beta1, cfg.beta2))
    total = total_steps(cfg, len(train_data))
    peak, warm = cfg.blr * cfg.batch_size / 256, max(1, round(cfg.warmup * total))
    view_cfg = ViewConfig(scale=(cfg.crop_min, 1.0), jitter_p=cfg.jitter_p, gray_p=cfg.gray_p)
    batches, seen, losses = Batches(train_data, cfg, total), 0, []
    local = recipe.get('local_crops', 0)
    for step in range(total):
        for g in opt.param_groups: g['lr'] = lr_at(step, total, peak, warm, cfg.min_lr)
        batch = batches(step)
        views = [v.to(device) for v in render_views(batch, cfg, view_cfg, mean, std, step_generator(cfg.seed, step, 0), VIEWS[method],
                                                    local, (recipe.get('local_scale_min', 0.05), cfg.crop_min))]
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=bf16):
            loss = model.loss(views, step, total)
        if not torch.isfinite(loss): raise FloatingPointError(f'{method}: non-finite loss at step {step}')
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), cfg.clip_grad if cfg.clip_grad else float('inf'))
        model.before_update(step, step * cfg.batch_size // len(train_data))
        opt.step(); opt.zero_grad(set_to_none=True)
        model.after_update(step, total)
        seen += len(batch['label'])
        if step % 50 == 0 or step + 1 == total: losses.append([step + 1, round(loss.item(), 5)])
    train_seconds = time.time() - t0
    model.cpu().eval()
    scores = evaluate(model.encoder, cfg, train_data, test_data, mean, std)
    if method == 'dino':                                   # DINO reports its teacher: recorded, not compared
        scores['teacher_knn_top1'] = evaluate(model.teacher_encoder, cfg, train_data, test_data, mean, std)['knn_top1']
    res = dict(method=method, side='outside', library='lightly', library_version=lightly.__version__, **scores,
               images_seen=seen, steps=total, preset=preset, dataset=cfg.dataset, test_images=len(test_data),
               train_seconds=round(train_seconds, 1), seconds=round(time.time() - t0, 1), settings=shared_settings(cfg), recipe=recipe,
               lightly_pieces=PIECES[method], loss_curve=losses, machine=machine(), date=datetime.date.today().isoformat())
    atomic_save(json.dumps(res, indent=1) + '\n', path)
    return res

# ---------------------------------------------------------------- our side and the floors

def ours_run(method, out, preset, images, seed, data_root=None):
    "Our row at the same settings through `quality_run` (`m3i-ref bench quality`), in `out/ours/<method>/seed<seed>`; its checkpoint is removed after."
    folder = Path(out) / 'ours' / method / f'seed{seed}'
    spec, refused = ours_spec(method, preset)
    folder.mkdir(parents=True, exist_ok=True)
    atomic_save(json.dumps(dict(spec=spec, not_available=refused), indent=1) + '\n', folder / 'spec.json')
    if spec is None: return None
    over = dict(spec['options'], seed=seed, **({'data_root': data_root} if data_root else {}))
    res = quality_run(spec['row'], folder, preset, images, over)
    wrong = {k: (res['config'].get(k), v) for k, v in spec['options'].items() if res['config'].get(k) != v}
    if wrong: raise ValueError(f"{folder}/runs/{spec['row']}.json was made with other options {wrong}: delete it to rerun")
    shutil.rmtree(folder / 'ckpt', ignore_errors=True)
    return res

def floors_run(out, preset, images, seed, data_root=None, data=None):
    "The kNN floors of this seed's data and encoder (`results.floors`), kept in `out/floors/seed<seed>.json`."
    path = Path(out) / 'floors' / f'seed{seed}.json'
    if path.exists(): return json.loads(path.read_text())
    cfg = run_config(preset, images, seed, data_root)
    train_data, test_data = data or load_data(cfg)
    mean, std = train_data.mean_std()
    res = dict(seed=seed, preset=preset, dataset=cfg.dataset, knn=floor_view(floors(cfg, train_data, test_data, mean, std, ('knn_top1',))),
               date=datetime.date.today().isoformat())
    atomic_save(json.dumps(res, indent=1) + '\n', path)
    return res

# ---------------------------------------------------------------- the page (no lightly, no training)

def _ours_result(folder):
    "Our side of one seed: the spec chosen and the run it gave (None when no spec was available or the run is not there)."
    s = json.loads((folder / 'spec.json').read_text())
    run = folder / 'runs' / f"{s['spec']['row']}.json" if s['spec'] else None
    return s, (read_result(run) if run and run.exists() else None)

def _images_trained(res):
    "Images a `quality_run` result was trained on: whole batches of its budget (`total_steps`; its `images_seen` is the budget asked for)."
    bs = res['config']['batch_size']
    return res['images_seen'] // bs * bs

def _mean_half(xs): return sum(xs) / len(xs), (max(xs) - min(xs)) / 2
def _mh(xs):
    m, h = _mean_half(xs)
    return f'{m:.1f} ± {h:.1f}' if len(xs) > 1 else f'{m:.1f}'
def _signed(x): return f'{x:+.1f}'
def _opts(o): return ', '.join(f'{k}={v}' for k, v in o.items())
def _row_name(spec): return f"{spec['row']}" + (f" with {_opts(spec['options'])}" if spec['options'] else '')

def collect(out):
    "Every finished pair of `out`, {method: {seed: {...}}}, with the floors by seed."
    out = Path(out)
    table, fl = {}, {}
    for p in sorted((out / 'floors').glob('seed*.json')):
        f = json.loads(p.read_text()); fl[f['seed']] = f
    for method in METHODS:
        for p in sorted((out / 'outside' / method).glob('seed*.json'), key=lambda p: int(p.stem[4:])):
            seed = int(p.stem[4:])
            o = json.loads(p.read_text())
            spec, ours = _ours_result(out / 'ours' / method / f'seed{seed}') if (out / 'ours' / method / f'seed{seed}' / 'spec.json').exists() else (None, None)
            table.setdefault(method, {})[seed] = dict(outside=o, spec=spec, ours=ours)
    return table, fl

def report(out, command):
    "Write `out/outside.json` and `out/outside.md` from the run files under `out` (what tests/test_pages.py regenerates)."
    out = Path(out)
    table, fl = collect(out)
    if not table: raise ValueError(f'{out} holds no finished outside run (outside/<method>/seed<k>.json)')
    any_run = next(iter(next(iter(table.values())).values()))['outside']
    images, preset, dataset = any_run['settings']['images_seen'], any_run['preset'], any_run['dataset']
    runs = [r for m in table.values() for s in m.values() for r in (s['outside'], s['ours']) if r]
    seeds = sorted({s for m in table.values() for s in m})
    data_name = DATASETS.get(dataset, dataset)
    j = dict(command=command, preset=preset, dataset=dataset, images_seen=images, seeds=seeds,
             library='lightly', library_versions=sorted({s['outside']['library_version'] for m in table.values() for s in m.values()}),
             verdict_rule=VERDICT_RULE, shared=SHARED, deviations=DEVIATIONS, methods={},
             floors={str(s): f['knn'] for s, f in sorted(fl.items())})
    rows, per_seed = [], []
    for method, by_seed in table.items():
        m = dict(title=TITLES[method], lightly_pieces=PIECES[method], seeds={})
        paired = [s for s in sorted(by_seed) if by_seed[s]['ours'] is not None]
        for s in sorted(by_seed):
            e = by_seed[s]; o, r = e['outside'], e['ours']
            m['seeds'][str(s)] = dict(
                outside_knn_top1=o['knn_top1'], ours_knn_top1=r['knn_top1'] if r else None,
                difference=o['knn_top1'] - r['knn_top1'] if r else None,
                outside_linear_top1=o.get('linear_top1'), ours_linear_top1=r.get('linear_top1') if r else None,
                outside_heldout_knn_top1=o.get('heldout_knn_top1'), ours_heldout_knn_top1=r.get('heldout_knn_top1') if r else None,
                outside_teacher_knn_top1=o.get('teacher_knn_top1'),
                outside_seconds=o['seconds'], ours_seconds=r['seconds'] if r else None,
                outside_images_seen=o['images_seen'], ours_images_seen=_images_trained(r) if r else None,
                outside_settings=dict(o['settings'], recipe=o['recipe'], library=f"lightly {o['library_version']}"),
                ours_settings=dict(row=e['spec']['spec'], config=r['config']) if r else None,
                ours_not_available=e['spec']['not_available'] if e['spec'] else None,
                same_shared_settings=shared_settings(r['config']) == o['settings'] if r else None,
                floors=fl.get(s, {}).get('knn'), dates=dict(outside=o['date'], ours=r['date'] if r else None))
        spec = next((by_seed[s]['spec'] for s in sorted(by_seed) if by_seed[s]['spec']), None)
        m['ours_row'] = spec['spec'] if spec else None
        m['ours_not_available'] = spec['not_available'] if spec else []
        outs = [by_seed[s]['outside']['knn_top1'] for s in sorted(by_seed)]
        m['outside'] = dict(zip(('mean', 'half_range'), _mean_half(outs)))
        if paired:
            ours = [by_seed[s]['ours']['knn_top1'] for s in paired]
            st = paired_stats([by_seed[s]['outside']['knn_top1'] for s in paired], ours)
            m['ours'] = dict(zip(('mean', 'half_range'), _mean_half(ours)))
            m['difference'] = dict(seeds=paired, diffs=st['diffs'], mean=st['mean'], low=st['low'], high=st['high'],
                                   verdict_outside_above_ours=verdict_of(st['diffs']), verdict_ours_above_outside=verdict_of([-d for d in st['diffs']]))
        j['methods'][method] = m
        fls = [fl[s]['knn'] for s in sorted(by_seed) if s in fl]
        floor_cell = ', '.join(f"{FLOOR_NAMES[f]} {_mh([x[f] for x in fls])}" for f in FLOORS) if fls else '-'
        ours_cell = (f"{_mh(ours)} ({_row_name(spec['spec'])})" if paired else 'not run') if spec and spec['spec'] else 'not available'
        diff_cell = (f"{_signed(st['mean'])} (per seed {', '.join(_signed(d) for d in st['diffs'])}; outside > ours: "
                     f"{m['difference']['verdict_outside_above_ours']})") if paired else '-'
        rows.append([TITLES[method], _mh(outs), ours_cell, diff_cell, floor_cell])
        for s in sorted(by_seed):
            e = m['seeds'][str(s)]
            per_seed.append([TITLES[method], s, f"{e['outside_knn_top1']:.1f}", '-' if e['ours_knn_top1'] is None else f"{e['ours_knn_top1']:.1f}",
                             '-' if e['difference'] is None else _signed(e['difference']),
                             '-' if e['outside_heldout_knn_top1'] is None else f"{e['outside_heldout_knn_top1']:.1f}",
                             '-' if e['ours_heldout_knn_top1'] is None else f"{e['ours_heldout_knn_top1']:.1f}",
                             f"{e['outside_seconds']:.0f}", '-' if e['ours_seconds'] is None else f"{e['ours_seconds']:.0f}"])
    na = [(method, x) for method, m in j['methods'].items() for x in m['ours_not_available']]
    match = [e['same_shared_settings'] for m in j['methods'].values() for e in m['seeds'].values() if e['same_shared_settings'] is not None]
    lines = [f'# Outside references at equal budget: {", ".join(TITLES[m] for m in table)} from lightly beside our rows '
             f'({data_name}, {images:,} images seen, seeds {", ".join(map(str, seeds))})', '',
             f'Command: `{command}`', '']
    if dataset != 'cifar10': lines += [f'At CIFAR-10 scale (not run for this page; hours on 2 cores): `{CIFAR_COMMAND}`', '']
    lines += [f"Machine: {machine_span(r['machine'] for r in runs)}. {date_span(r['date'] for r in runs)}. Preset `{preset}`, "
              f"{images:,} images seen per run on both sides, seeds {', '.join(map(str, seeds))}, lightly {', '.join(j['library_versions'])}. "
              f"Seconds are wall time of training and evaluation (kNN, linear probe{', held-out kNN' if dataset == 'shapes' else ''}) on a "
              f"machine shared with other jobs: upper bounds.", '',
              'The question: does a maintained outside library, given the same encoder, data, views, optimiser, budget and '
              'kNN protocol, learn more or less than our row of the same method? kNN top-1 on the test split (%), mean ± half '
              'the range over seeds; the difference is outside - ours, paired by seed.', '',
              *markdown_table(['method', 'outside (lightly)', 'ours', 'difference', 'floors (kNN)'], rows), '',
              VERDICT_RULE, '', '## Per seed', '',
              *markdown_table(['method', 'seed', 'outside kNN', 'ours kNN', 'difference', 'outside held-out kNN', 'ours held-out kNN',
                               'outside s', 'ours s'], per_seed), '',
              f"The settings both sides share ({', '.join(SHARED_KEYS)}) are identical in {sum(match)} of {len(match)} pairs "
              f"(read from each run's file).", '',
              '## What is lightly\'s and what is ours', '', f'- Shared, {SHARED}']
    lines += [f"- {TITLES[m]}: {PIECES[m]} Ours: `{_row_name(j['methods'][m]['ours_row'])}` through `m3i_ref.bench.quality_run`."
              if j['methods'][m]['ours_row'] else f"- {TITLES[m]}: {PIECES[m]}" for m in table]
    if na:
        lines += ['', '## Not available on our side', '']
        lines += [f"- {TITLES[m]}: `{_row_name(x)}` refused by the registry ({x['why'].splitlines()[0]}); no our-side run."
                  for m, x in na]
    lines += ['', '## Deviations from the papers\' recipes', '', *[f'- {d}' for d in DEVIATIONS], '',
              'Run files: `outside/<method>/seed<k>.json` (the outside runs, with their settings, recipe and loss curve), '
              '`ours/<method>/seed<k>/runs/<row>.json` (our runs, `bench quality` results), `floors/seed<k>.json`. '
              'This page and outside.json are rewritten from them by `report` in docs/results/outside/outside.py.']
    atomic_save(json.dumps(j, indent=1) + '\n', out / 'outside.json')
    atomic_save('\n'.join(lines) + '\n', out / 'outside.md')
    return j

# ---------------------------------------------------------------- command line

def command_line(a, images):
    words = ['python docs/results/outside/outside.py', f'--preset {a.preset}', f'--images {images}', f"--seeds {','.join(map(str, a.seeds))}"]
    if a.data_root: words.append(f'--data-root {a.data_root}')
    words += [f"--methods {','.join(a.methods)}", f'--out {a.out}']
    return ' '.join(words)

CIFAR_COMMAND = ('python docs/results/outside/outside.py --preset cifar-cpu --images 100000 --seeds 0,1,2 --data-root ../shared/data '
                 '--methods mocov3,dino,mae --out docs/results/outside/cifar10/100k')

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument('--preset', default='toy', choices=['toy', 'cifar-cpu'])
    p.add_argument('--images', type=int, help="images seen per run (default: the preset's own length, toy 64,000; cifar-cpu 100,000)")
    p.add_argument('--seeds', default='0,1,2', type=lambda s: [int(x) for x in s.split(',')])
    p.add_argument('--data-root')
    p.add_argument('--methods', default=','.join(METHODS), type=lambda s: s.split(','))
    p.add_argument('--out', required=True)
    a = p.parse_args(argv)
    bad = [m for m in a.methods if m not in OURS]
    if bad: p.error(f'unknown method(s) {bad}; choose from {METHODS}')
    images = a.images or preset_images(a.preset) or 100_000
    for seed in a.seeds:
        cfg = run_config(a.preset, images, seed, a.data_root)
        data = load_data(cfg)
        floors_run(a.out, a.preset, images, seed, a.data_root, data)
        for method in a.methods:
            o = outside_run(method, a.out, a.preset, images, seed, a.data_root, data)
            r = ours_run(method, a.out, a.preset, images, seed, a.data_root)
            print(f"{method} seed {seed}: outside kNN {o['knn_top1']:.1f} ({o['seconds']:.0f} s), "
                  f"ours {'not available' if r is None else format(r['knn_top1'], '.1f') + ' (' + format(r['seconds'], '.0f') + ' s)'}", flush=True)
    report(a.out, command_line(a, images))
    print(f'wrote {Path(a.out) / "outside.md"}')

if __name__ == '__main__':
    main()
