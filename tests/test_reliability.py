"Reliability: no silent wrong results, no lost work, every user error clear and early. Each test simulates the failure it names."
import io, json, os, signal, stat, subprocess, sys, time
from pathlib import Path
import pytest
import torch
from m3i_ref.train import make_config, train, load_checkpoint, Interrupted, finite_json
from m3i_ref.methods import Pretrainer
from m3i_ref.data import atomic_save, make_shapes, load_cifar, load_dataset, FolderDataset, decode_folder, cache_dir
from m3i_ref.cli import main

SMALL = dict(steps=6, train_size=128, test_size=64, progress=False, log_every=1, batch_size=16, eval_knn=False)

def cfg_for(method, out, **kw): return make_config(method, 'toy', dict(SMALL, out_dir=str(out), **kw))
def weights(path): return load_checkpoint(path)['model']

# -- non-finite values -------------------------------------------------------------------------------------------

def test_a_nan_term_is_named_although_it_spoils_the_total(tmp_path, monkeypatch):
    "As in a real divergence, the poisoned term makes the total NaN too; the error must still name the term."
    orig = Pretrainer.forward
    def poisoned(self, slots):
        out = orig(self, slots)
        if poisoned.calls == 2:
            out['terms']['sim_feature@b'] = out['terms']['sim_feature@b'] * float('nan')
            out['loss'] = sum(out['terms'].values())
        poisoned.calls += 1
        return out
    poisoned.calls = 0
    monkeypatch.setattr(Pretrainer, 'forward', poisoned)
    with pytest.raises(FloatingPointError, match=r'non-finite loss at step 2: sim_feature@b = nan'):
        train(cfg_for('m3i', tmp_path))

def test_a_nan_gradient_stops_before_the_weights_change(tmp_path, monkeypatch):
    "A finite loss with a NaN gradient: no update happens, and the last checkpoint stays finite and loadable."
    orig = Pretrainer.forward
    def poisoned(self, slots):
        out = orig(self, slots)
        poisoned.calls += 1
        if poisoned.calls == 4:                                # value 0, gradient 0 * inf = NaN
            w = self.encoder.patch_embed.weight
            out['loss'] = out['loss'] + 0 * torch.sqrt((w - w.detach()).sum())
        return out
    poisoned.calls = 0
    monkeypatch.setattr(Pretrainer, 'forward', poisoned)
    with pytest.raises(FloatingPointError, match='non-finite gradient at step 3'):
        train(cfg_for('classification', tmp_path, save_every=1))
    ckpt = load_checkpoint(tmp_path / 'checkpoint.pt')          # refuses non-finite weights, so loading is the check
    assert ckpt['step'] == 3

def test_a_checkpoint_with_nan_weights_is_refused_by_eval(tmp_path, capsys):
    train(cfg_for('classification', tmp_path))
    ckpt = torch.load(tmp_path / 'checkpoint.pt', weights_only=True)
    ckpt['model']['encoder.patch_embed.weight'][0, 0] = float('nan')
    torch.save(ckpt, tmp_path / 'bad.pt')
    assert main(['eval', '--ckpt', str(tmp_path / 'bad.pt')]) == 2
    err = capsys.readouterr().err
    assert 'non-finite weights in 1 of' in err and 'encoder.patch_embed.weight' in err
    assert not (tmp_path / 'eval.json').exists()

def test_summaries_are_valid_json_even_with_nan():
    text = finite_json({'collapse': float('nan'), 'runs': [1.0, float('inf')], 'ok': 2.5})
    assert json.loads(text) == {'collapse': None, 'runs': [1.0, None], 'ok': 2.5} and 'NaN' not in text

# -- lost work ---------------------------------------------------------------------------------------------------

def test_rerunning_over_a_finished_run_is_refused_until_asked(tmp_path):
    train(cfg_for('classification', tmp_path))
    before = (tmp_path / 'checkpoint.pt').read_bytes()
    with pytest.raises(ValueError, match='already holds a run .*--set resume=auto.*--set overwrite=true'):
        train(cfg_for('classification', tmp_path, seed=1))
    assert (tmp_path / 'checkpoint.pt').read_bytes() == before
    train(cfg_for('classification', tmp_path, seed=1, overwrite=True))
    assert json.loads((tmp_path / 'summary.json').read_text())['config']['seed'] == 1
    assert not torch.equal(weights(tmp_path / 'checkpoint.pt')['encoder.patch_embed.weight'],
                           torch.load(io.BytesIO(before), weights_only=True)['model']['encoder.patch_embed.weight'])

@pytest.mark.parametrize('change', [dict(steps=3), dict(seed=5), dict(blr=1e-2), dict(crop_min=0.9)])
def test_resume_with_other_run_settings_is_refused(tmp_path, change):
    train(cfg_for('classification', tmp_path))
    key = next(iter(change))
    with pytest.raises(ValueError, match=f'cannot resume: .*{key}: checkpoint'):
        train(cfg_for('classification', tmp_path, resume='auto', **change))

def test_resume_may_change_where_and_how_it_reports(tmp_path):
    train(cfg_for('classification', tmp_path, steps=4))
    s = train(cfg_for('classification', tmp_path, steps=4, resume='auto', log_every=2, eval_knn=True, knn_k=5))
    assert s['knn_top1'] is not None

def test_sigint_saves_and_the_run_resumes_exactly(tmp_path):
    full = train(cfg_for('sim_feature', tmp_path / 'full', steps=8))
    def ctrl_c(record):
        if record['step'] == 3: os.kill(os.getpid(), signal.SIGINT)
    with pytest.raises(Interrupted, match=r'interrupted at step 3 of 8 \(SIGINT\); checkpoint saved to .*resume=auto'):
        train(cfg_for('sim_feature', tmp_path / 'cut', steps=8), callback=ctrl_c)
    assert load_checkpoint(tmp_path / 'cut' / 'checkpoint.pt')['step'] == 3
    train(cfg_for('sim_feature', tmp_path / 'cut', steps=8, resume='auto'))
    a, b = weights(tmp_path / 'full' / 'checkpoint.pt'), weights(tmp_path / 'cut' / 'checkpoint.pt')
    for k in a: assert torch.equal(a[k], b[k]), k

def test_atomic_save_keeps_the_old_file_when_a_write_dies(tmp_path, monkeypatch):
    path = tmp_path / 'checkpoint.pt'
    atomic_save({'w': torch.ones(3)}, path)
    real_save = torch.save
    def dies_half_way(obj, f):
        f.write(b'PK\x03\x04 half a zip'); raise OSError('disk full')
    monkeypatch.setattr(torch, 'save', dies_half_way)
    with pytest.raises(OSError, match='disk full'): atomic_save({'w': torch.zeros(3)}, path)
    monkeypatch.setattr(torch, 'save', real_save)
    assert torch.equal(torch.load(path, weights_only=True)['w'], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ['checkpoint.pt']

def _dead_pid():
    p = subprocess.Popen([sys.executable, '-c', 'pass']); p.wait(); return p.pid   # reaped: no such process any more

def test_atomic_save_removes_orphans_and_writes_readable_files(tmp_path):
    from m3i_ref.data import _HOST
    orphan = tmp_path / f'summary.json.{_HOST}-{_dead_pid()}.k3j2.tmp'; orphan.write_text('{"half')   # as a kill -9 mid-write leaves it
    stale = tmp_path / 'summary.json.k3j2.tmp'; stale.write_text('{"half')         # an old name or another host: by age
    os.utime(stale, (time.time() - 7200, time.time() - 7200))
    old = os.umask(0o022)
    try: atomic_save('{}', tmp_path / 'summary.json')
    finally: os.umask(old)
    assert not orphan.exists() and not stale.exists()
    assert stat.S_IMODE((tmp_path / 'summary.json').stat().st_mode) == 0o644

def test_atomic_save_keeps_a_live_writers_file(tmp_path):
    "Two processes saving the same path at once (two bench jobs into one folder) must not delete each other's file."
    from m3i_ref.data import _HOST
    writer = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'])
    try:
        busy = tmp_path / f'quality.md.{_HOST}-{writer.pid}.x1y2.tmp'; busy.write_text('half written by the other job')
        fresh = tmp_path / 'quality.md.abcd.tmp'; fresh.write_text('another host, still writing')
        atomic_save('mine', tmp_path / 'quality.md')
        assert busy.exists() and fresh.exists() and (tmp_path / 'quality.md').read_text() == 'mine'
    finally: writer.kill(); writer.wait()
    atomic_save('again', tmp_path / 'quality.md')             # the writer is gone: its file is an orphan now
    assert not busy.exists() and fresh.exists()

def test_loading_a_checkpoint_runs_no_code(tmp_path):
    marker = tmp_path / 'pwned'
    class Evil:
        def __reduce__(self): return (Path.touch, (marker,))
    torch.save({'model': {}, 'config': {}, 'payload': Evil()}, tmp_path / 'evil.pt')
    with pytest.raises(ValueError, match='cannot read checkpoint'): load_checkpoint(tmp_path / 'evil.pt')
    assert not marker.exists()

# -- early, clear errors -----------------------------------------------------------------------------------------

@pytest.mark.parametrize('overrides,message', [
    ({'patch': 0}, 'patch=0 must be >= 1'), ({'log_every': 0}, 'log_every=0 must be >= 1'), ({'steps': -5}, 'steps=-5 must be >= 0'),
    ({'blr': 0}, 'blr=0.0 must be > 0'), ({'crop_min': 1.5}, r'crop_min=1.5 must be in \(0, 1\]'), ({'knn_k': 0}, 'knn_k=0 must be >= 1')])
def test_bad_numbers_fail_before_any_work(overrides, message):
    with pytest.raises(ValueError, match=message): make_config('m3i', 'toy', overrides)

def test_an_unwritable_out_dir_fails_before_the_first_step(tmp_path, monkeypatch):
    (tmp_path / 'a_file').write_text('x')
    monkeypatch.setattr(Pretrainer, 'forward', lambda *a: pytest.fail('training started'))
    with pytest.raises(ValueError, match="cannot write to out_dir .*a_file/run"):
        train(cfg_for('classification', tmp_path / 'a_file' / 'run'))

def jpeg_tree(root, classes=('cat', 'dog', 'fox'), per_class=4):
    "A CIFAR-style JPEG copy (<root>/cifar10-jpeg/train/<class>/*.jpg) of shapes images."
    from PIL import Image
    data = make_shapes(len(classes) * per_class, seed=0)
    for i in range(len(data)):
        d = root / 'cifar10-jpeg' / 'train' / classes[i % len(classes)]; d.mkdir(parents=True, exist_ok=True)
        Image.fromarray(data.images[i].permute(1, 2, 0).numpy()).save(d / f'{i}.jpg', quality=95)
    return root / 'cifar10-jpeg' / 'train'

def test_the_decoded_cache_notices_a_deleted_class(tmp_path):
    import shutil
    folder = jpeg_tree(tmp_path)
    assert load_cifar('cifar10', 'train', root=tmp_path).num_classes == 3
    shutil.rmtree(folder / 'fox')
    again = load_cifar('cifar10', 'train', root=tmp_path)
    assert again.classes == ['cat', 'dog'] and len(again) == 8

def test_a_truncated_cache_file_is_rebuilt_and_named(tmp_path, capsys):
    jpeg_tree(tmp_path)
    first = load_cifar('cifar10', 'train', root=tmp_path)
    [cached] = [p for p in cache_dir().glob('cifar10-train-*.pt') if p.stat().st_mtime >= (tmp_path / 'cifar10-jpeg').stat().st_mtime]
    cached.write_bytes(cached.read_bytes()[:100])
    again = load_cifar('cifar10', 'train', root=tmp_path)
    assert torch.equal(again.images, first.images)
    assert str(cached) in capsys.readouterr().err

def test_train_size_takes_a_fixed_subset_of_cifar_and_is_refused_for_folders(tmp_path):
    jpeg_tree(tmp_path)
    a, b = load_dataset('cifar10', 'train', root=tmp_path, n=5), load_dataset('cifar10', 'train', root=tmp_path, n=5)
    assert len(a) == 5 and torch.equal(a.images, b.images)
    with pytest.raises(ValueError, match='cannot take 50 images from cifar10, which has 12'):
        load_dataset('cifar10', 'train', root=tmp_path, n=50)
    (tmp_path / 'f' / 'train').mkdir(parents=True)
    with pytest.raises(ValueError, match='a folder dataset uses every image'):
        load_dataset('folder', 'train', root=tmp_path / 'f', n=5)

def test_a_damaged_image_is_named(tmp_path):
    folder = jpeg_tree(tmp_path)
    bad = folder / 'dog' / '1.jpg'
    bad.write_bytes(bad.read_bytes()[:40])
    with pytest.raises(ValueError, match=f'cannot decode image {bad}.*Remove or replace this file'):
        decode_folder(folder)
    ds = FolderDataset(folder, size=32)
    i = [str(p) for p, _ in ds.samples].index(str(bad))
    with pytest.raises(ValueError, match=f'cannot decode image {bad}'): ds[i]
