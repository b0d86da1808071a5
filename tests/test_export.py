"""Issue 28: an encoder leaves the project. The README's section 'Using a trained encoder elsewhere' is executed as it is
written (its Python blocks, and its shell line through the CLI), on a short run in the README's own folder layout;
the timm parity, the refusals, `metrics.csv` across a stop and a resume, TensorBoard, and `m3i-ref plot`."""
import csv, json, re, subprocess, sys
from pathlib import Path
import pytest
import torch
import m3i_ref
from m3i_ref.train import make_config, train, load_checkpoint, read_metrics
from m3i_ref.cli import main

ROOT = Path(__file__).resolve().parent.parent
TINY = dict(steps=3, train_size=128, test_size=64, progress=False, eval_knn=False, log_every=1, batch_size=16)

def readme_section(title):
    text = (ROOT / 'README.md').read_text()
    start = text.index(f'## {title}')
    end = text.index('\n## ', start + 3)
    return text[start:end]

def code_blocks(section, lang):
    return re.findall(rf'```{lang}\n(.*?)```', section, flags=re.S)

@pytest.fixture(scope='module')
def toy_run(tmp_path_factory):
    "The main job's run folder (`runs/m3i-toy`, method and preset of the README's first command), trained for 3 steps."
    d = tmp_path_factory.mktemp('readme')
    train(make_config('m3i', 'toy', dict(TINY, out_dir=str(d / 'runs' / 'm3i-toy'))))
    return d

def test_readme_examples_run_as_written(toy_run, monkeypatch):
    pytest.importorskip('timm', reason='timm is in the test extra: pip install "m3i-ref[test]"')
    monkeypatch.chdir(toy_run)
    section = readme_section('Using a trained encoder elsewhere')
    first, second = code_blocks(section, 'python')
    (shell,) = code_blocks(section, 'bash')
    scope = {}
    exec(first, scope)                                      # load_encoder, features, as printed in the README
    assert tuple(scope['z'].shape) == (8, 64) and '(8, 64)' in first
    assert scope['encoder'].training is False and scope['encoder'].run['method'] == 'm3i' and scope['encoder'].run['step'] == 3
    line = shell.strip().splitlines()[0].split('#')[0].split()
    assert line[0] == '.venv/bin/m3i-ref'
    assert main(line[1:]) == 0                               # the same arguments through the CLI entry point
    assert Path('encoder.pth').exists() and Path('encoder.json').exists()
    exec(second, scope)                                      # timm loads the file strictly and gives the same features
    meta = json.loads(Path('encoder.json').read_text())
    assert meta['timm_kwargs']['global_pool'] == 'avg' and meta['timm_kwargs']['fc_norm'] is False
    assert meta['preprocess']['image_size'] == 32 and meta['source']['step'] == 3

def test_parity_fails_when_the_pooling_is_timms_default(toy_run):
    "The check above can fail: with timm's default norm for 'avg' pooling, the strict load refuses and the features differ."
    timm = pytest.importorskip('timm')
    from m3i_ref.export import timm_kwargs, timm_state_dict
    enc = m3i_ref.load_encoder(toy_run / 'runs' / 'm3i-toy')
    wrong = timm.models.vision_transformer.VisionTransformer(**{**timm_kwargs(enc), 'fc_norm': None}).eval()
    with pytest.raises(RuntimeError, match='fc_norm'): wrong.load_state_dict(timm_state_dict(enc), strict=True)
    wrong.load_state_dict(timm_state_dict(enc), strict=False)
    x = torch.randint(0, 256, (4, 3, 32, 32), dtype=torch.uint8)
    with torch.no_grad(): assert not torch.allclose(wrong(enc.preprocess(x)), m3i_ref.features(enc, x), atol=1e-5)

def test_features_are_what_eval_reads(toy_run):
    "`features` is the path `extract_features` (kNN, linear probe, eval) takes: the same numbers on the same images."
    from m3i_ref.evaluate import extract_features
    from m3i_ref.data import make_shapes
    enc = m3i_ref.load_encoder(toy_run / 'runs' / 'm3i-toy')
    data = make_shapes(16, seed=3)
    feats, labels = extract_features(enc, data, torch.tensor(enc.preprocess.mean), torch.tensor(enc.preprocess.std))
    assert torch.equal(feats, m3i_ref.features(enc, data.images))
    assert torch.allclose(m3i_ref.features(enc, data.images.float() / 255), feats, atol=1e-6)   # floats in [0, 1] too
    with pytest.raises(ValueError, match=r'\(B, 3, H, W\)'): m3i_ref.features(enc, data.images[0])

def test_load_encoder_refuses_what_is_not_a_run(tmp_path, toy_run):
    with pytest.raises(Exception, match='checkpoint'): m3i_ref.load_encoder(tmp_path)             # an empty folder
    ckpt = load_checkpoint(toy_run / 'runs' / 'm3i-toy' / 'checkpoint.pt')
    ckpt['model'] = {k.replace('encoder.blocks.0.', 'encoder.block0.'): v for k, v in ckpt['model'].items()}
    torch.save(ckpt, tmp_path / 'renamed.pt')
    with pytest.raises(ValueError, match='unexpected'): m3i_ref.load_encoder(tmp_path / 'renamed.pt')

def test_export_refuses_convnet_and_unknown_formats(tmp_path, capsys):
    train(make_config('mim_pixel', 'toy', dict(TINY, out_dir=str(tmp_path / 'conv'), encoder='convnet')))
    enc = m3i_ref.load_encoder(tmp_path / 'conv')               # it loads, and reads features
    assert m3i_ref.features(enc, torch.zeros(2, 3, 32, 32, dtype=torch.uint8)).shape[0] == 2
    assert main(['export', '--ckpt', str(tmp_path / 'conv'), '--out', str(tmp_path / 'e.pth')]) == 2
    assert 'only the ViT encoder exports to timm' in capsys.readouterr().err
    assert not (tmp_path / 'e.pth').exists() and not (tmp_path / 'e.json').exists()
    with pytest.raises(ValueError, match=r"choose one of \['timm'\]"):
        m3i_ref.export_encoder(tmp_path / 'conv', tmp_path / 'e.pth', to='onnx')

def test_python_m_m3i_ref_runs_the_cli():
    out = subprocess.run([sys.executable, '-m', 'm3i_ref', 'presets'], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert out.returncode == 0 and 'toy' in out.stdout, out.stderr

def test_metrics_csv_has_each_step_once_across_a_stop_and_a_resume(tmp_path):
    "Stopped at step 6 with the checkpoint at 4 (and a torn last line): the resumed file holds steps 1..8 once each."
    cfg = dict(TINY, steps=8, save_every=4)
    class Stop(Exception): pass
    def stop(record):
        if record['step'] == 6: raise Stop
    with pytest.raises(Stop): train(make_config('mim_pixel', 'toy', dict(cfg, out_dir=str(tmp_path))), callback=stop)
    path = tmp_path / 'metrics.csv'
    assert [int(r['step']) for r in csv.DictReader(open(path))] == [1, 2, 3, 4, 5, 6]
    with open(path, 'a') as f: f.write('7,0.12')                     # a crash in the middle of a row
    train(make_config('mim_pixel', 'toy', dict(cfg, out_dir=str(tmp_path), resume='auto')))
    rows = list(csv.DictReader(open(path)))
    assert [int(r['step']) for r in rows] == list(range(1, 9))
    history = load_checkpoint(tmp_path / 'checkpoint.pt')['history']
    assert [float(r['loss']) for r in rows] == [h['loss'] for h in history]          # the same numbers as the checkpoint
    assert list(rows[0])[:2] == ['step', 'loss'] and 'loss/mim_pixel' in rows[0] and all(float(r['grad_norm']) > 0 for r in rows)
    assert read_metrics(tmp_path)['step'] == [float(s) for s in range(1, 9)]

def test_overwrite_removes_the_old_metrics(tmp_path):
    train(make_config('mim_pixel', 'toy', dict(TINY, steps=5, out_dir=str(tmp_path))))
    train(make_config('mim_pixel', 'toy', dict(TINY, out_dir=str(tmp_path), overwrite=True)))
    assert [int(r['step']) for r in csv.DictReader(open(tmp_path / 'metrics.csv'))] == [1, 2, 3]

def test_tensorboard_logs_the_same_scalars(tmp_path):
    pytest.importorskip('tensorboard')
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    train(make_config('mim_pixel', 'toy', dict(TINY, out_dir=str(tmp_path), tensorboard=True)))
    acc = EventAccumulator(str(tmp_path / 'tensorboard')); acc.Reload()
    loss = [e.value for e in acc.Scalars('loss')]
    rows = list(csv.DictReader(open(tmp_path / 'metrics.csv')))
    assert [e.step for e in acc.Scalars('loss')] == [1, 2, 3]
    assert loss == pytest.approx([float(r['loss']) for r in rows], rel=1e-6)         # float32 events, float64 csv

def test_plot_draws_several_runs(tmp_path, capsys):
    for name, method in (('a', 'mim_pixel'), ('b', 'classification')):
        train(make_config(method, 'toy', dict(TINY, out_dir=str(tmp_path / name))))
    main(['plot', str(tmp_path / 'a'), str(tmp_path / 'b'), '--out', str(tmp_path / 'curves.png'), '--labels', 'pixels,labels'])
    out = capsys.readouterr().out
    assert 'pixels: 3 rows, steps 1-3' in out and 'labels: 3 rows' in out
    png = (tmp_path / 'curves.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 10_000
    assert main(['plot', str(tmp_path / 'a'), str(tmp_path / 'b'), '--out', str(tmp_path / 'x.png'), '--labels', 'one']) == 2
    assert 'give one label per run' in capsys.readouterr().err
    assert main(['plot', str(tmp_path / 'nothing'), '--out', str(tmp_path / 'x.png')]) == 2
    assert 'neither metrics.csv nor checkpoint.pt' in capsys.readouterr().err and not (tmp_path / 'x.png').exists()
