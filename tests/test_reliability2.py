"""Reliability, round two (issue 27). Each test simulates the failure its item names and fails on the code before the fix;
`docs/reliability.md` lists them by item number (R2-n)."""
import json, math, os, signal, subprocess, sys, time
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
