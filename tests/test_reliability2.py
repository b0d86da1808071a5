"""Reliability, round two (issue 27). Each test simulates the failure its item names and fails on the code before the fix;
`docs/reliability.md` lists them by item number (R2-n)."""
import json, math, os, re, signal, subprocess, sys, time
from dataclasses import fields
from pathlib import Path
import pytest
import torch
from m3i_ref.config import TrainConfig, RANGES, Range, make_config
from m3i_ref.train import train, load_checkpoint
from m3i_ref.cli import main

ROOT = Path(__file__).resolve().parent.parent
SMALL = dict(steps=6, train_size=128, test_size=64, progress=False, log_every=1, batch_size=16, eval_knn=False)

def cfg_for(method, out, **kw): return make_config(method, 'toy', dict(SMALL, out_dir=str(out), **kw))

# -- R2-6, R2-16: every numeric key has its range ----------------------------------------------------------------

NUMERIC = [f.name for f in fields(TrainConfig) if f.type in (int, float, 'int', 'float')]

def outside(r: Range):
    "Values just outside a range, and the non-finite ones."
    vals = [float('nan'), float('inf')]
    if r.low is not None: vals.append(r.low if r.low_open else r.low - 1)
    if r.high is not None: vals.append(r.high if r.high_open else r.high + 1)
    return vals

def test_every_numeric_key_has_a_range():
    assert len(NUMERIC) > 40 and not [k for k in NUMERIC if k not in RANGES]

@pytest.mark.parametrize('key', NUMERIC)
def test_every_numeric_key_refuses_a_value_outside_its_range(key):
    typ = {f.name: f.type for f in fields(TrainConfig)}[key]
    for v in outside(RANGES[key]):
        if typ in (int, 'int') and not math.isfinite(v): continue        # an int key cannot hold nan or inf
        v = int(v) if typ in (int, 'int') else v
        with pytest.raises(ValueError, match=f'^{key}=') as e: make_config('mim_pixel', 'toy', {key: v})
        assert str(RANGES[key]) in str(e.value)

@pytest.mark.parametrize('overrides,message', [
    ({'decoder_dim': 0}, 'decoder_dim=0 must be >= 1'), ({'text_len': 0}, 'text_len=0 must be >= 1'),
    ({'jitter_p': 5}, r'jitter_p=5.0 must be in \[0, 1\]'), ({'gray_p': -1}, 'gray_p=-1.0 must be in'),
    ({'w_image': -1}, 'w_image=-1.0 must be >= 0'), ({'min_lr': 'nan'}, 'min_lr=nan must be >= 0 and finite'),
    ({'weight_decay': 'inf'}, 'weight_decay=inf must be'), ({'clip_grad': 'nan'}, 'clip_grad=nan'), ({'blr': 'inf'}, 'blr=inf must be > 0'),
    ({'epochs': 'inf'}, 'epochs=inf'), ({'proj_dim': -1}, 'proj_dim=-1 must be >= 1'),
    ({'seed': '99999999999999999999'}, r'seed=99999999999999999999 must be in \[0, 4294967295\]'),
    ({'img_size': 8}, 'img_size=8 with patch=8 gives 1 patch.*at least 2x2'),
    ({'mim_feature.mask_ratio': 1.5}, r'mim_feature.mask_ratio=1.5 must be in \[0, 1\)')])
def test_the_reported_values_are_refused_naming_the_key(overrides, message):
    method = 'm3i' if any('.' in k for k in overrides) else 'mim_pixel'
    with pytest.raises(ValueError, match=message): make_config(method, 'toy', {k: str(v) for k, v in overrides.items()})

def test_a_pipeline_share_that_is_not_a_number_is_refused(tmp_path, capsys):
    for share in ('"1.0"', 'NaN'):
        p = tmp_path / 'p.json'
        p.write_text('{"name": "x", "stages": [{"method": "mim_pixel", "share": %s}]}' % share)
        assert main(['pipeline', str(p), '--out-dir', str(tmp_path / 'out')]) == 2
        assert 'stage 1 (mim_pixel): share=' in capsys.readouterr().err and not (tmp_path / 'out').exists()

# -- R2-5: an option the recipe does not read ----------------------------------------------------------------------

@pytest.mark.parametrize('method', ['m3i', 'm3i_nomix'])
@pytest.mark.parametrize('key', ['mask_ratio', 'mim_feature.mask_ratio'])
def test_mask_ratio_on_m3i_is_refused_because_it_is_never_read(method, key):
    with pytest.raises(ValueError, match=f'{key} does not apply to {method!r}.*mix_ratio'):
        make_config(method, 'toy', {key: 0.3})

def test_mask_ratio_is_read_where_it_is_accepted(tmp_path):
    "The other side: on a one-image masked row, mask_ratio changes the weights (so refusing it on M3I is the only gap)."
    a = train(cfg_for('mim_pixel', tmp_path / 'a', steps=2))
    b = train(cfg_for('mim_pixel', tmp_path / 'b', steps=2, mask_ratio=0.3))
    wa, wb = (load_checkpoint(s['checkpoint'])['model'] for s in (a, b))
    assert any(not torch.equal(wa[k], wb[k]) for k in wa)

# -- R2-8: overwrite removes everything the old run wrote ----------------------------------------------------------

def test_overwrite_leaves_no_old_eval_json(tmp_path):
    train(cfg_for('classification', tmp_path, steps=2))
    assert main(['eval', '--ckpt', str(tmp_path / 'checkpoint.pt')]) == 0 and (tmp_path / 'eval.json').exists()
    train(cfg_for('classification', tmp_path, steps=2, overwrite=True))
    assert not (tmp_path / 'eval.json').exists()

# -- R2-7: python -m m3i_ref.cli ------------------------------------------------------------------------------------

@pytest.mark.slow
def test_python_m_cli_trains(tmp_path):
    out = subprocess.run([sys.executable, '-m', 'm3i_ref.cli', 'train', '--method', 'classification', '--out-dir', str(tmp_path),
                          '--set', 'steps=2', '--set', 'train_size=64', '--set', 'test_size=32', '--set', 'eval_knn=false',
                          '--set', 'progress=false'], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert load_checkpoint(tmp_path / 'checkpoint.pt')['step'] == 2

# -- R2-17: a damaged result in a bench folder is named -------------------------------------------------------------

@pytest.mark.parametrize('content,message', [('{"images_seen": 64000, "pre', 'is not valid JSON'),
                                             ('{"note": "mine"}', 'is not a bench quality result')])
def test_bench_names_a_truncated_or_stray_result(tmp_path, capsys, monkeypatch, content, message):
    from m3i_ref import bench
    (tmp_path / 'runs').mkdir()
    bad = tmp_path / 'runs' / 'mim_pixel.json'; bad.write_text(content)
    monkeypatch.setattr(bench, 'quality_run', lambda *a, **k: pytest.fail('a run started before the folder was read'))
    assert main(['bench', 'quality', '--preset', 'toy', '--out', str(tmp_path), '--runs', 'mim_pixel']) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and message in err

# -- R2-14, R2-4, R2-9a: what is not a checkpoint, a damaged one, an edited step ----------------------------------------

@pytest.fixture(scope='module')
def a_run(tmp_path_factory):
    d = tmp_path_factory.mktemp('run')
    train(make_config('classification', 'toy', dict(SMALL, steps=3, out_dir=str(d))))
    return d

def _png(path):
    from PIL import Image
    Image.new('RGB', (4, 4)).save(path); return path

@pytest.mark.parametrize('make,message', [
    (lambda d: _png(d / 'x.png'), r'is not an m3i-ref checkpoint \(not a torch.save archive'),
    (lambda d: (d / 'x.json').write_text('{}') and d / 'x.json', 'is not an m3i-ref checkpoint'),
    (lambda d: d, r'checkpoint .*/checkpoint.pt does not exist'),            # a folder is read as a run folder
    (lambda d: Path('/dev/null'), 'is not a file'),
    (lambda d: torch.save({'weights': torch.ones(2)}, d / 'other.pt') or d / 'other.pt', r'is not an m3i-ref checkpoint \(missing model, config, step')])
def test_eval_on_what_is_not_a_checkpoint_says_so(tmp_path, capsys, make, message):
    assert main(['eval', '--ckpt', str(make(tmp_path))]) == 2
    err = capsys.readouterr().err
    assert re.search(message, err) and 'weights_only' not in err and 'Traceback' not in err

def test_a_checkpoint_with_flipped_bits_is_refused(a_run, tmp_path, capsys):
    "200 floats changed on disk: before, eval read it with exit 0 and another score; now the CRC check names the file."
    import zipfile
    blob = bytearray((a_run / 'checkpoint.pt').read_bytes())
    with zipfile.ZipFile(a_run / 'checkpoint.pt') as z:
        info = max(z.infolist(), key=lambda i: i.file_size)          # the largest tensor
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    for i in range(200): blob[start + 4 * i + 1] ^= 0x5A
    bad = tmp_path / 'flipped.pt'; bad.write_bytes(bytes(blob))
    torch.load(bad, weights_only=True)                                  # torch itself reads it without a word
    assert main(['eval', '--ckpt', str(bad)]) == 2
    err = capsys.readouterr().err
    assert f'{bad} is damaged' in err and 'CRC' in err and not (tmp_path / 'eval.json').exists()

@pytest.mark.parametrize('step', [-3, 2.5, 'x'])
def test_a_checkpoint_with_a_bad_step_is_refused(a_run, tmp_path, step):
    ckpt = torch.load(a_run / 'checkpoint.pt', weights_only=True); ckpt['step'] = step
    (tmp_path / 'r').mkdir(); torch.save(ckpt, tmp_path / 'r' / 'checkpoint.pt')
    with pytest.raises(ValueError, match='which is not a step count'):
        train(make_config('classification', 'toy', dict(SMALL, steps=3, out_dir=str(tmp_path / 'r'), resume='auto')))

def test_resume_refuses_weights_that_do_not_fit(a_run, tmp_path):
    ckpt = torch.load(a_run / 'checkpoint.pt', weights_only=True)
    ckpt['model'] = {k.replace('encoder.', 'backbone.'): v for k, v in ckpt['model'].items()}
    (tmp_path / 'r').mkdir(); torch.save(ckpt, tmp_path / 'r' / 'checkpoint.pt')
    with pytest.raises(ValueError, match=r'its weights do not fit this model \(missing .*encoder.*unexpected .*backbone'):
        train(make_config('classification', 'toy', dict(SMALL, steps=3, out_dir=str(tmp_path / 'r'), resume='auto')))
    del ckpt['optimizer']; torch.save(ckpt, tmp_path / 'r' / 'checkpoint.pt')
    with pytest.raises(ValueError, match='it has no optimizer'):
        train(make_config('classification', 'toy', dict(SMALL, steps=3, out_dir=str(tmp_path / 'r'), resume='auto')))

# -- R2-9b: the data changed between a run and its resume ---------------------------------------------------------------

def test_resume_on_changed_data_warns(tmp_path, capsys, write_image_folder):
    from m3i_ref.data import make_shapes
    folder, _ = write_image_folder(tmp_path, make_shapes(64, seed=0))
    kw = dict(SMALL, steps=4, dataset='folder', data_root=str(folder), num_workers=0, train_size=0, test_size=0)
    class Stop(Exception): pass
    def stop(r):
        if r['step'] == 3: raise Stop
    with pytest.raises(Stop): train(make_config('classification', 'toy', dict(kw, out_dir=str(tmp_path / 'run'), save_every=2)), callback=stop)
    assert load_checkpoint(tmp_path / 'run' / 'checkpoint.pt')['data']['images'] == 24
    victim = next((folder / 'train').rglob('*.png')); victim.unlink()
    capsys.readouterr()
    train(make_config('classification', 'toy', dict(kw, out_dir=str(tmp_path / 'run'), resume='auto')))
    err = capsys.readouterr().err
    assert 'the training data changed since' in err and '24 images then, 23 now' in err

# -- R2-2: one run folder, one process ------------------------------------------------------------------------------

TRAIN_ARGS = ['--method', 'classification', '--set', 'train_size=64', '--set', 'test_size=32', '--set', 'eval_knn=false',
              '--set', 'progress=false', '--set', 'batch_size=16', '--set', 'log_every=1']

def _start(out, *extra, steps=100000):
    return subprocess.Popen([sys.executable, '-m', 'm3i_ref', 'train', *TRAIN_ARGS, '--out-dir', str(out), '--set', f'steps={steps}', *extra],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env=dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT)))

def _wait_for(path, proc, timeout=120, rows=1):
    "Until `path` (metrics.csv) holds `rows` logged steps, or the process ends."
    t = time.time()
    while time.time() - t < timeout and proc.poll() is None:
        if path.exists() and len(path.read_text().splitlines()) > rows: return True
        time.sleep(0.2)
    return False

@pytest.mark.slow
def test_two_runs_into_one_folder_the_second_is_refused_and_a_dead_lock_is_taken_over(tmp_path, capsys):
    first = _start(tmp_path)
    try:
        assert _wait_for(tmp_path / 'metrics.csv', first), first.stderr.read() if first.poll() is not None else 'no step'
        assert main(['train', *TRAIN_ARGS, '--out-dir', str(tmp_path), '--set', 'steps=3', '--set', 'seed=5']) == 2
        err = capsys.readouterr().err
        assert 'is in use by another run' in err and f'process {first.pid}' in err
        assert not (tmp_path / 'checkpoint.pt').exists()              # the refused run wrote nothing
    finally:
        first.kill(); first.wait()                                    # dies holding the lock
    assert json.loads((tmp_path / '.lock').read_text())['pid'] == first.pid
    assert main(['train', *TRAIN_ARGS, '--out-dir', str(tmp_path), '--set', 'steps=3', '--set', 'seed=5']) == 0
    assert 'taking over' in capsys.readouterr().err and not (tmp_path / '.lock').exists()
    assert json.loads((tmp_path / 'summary.json').read_text())['config']['seed'] == load_checkpoint(tmp_path / 'checkpoint.pt')['config']['seed'] == 5

def test_the_lock_is_released_when_a_run_fails_early(tmp_path):
    (tmp_path / 'data').mkdir()
    with pytest.raises(FileNotFoundError):                          # the data is missing: found after the lock was taken
        train(make_config('classification', 'toy', dict(SMALL, out_dir=str(tmp_path / 'run'), dataset='cifar10', data_root=str(tmp_path / 'data'))))
    assert (tmp_path / 'run').exists() and not (tmp_path / 'run' / '.lock').exists()

# -- R2-10: SIGTERM saves and says how to resume -------------------------------------------------------------------

@pytest.mark.slow
def test_sigterm_saves_and_the_run_resumes(tmp_path):
    "What schedulers and `docker stop` send: before, exit 143 and nothing saved; now the step finishes, a checkpoint is saved."
    proc = _start(tmp_path, steps=60, )
    try:
        assert _wait_for(tmp_path / 'metrics.csv', proc, rows=3)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None: proc.kill()
    assert proc.returncode == 143, err
    assert 'SIGTERM' in err and 'resume=auto' in err and not (tmp_path / '.lock').exists()
    saved = load_checkpoint(tmp_path / 'checkpoint.pt')['step']
    assert 3 <= saved < 60
    again = _start(tmp_path, '--set', 'resume=auto', steps=60)
    _, err = again.communicate(timeout=300)
    assert again.returncode == 0, err
    assert [h['step'] for h in load_checkpoint(tmp_path / 'checkpoint.pt')['history']] == list(range(1, 61))

# -- R2-11: a bad image or a dead worker mid-run: save first, then name it ---------------------------------------------

def _folder_run(tmp_path, write_image_folder, **kw):
    from m3i_ref.data import make_shapes
    folder, _ = write_image_folder(tmp_path, make_shapes(64, seed=0))
    return folder, make_config('classification', 'toy', dict(SMALL, steps=40, dataset='folder', data_root=str(folder), train_size=0,
                                                              test_size=0, batch_size=8, num_workers=2, out_dir=str(tmp_path / 'run'), **kw))

def test_a_bad_image_met_mid_run_is_named_after_the_steps_are_saved(tmp_path, write_image_folder):
    folder, cfg = _folder_run(tmp_path, write_image_folder)
    files = sorted((folder / 'train').rglob('*.png'))
    originals = {p: p.read_bytes() for p in files}
    def damage(record):
        if record['step'] == 4:
            for p in files: p.write_bytes(b'\x89PNG not really')    # every file: the next batch decoded from disk fails
    with pytest.raises(ValueError, match=r'cannot decode image .*\.png.*\nat step (\d+) of 40; checkpoint saved at step') as e:
        train(cfg, callback=damage)
    failed_at = int(re.search(r'at step (\d+) of 40', str(e.value)).group(1))
    assert failed_at > 4 and load_checkpoint(tmp_path / 'run' / 'checkpoint.pt')['step'] == failed_at - 1   # nothing lost
    assert not (tmp_path / 'run' / '.lock').exists()
    for p, b in originals.items(): p.write_bytes(b)
    train(make_config('classification', 'toy', dict(vars(cfg), resume='auto')))
    assert load_checkpoint(tmp_path / 'run' / 'checkpoint.pt')['step'] == 40

def test_a_killed_data_worker_loses_no_step(tmp_path, write_image_folder):
    folder, cfg = _folder_run(tmp_path, write_image_folder)
    me = os.getpid()
    def kill_a_worker(record):
        if record['step'] == 5:
            mine = Path('/proc/self/cmdline').read_bytes()          # a forked DataLoader worker has its parent's command line
            kids = [int(p.name) for p in Path('/proc').iterdir() if p.name.isdigit() and _ppid(p) == me and _alive_fork(p, mine)]
            assert kids, 'no DataLoader worker found'
            os.kill(kids[0], signal.SIGKILL)                          # as the OOM killer would: one worker
    with pytest.raises(ValueError, match=r'at step (\d+) of 40; checkpoint saved at step') as e:
        train(cfg, callback=kill_a_worker)
    failed_at = int(re.search(r'at step (\d+) of 40', str(e.value)).group(1))
    assert 'worker' in str(e.value).lower() and load_checkpoint(tmp_path / 'run' / 'checkpoint.pt')['step'] == failed_at - 1 >= 5

def _alive_fork(proc_dir, cmdline):
    try: return (proc_dir / 'cmdline').read_bytes() == cmdline and (proc_dir / 'stat').read_text().rsplit(')', 1)[1].split()[0] != 'Z'
    except OSError: return False

def _ppid(proc_dir):
    try: return int((proc_dir / 'stat').read_text().rsplit(')', 1)[1].split()[1])
    except (OSError, IndexError, ValueError): return None

# -- R2-12: disk full during a save --------------------------------------------------------------------------------

@pytest.mark.parametrize('failure', [OSError(28, 'No space left on device'),
                                     RuntimeError('[enforce fail at inline_container.cc:626] . unexpected pos 4736 vs 4624')])
def test_disk_full_during_a_save_says_the_last_checkpoint_is_intact(tmp_path, monkeypatch, failure):
    real, calls = torch.save, []
    def full_disk(obj, f, *a, **k):
        calls.append(1)
        if len(calls) == 2: f.write(b'PK\x03\x04 partial'); raise failure
        return real(obj, f, *a, **k)
    monkeypatch.setattr(torch, 'save', full_disk)
    with pytest.raises(ValueError, match=r'no space left on .* while saving step 4; the last checkpoint \(step 2\) is intact.*resume=auto'):
        train(cfg_for('classification', tmp_path, save_every=2))
    monkeypatch.setattr(torch, 'save', real)
    assert load_checkpoint(tmp_path / 'checkpoint.pt')['step'] == 2 and sorted(p.name for p in tmp_path.iterdir() if p.suffix == '.tmp') == []
    train(cfg_for('classification', tmp_path, resume='auto'))
    assert load_checkpoint(tmp_path / 'checkpoint.pt')['step'] == 6

# -- R2-13: a cache that cannot be written ----------------------------------------------------------------------------

def test_an_unwritable_cache_does_not_lose_the_run(tmp_path, monkeypatch, capsys):
    (tmp_path / 'a_file').write_text('x')
    monkeypatch.setenv('M3I_CACHE', str(tmp_path / 'a_file' / 'cache'))     # as a read-only HOME: every write there fails
    s = train(cfg_for('classification', tmp_path / 'run', steps=2, eval_knn=True, knn_k=5))
    assert s['floors'] and (tmp_path / 'run' / 'summary.json').exists()
    assert 'cannot write the floors cache' in capsys.readouterr().err

# -- R2-18: a stopped rank under torchrun ------------------------------------------------------------------------------

def _rank_of(pid):
    try: env = Path(f'/proc/{pid}/environ').read_bytes().split(b'\0')
    except OSError: return None
    return next((int(v[5:]) for v in env if v.startswith(b'RANK=')), None)

def _descendants(pid):
    kids = [int(p.name) for p in Path('/proc').iterdir() if p.name.isdigit() and _ppid(p) == pid]
    return kids + [d for k in kids for d in _descendants(k)]

@pytest.mark.ddp
def test_a_stopped_rank_fails_the_others_after_the_timeout_naming_the_rank(tmp_path):
    "kill -STOP on rank 1: before, rank 0 waited gloo's default 30 minutes without a word; now dist_timeout, then a message."
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    log = open(tmp_path / 'stderr.txt', 'w')
    proc = subprocess.Popen([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '-m', 'm3i_ref', 'train',
                             *TRAIN_ARGS, '--out-dir', str(tmp_path / 'run'), '--set', 'steps=100000', '--set', 'dist_timeout=8'],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log, text=True)
    want = 'error on rank 0 of 2: a collective failed'
    try:
        assert _wait_for(tmp_path / 'run' / 'metrics.csv', proc, timeout=180, rows=2), 'torchrun did not start training'
        ranks = {_rank_of(p): p for p in _descendants(proc.pid)}
        os.kill(ranks[1], signal.SIGSTOP)
        t0 = time.time()
        while time.time() - t0 < 120 and want not in (tmp_path / 'stderr.txt').read_text(): time.sleep(0.5)
        waited = time.time() - t0
    finally:
        for p in [*_descendants(proc.pid), proc.pid]:
            try: os.kill(p, signal.SIGKILL)
            except ProcessLookupError: pass
        proc.wait(); log.close()
    err = (tmp_path / 'stderr.txt').read_text()
    assert want in err and 'Another process (rank 1) stopped answering' in err, err[-3000:]
    assert 8 <= waited < 60

# -- R2-1, R2-3, R2-9c, R2-15: image folders ---------------------------------------------------------------------------

def _tree(root, split_classes, per_class=4):
    from PIL import Image
    from m3i_ref.data import make_shapes
    data = make_shapes(64, seed=0)
    for split, classes in split_classes.items():
        for c in classes:
            (root / split / c).mkdir(parents=True, exist_ok=True)
            for i in range(per_class): Image.fromarray(data.images[i].permute(1, 2, 0).numpy()).save(root / split / c / f'{i}.png')
    return root

@pytest.mark.parametrize('layout', ['folder', 'cifar-jpeg'])
def test_train_and_test_with_other_classes_are_refused_naming_them(tmp_path, layout):
    "Before: D/train/{airplane,bird,cat} with D/val/{airplane,cat} shifted every label after 'airplane' (kNN 28.1 instead of 81.2)."
    if layout == 'folder':
        _tree(tmp_path, {'train': ['airplane', 'bird', 'cat'], 'val': ['airplane', 'cat']})
        cfg = cfg_for('classification', tmp_path / 'run', dataset='folder', data_root=str(tmp_path), train_size=0, test_size=0, num_workers=0)
    else:
        _tree(tmp_path / 'cifar10-jpeg', {'train': ['airplane', 'bird', 'cat'], 'test': ['airplane', 'cat']})
        cfg = cfg_for('classification', tmp_path / 'run', dataset='cifar10', data_root=str(tmp_path), train_size=0, test_size=0)
    with pytest.raises(ValueError, match=r"different classes .*only in training \['bird'\], only in test none"):
        train(cfg)

def test_a_16_bit_grayscale_png_keeps_its_values(tmp_path):
    "Before: mode I;16 decoded as all white. Now scaled from 16 bits: a ramp stays a ramp."
    from PIL import Image
    import numpy as np
    from m3i_ref.data import read_image
    ramp = (np.arange(64, dtype=np.uint16).reshape(8, 8) * 1000).astype(np.uint16)       # 0 .. 63,000
    Image.fromarray(ramp).save(tmp_path / 'deep.png')
    assert Image.open(tmp_path / 'deep.png').mode.startswith('I')
    x = read_image(tmp_path / 'deep.png')
    assert x.shape == (3, 8, 8) and x.dtype == torch.uint8 and torch.equal(x[0], x[2])
    want = torch.from_numpy(np.rint(ramp / 65535 * 255).astype(np.uint8))
    assert torch.equal(x[0], want) and x.float().std() > 50

def test_webp_and_bmp_are_read_and_other_files_are_counted(tmp_path, capsys):
    from PIL import Image
    from m3i_ref.data import FolderDataset
    (tmp_path / 'train' / 'a').mkdir(parents=True)
    for suffix in ('png', 'bmp', 'webp'): Image.new('RGB', (8, 8), (200, 10, 10)).save(tmp_path / 'train' / 'a' / f'x.{suffix}')
    (tmp_path / 'train' / 'a' / 'notes.txt').write_text('not an image'); (tmp_path / 'train' / 'a' / '.DS_Store').write_text('')
    ds = FolderDataset(tmp_path / 'train', size=8)
    assert sorted(p.suffix for p, _ in ds.samples) == ['.bmp', '.png', '.webp'] and ds[2][0].shape == (3, 8, 8)
    assert 'skipped 1 file(s) that are not images by their suffix (.txt: 1)' in capsys.readouterr().err

def test_a_decompression_bomb_names_the_file(tmp_path, monkeypatch):
    "Before: PIL's DecompressionBombError without the file name (a 15000x15000 PNG); the limit is lowered to simulate one."
    from PIL import Image
    from m3i_ref.data import read_image
    Image.new('RGB', (100, 100)).save(tmp_path / 'huge.png')
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 1000)                 # 10,000 pixels > 2x the limit: Pillow refuses
    with pytest.raises(ValueError, match=f'cannot decode image {tmp_path / "huge.png"}: .*MAX_IMAGE_PIXELS'):
        read_image(tmp_path / 'huge.png')

def test_an_unwritable_cache_does_not_stop_a_jpeg_copy_from_loading(tmp_path, monkeypatch, capsys):
    from m3i_ref.data import load_cifar
    _tree(tmp_path / 'cifar10-jpeg', {'train': ['a', 'b']})
    (tmp_path / 'a_file').write_text('x')
    monkeypatch.setenv('M3I_CACHE', str(tmp_path / 'a_file' / 'cache'))
    assert len(load_cifar('cifar10', 'train', root=tmp_path)) == 8
    assert 'cannot write the decoded-image cache' in capsys.readouterr().err

@pytest.mark.ddp
def test_sigterm_under_torchrun_saves_on_every_rank(tmp_path):
    "R2-10 under torchrun (before: 134 steps lost): torchrun passes SIGTERM to its workers; they finish the step together and save."
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=str(ROOT))
    proc = subprocess.Popen([sys.executable, '-m', 'torch.distributed.run', '--standalone', '--nproc_per_node=2', '-m', 'm3i_ref', 'train',
                             *TRAIN_ARGS, '--out-dir', str(tmp_path), '--set', 'steps=100000'],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        assert _wait_for(tmp_path / 'metrics.csv', proc, timeout=180, rows=3), 'torchrun did not start training'
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=120)
    finally:
        for p in [*_descendants(proc.pid), proc.pid]:
            try: os.kill(p, signal.SIGKILL)
            except ProcessLookupError: pass
        proc.wait()
    saved = load_checkpoint(tmp_path / 'checkpoint.pt')['step']
    assert saved >= 3 and 'SIGTERM' in err and 'resume=auto' in err, err[-2000:]
    logged = [int(l.split(',')[0]) for l in (tmp_path / 'metrics.csv').read_text().splitlines()[1:]]
    assert saved >= max(logged)                                          # no logged step was lost
