import json, math
from pathlib import Path
import pytest
import torch
from m3i_ref.train import make_config, train, load_checkpoint, lr_at, param_groups, PRESETS
from m3i_ref.methods import Pretrainer
from m3i_ref.cli import main

SMALL = dict(steps=6, train_size=128, test_size=64, progress=False, log_every=1, batch_size=16)

def run(method='sim_feature', out=None, **kw):
    return train(make_config(method, 'toy', dict(SMALL, out_dir=str(out), **kw)))

@pytest.mark.parametrize('method', ['classification', 'clip', 'mim_pixel', 'global_distillation', 'dense_instance_discrimination', 'm3i', 'm3i_nomix'])
def test_rows_train_through_the_one_loop(method, tmp_path):
    "Every kind of row trains: its encoder moves from the init, and the reported kNN is the checkpoint's."
    from m3i_ref.train import model_from_checkpoint, load_data, evaluate_encoder
    s = run(method, tmp_path, eval_knn=True, knn_k=20)
    assert math.isfinite(s['final_loss']) and Path(s['plot']).exists()
    summary = json.loads((tmp_path / 'summary.json').read_text())
    assert summary['config']['method'] == method and set(summary['floors']) == {'raw_pixels', 'random_init', 'chance'}
    ckpt = load_checkpoint(s['checkpoint'])
    model, cfg = model_from_checkpoint(ckpt)
    torch.manual_seed(cfg.seed)
    init = Pretrainer(model.cfg).encoder.state_dict()
    assert any(not torch.equal(v, model.encoder.state_dict()[k]) for k, v in init.items()), 'the encoder did not move'
    train_data, test_data = load_data(cfg)
    again = evaluate_encoder(model.encoder, train_data, test_data, ckpt['mean'], ckpt['std'], cfg)
    assert again['knn_top1'] == pytest.approx(s['knn_top1'], abs=1e-6)

def test_resume_continues_exactly(tmp_path):
    full = run('m3i', tmp_path / 'full', steps=8, eval_knn=False)
    class Stop(Exception): pass
    def stop(record):
        if record['step'] == 6: raise Stop
    with pytest.raises(Stop):
        train(make_config('m3i', 'toy', dict(SMALL, steps=8, eval_knn=False, out_dir=str(tmp_path / 'part'), save_every=4)), callback=stop)
    assert load_checkpoint(tmp_path / 'part' / 'checkpoint.pt')['step'] == 4
    run('m3i', tmp_path / 'part', steps=8, eval_knn=False, resume='auto')
    h_full = load_checkpoint(tmp_path / 'full' / 'checkpoint.pt')['history']
    h_part = load_checkpoint(tmp_path / 'part' / 'checkpoint.pt')['history']
    assert [h['step'] for h in h_part] == list(range(1, 9))
    for a, b in zip(h_full[4:], h_part[4:]): assert a['loss'] == pytest.approx(b['loss'], abs=1e-6)
    w_full, w_part = (load_checkpoint(tmp_path / d / 'checkpoint.pt')['model'] for d in ('full', 'part'))
    for k in w_full: assert torch.equal(w_full[k], w_part[k]), k          # the weights too, teacher included

def test_resume_refuses_another_model(tmp_path):
    run('sim_feature', tmp_path, eval_knn=False)
    with pytest.raises(ValueError, match=r'patch: checkpoint 8 vs run 4, decoder_dim: checkpoint 64 vs run 32'):
        run('sim_feature', tmp_path, eval_knn=False, resume='auto', decoder_dim=32, patch=4)

@pytest.mark.parametrize('overrides,message', [
    ({'stepz': 1}, "unknown key 'stepz'; valid keys"),
    ({'steps': 'many'}, "steps='many' is not a valid int"),
    ({'eval_knn': 'maybe'}, "eval_knn='maybe' is not a valid bool"),
    ({'img_size': 30}, 'img_size=30 is not divisible by patch=8'),
    ({'precision': 'fp8'}, "precision='fp8'; choose 'auto', 'bf16' or 'fp32'"),
    ({'dataset': 'mnist'}, "dataset='mnist'; choose one of"),
    ({'semantic': 'audio'}, "semantic='audio'; choose one of"),
    ({'id_variant': 'simclr'}, "id_variant='simclr'; choose one of .'moco', 'byol', 'barlow', 'msn', 'mocov3', 'dino'."),
    ({'batch_size': 10, 'accum_steps': 3}, 'must divide into 1 processes x 3 accumulation steps'),
])
def test_bad_config_fails_early(overrides, message):
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(')', r'\)')):
        make_config('m3i', 'toy', overrides)

def test_unknown_method_and_preset():
    with pytest.raises(ValueError, match=r"unknown method 'moco3'; choose one of \['classification'"): make_config('moco3', 'toy')
    with pytest.raises(ValueError, match=r"unknown preset 'tiny'; choose one of \['toy'"): make_config('m3i', 'tiny')

def test_missing_data_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match='add --download'):
        train(make_config('m3i', 'cifar-cpu', dict(data_root=str(tmp_path), progress=False)))

def test_unreadable_checkpoint(tmp_path):
    bad = tmp_path / 'bad.pt'; bad.write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match=r'is not an m3i-ref checkpoint \(not a torch.save archive'): load_checkpoint(bad)
    with pytest.raises(FileNotFoundError, match='does not exist'): load_checkpoint(tmp_path / 'missing.pt')
    with pytest.raises(ValueError, match='is not an m3i-ref checkpoint'): run('m3i', tmp_path, resume=str(bad))

def test_gradient_accumulation_matches_big_batch(tmp_path, monkeypatch):
    "With views that do not depend on the draw, two accumulated halves update the weights as the whole batch does."
    import m3i_ref.methods as methods
    from m3i_ref.views import ViewGeometry, sample_jitter, ViewConfig
    identity = lambda n, cfg=None, g=None: (ViewGeometry.identity(n), sample_jitter(n, ViewConfig(jitter_p=0.0, gray_p=0.0)))
    monkeypatch.setattr(methods, 'sample_view_params', identity)
    a = run('classification', tmp_path / 'a', steps=3, eval_knn=False)
    b = run('classification', tmp_path / 'b', steps=3, eval_knn=False, accum_steps=2)
    c = run('classification', tmp_path / 'c', steps=3, eval_knn=False, accum_steps=2, blr=8e-3)
    wa, wb, wc = (load_checkpoint(x['checkpoint'])['model'] for x in (a, b, c))
    same = max((wa[k] - wb[k]).abs().max().item() for k in wa)
    other = max((wa[k] - wc[k]).abs().max().item() for k in wa)
    assert other > 1e-4 and same < other / 100, (same, other)          # equal up to float error, and the check can see a difference

def test_schedule_and_param_groups():
    assert lr_at(0, 100, 1.0, 10) == pytest.approx(0.1) and lr_at(10, 100, 1.0, 10) == pytest.approx(1.0)
    assert lr_at(99, 100, 1.0, 10, min_lr=0.1) == pytest.approx(0.1, abs=1e-3)
    model = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.LayerNorm(4))
    decay, no_decay = param_groups(model, 0.05)
    assert [p.ndim for p in decay['params']] == [2] and all(p.ndim == 1 for p in no_decay['params'])
    assert no_decay['weight_decay'] == 0.0

def test_presets_are_valid():
    for name in PRESETS: make_config('m3i', name)

def test_cli_train_and_eval(tmp_path, capsys):
    assert main(['train', '--method', 'mim_pixel', '--preset', 'toy', '--out-dir', str(tmp_path),
                 *sum([['--set', f'{k}={v}'] for k, v in SMALL.items()], [])]) == 0
    summary = json.loads((tmp_path / 'summary.json').read_text())
    assert f"mim_pixel: kNN {summary['knn_top1']:.1f} (raw pixels {summary['floors']['raw_pixels']:.1f}, " in capsys.readouterr().out
    assert main(['eval', '--ckpt', str(tmp_path / 'checkpoint.pt'), '--linear']) == 0
    out = capsys.readouterr().out
    res = json.loads((tmp_path / 'eval.json').read_text())
    assert f"mim_pixel: kNN {res['knn_top1']:.1f} (raw pixels {res['floors']['raw_pixels']:.1f}, random init" in out
    assert 0 <= res['knn_top1'] <= 100 and 0 <= res['linear_top1'] <= 100 and res['method'] == 'mim_pixel'
    assert main(['train', '--set', 'oops']) == 2
    assert "--set expects key=value, got 'oops'" in capsys.readouterr().err

def test_imagefolder_data_trains_through_a_dataloader(tmp_path, shapes, write_image_folder):
    "The ImageNet-style path: an ImageFolder tree with a captions file, decoded per sample by two DataLoader workers."
    imgs, caps = write_image_folder(tmp_path, shapes[0])
    s = train(make_config('m3i', 'toy', dict(dataset='folder', data_root=str(imgs), captions_file=str(caps), train_size=0, test_size=0,
                                              semantic='both', steps=3, batch_size=8, num_workers=2, progress=False, knn_k=5,
                                              out_dir=str(tmp_path / 'run'))))
    assert math.isfinite(s['final_loss']) and 0 <= s['knn_top1'] <= 100

def test_folder_batches_are_the_in_memory_batches_and_resume_mid_run(tmp_path, shapes, write_image_folder):
    "Folder data sees the images `batch_indices` gives in-memory data at every step, across epochs and after a restart."
    from m3i_ref.data import load_dataset
    from m3i_ref.train import Batches, batch_indices
    imgs, _ = write_image_folder(tmp_path, shapes[0])
    folder = load_dataset('folder', 'train', root=str(imgs), size=32)
    cfg = make_config('classification', 'toy', dict(batch_size=8, num_workers=2, seed=3))
    total = 3 * (len(folder) // 8)                                     # three epochs
    run = Batches(folder, cfg, total)
    seen = [run(s) for s in range(total)]
    for s, b in enumerate(seen): assert torch.equal(b['index'], batch_indices(s, len(folder), 8, 3)), s
    assert torch.equal(seen[4]['image'][1], folder[int(seen[4]['index'][1])][0])
    restarted = Batches(folder, cfg, total)                            # a resumed run starts in the third epoch
    for s in (total - 3, total - 2, total - 1): assert torch.equal(restarted(s)['index'], seen[s]['index'])
    assert torch.equal(restarted(1)['index'], seen[1]['index'])       # and may jump back

def test_compiled_run_writes_a_plain_checkpoint(tmp_path):
    "compile=True goes through torch.compile (inductor on CPU); its checkpoint loads into an uncompiled model."
    from m3i_ref.train import model_from_checkpoint
    s = run('mim_pixel', tmp_path, steps=3, eval_knn=False, compile=True)
    assert math.isfinite(s['final_loss'])
    model, cfg = model_from_checkpoint(load_checkpoint(tmp_path / 'checkpoint.pt'))
    assert cfg.compile and not any('_orig_mod' in k for k in model.state_dict())

def test_short_toy_classification_beats_its_random_init_floor(tmp_path):
    "The toy data and preset let a method visibly learn: a short supervised run ends well above the untrained encoder."
    s = train(make_config('classification', 'toy', dict(steps=150, train_size=1024, test_size=512, progress=False, out_dir=str(tmp_path))))
    f = s['floors']
    assert set(f) == {'raw_pixels', 'random_init', 'chance'}
    assert f['chance'] < f['random_init'] < f['raw_pixels']
    assert s['knn_top1'] >= f['random_init'] + 10, (s['knn_top1'], f)

def test_floors_are_the_untrained_encoder_and_are_cached(tmp_path, monkeypatch):
    "random_init is the encoder `train` starts from (same architecture, same seed); a second call reads the cache."
    from m3i_ref.data import make_shapes, cache_dir
    from m3i_ref.train import score_line, model_config
    from m3i_ref.results import floors, floor_view
    from m3i_ref.evaluate import extract_features, knn_accuracy
    monkeypatch.setenv('M3I_CACHE', str(tmp_path))
    cfg = make_config('classification', 'toy', dict(knn_k=20))
    tr, te = make_shapes(300, seed=0), make_shapes(120, seed=10_000)
    mean, std = tr.mean_std()
    f = floor_view(floors(cfg, tr, te, mean, std))
    majority = tr.labels.bincount().argmax()
    assert f['chance'] == pytest.approx(100 * (te.labels == majority).float().mean().item(), abs=0.01)
    torch.manual_seed(cfg.seed)
    enc = Pretrainer(model_config(cfg)).encoder                         # what train() builds first
    a, b = extract_features(enc, tr, mean, std); c, d = extract_features(enc, te, mean, std)
    assert f['random_init'] == pytest.approx(knn_accuracy(a, b, c, d, 6, 20, cfg.knn_t), abs=0.01)
    cached = list((cache_dir() / 'floors').glob('*.json'))
    assert len(cached) == 1
    poisoned = json.loads(cached[0].read_text()); poisoned['raw_pixels']['knn_top1'] = -1.0
    cached[0].write_text(json.dumps(poisoned))
    assert floor_view(floors(cfg, tr, te, mean, std))['raw_pixels'] == -1.0       # read back, not recomputed
    assert floor_view(floors(cfg, tr, make_shapes(120, seed=7), mean, std))['raw_pixels'] >= 0   # other data: another key
    cached[0].write_text('{not json')
    assert floor_view(floors(cfg, tr, te, mean, std))['raw_pixels'] >= 0          # a damaged cache is recomputed
    assert score_line(dict(knn_top1=78.44, floors=dict(raw_pixels=41.0, random_init=22.34, chance=16.7))) == \
        'kNN 78.4 (raw pixels 41.0, random init 22.3, chance 16.7)'
    assert score_line(dict(knn_top1=78.44, floors=dict(raw_pixels=41.0, random_init=22.34, chance=16.7), linear_top1=80.0,
                           linear_floors=dict(raw_pixels=50.0, random_init=45.0, chance=16.7))) == \
        'kNN 78.4 (raw pixels 41.0, random init 22.3, chance 16.7), linear probe 80.0 (raw pixels 50.0, random init 45.0, chance 16.7)'
