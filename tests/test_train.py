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
    s = run(method, tmp_path, eval_knn=True, knn_k=20)
    assert math.isfinite(s['final_loss']) and 0 <= s['knn_top1'] <= 100
    assert Path(s['checkpoint']).exists() and Path(s['plot']).exists()
    summary = json.loads((tmp_path / 'summary.json').read_text())
    assert summary['config']['method'] == method

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

def test_resume_refuses_another_model(tmp_path):
    run('sim_feature', tmp_path, eval_knn=False)
    with pytest.raises(ValueError, match=r'decoder_dim: checkpoint 64 vs run 32.*patch: checkpoint 4 vs run 8|patch: checkpoint 4 vs run 8'):
        run('sim_feature', tmp_path, eval_knn=False, resume='auto', decoder_dim=32, patch=8)

def test_checkpoint_write_is_atomic(tmp_path):
    run('classification', tmp_path, eval_knn=False)
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith('.tmp')] == []

@pytest.mark.parametrize('overrides,message', [
    ({'stepz': 1}, "unknown key 'stepz'; valid keys"),
    ({'steps': 'many'}, "steps='many' is not a valid int"),
    ({'eval_knn': 'maybe'}, "eval_knn='maybe' is not a valid bool"),
    ({'img_size': 30}, 'img_size=30 is not divisible by patch=4'),
    ({'precision': 'fp8'}, "precision='fp8'; choose 'auto', 'bf16' or 'fp32'"),
    ({'dataset': 'mnist'}, "dataset='mnist'; choose one of"),
    ({'semantic': 'audio'}, "semantic='audio'; choose one of"),
    ({'id_variant': 'simclr'}, "id_variant='simclr'; choose 'moco', 'byol' or 'barlow'"),
    ({'batch_size': 10, 'accum_steps': 3}, 'must divide into 1 processes x 3 accumulation steps'),
])
def test_bad_config_fails_early(overrides, message):
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(')', r'\)')):
        make_config('m3i', 'toy', overrides)

def test_unknown_method_and_preset():
    with pytest.raises(ValueError, match=r"unknown method 'moco3'; choose one of \['classification'"): make_config('moco3', 'toy')
    with pytest.raises(ValueError, match=r"unknown preset 'tiny'; choose one of \['toy'"): make_config('m3i', 'tiny')

def test_missing_data_says_how_to_get_it(tmp_path):
    with pytest.raises(FileNotFoundError, match='download=True'):
        train(make_config('m3i', 'cifar-cpu', dict(data_root=str(tmp_path), progress=False)))

def test_unreadable_checkpoint(tmp_path):
    bad = tmp_path / 'bad.pt'; bad.write_bytes(b'not a checkpoint')
    with pytest.raises(ValueError, match='cannot read checkpoint'): load_checkpoint(bad)
    with pytest.raises(FileNotFoundError, match='does not exist'): load_checkpoint(tmp_path / 'missing.pt')
    with pytest.raises(ValueError, match='cannot read checkpoint'): run('m3i', tmp_path, resume=str(bad))

def test_nan_loss_names_step_and_term(tmp_path, monkeypatch):
    orig = Pretrainer.forward
    calls = {'n': 0}
    def poisoned(self, slots):
        out = orig(self, slots)
        calls['n'] += 1
        if calls['n'] == 3: out['terms']['mim_feature@a'] = out['terms']['mim_feature@a'] * float('nan')
        return out
    monkeypatch.setattr(Pretrainer, 'forward', poisoned)
    with pytest.raises(FloatingPointError, match=r'non-finite loss at step 2: mim_feature@a = nan'):
        run('m3i', tmp_path, eval_knn=False)

def test_gradient_accumulation_matches_big_batch(tmp_path):
    a = run('classification', tmp_path / 'a', steps=3, eval_knn=False)
    b = run('classification', tmp_path / 'b', steps=3, eval_knn=False, accum_steps=2)
    ha, hb = load_checkpoint(a['checkpoint'])['history'], load_checkpoint(b['checkpoint'])['history']
    assert ha[0]['loss'] == pytest.approx(hb[0]['loss'], abs=0.2)   # different micro-batch draws, same scale

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
    assert main(['eval', '--ckpt', str(tmp_path / 'checkpoint.pt'), '--linear']) == 0
    res = json.loads((tmp_path / 'eval.json').read_text())
    assert 0 <= res['knn_top1'] <= 100 and 0 <= res['linear_top1'] <= 100 and res['method'] == 'mim_pixel'
    assert main(['train', '--set', 'oops']) == 2
    assert "--set expects key=value, got 'oops'" in capsys.readouterr().err

def write_image_folder(root, data, per_split=24, classes=3):
    "An ImageFolder tree (train/ and val/) of `data`'s first images as PNGs, and a captions file: the ImageNet-style layout."
    import torchvision
    for split in ('train', 'val'):
        for c in data.classes[:classes]: (root / 'imgs' / split / c).mkdir(parents=True)
        for i in range(per_split):
            c = data.classes[int(data.labels[i]) % classes]
            torchvision.io.write_png(data.images[i], str(root / 'imgs' / split / c / f'{i}.png'))
    (root / 'caps.tsv').write_text('\n'.join(f'{c}/{i}.png\ta picture of a {c}' for i in range(per_split) for c in data.classes[:classes]))
    return root / 'imgs', root / 'caps.tsv'

def test_imagefolder_data_trains_through_a_dataloader(tmp_path, shapes):
    "The ImageNet-style path: an ImageFolder tree with a captions file, decoded per sample by two DataLoader workers."
    imgs, caps = write_image_folder(tmp_path, shapes[0])
    s = train(make_config('m3i', 'toy', dict(dataset='folder', data_root=str(imgs), captions_file=str(caps),
                                              semantic='both', steps=3, batch_size=8, num_workers=2, progress=False, knn_k=5,
                                              out_dir=str(tmp_path / 'run'))))
    assert math.isfinite(s['final_loss']) and 0 <= s['knn_top1'] <= 100

def test_folder_batches_are_the_in_memory_batches_and_resume_mid_run(tmp_path, shapes):
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
