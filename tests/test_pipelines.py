"Multi-stage pipelines: stages start from earlier weights, frozen teachers stay frozen, a pipeline resumes exactly."
import json
from pathlib import Path
import pytest
import torch
from m3i_ref.train import make_config, train, build_run, encoder_weights, load_checkpoint, load_data
from m3i_ref.pipelines import Stage, Pipeline, PIPELINES, stage_configs, run_pipeline, get_pipeline, lineage
from m3i_ref.cli import main

TINY = dict(train_size=128, test_size=64, batch_size=16, log_every=1000)
QUICK = dict(preset='toy', images=64, overrides=TINY, finetune_epochs=0, objective_batches=1, verbose=False)   # a whole pipeline in seconds
same = lambda a, b: all(torch.equal(a[k], b[k]) for k in b)
encoder_of = lambda ckpt: {k[len('encoder.'):]: v for k, v in ckpt['model'].items() if k.startswith('encoder.')}
teacher_of = lambda ckpt: {k[len('teacher.copies.encoder.'):]: v for k, v in ckpt['model'].items() if k.startswith('teacher.copies.encoder.')}

def test_a_later_stage_starts_from_exactly_the_earlier_weights(tmp_path):
    "init_from loads the earlier encoder into the student and into its EMA copy; nothing else of the earlier run comes along."
    pipe = Pipeline('p', '', (Stage('mim_pixel', 0.5), Stage('mim_feature', 0.5, init=1)))
    cfgs = stage_configs(pipe, 'toy', images=64, out_dir=tmp_path, overrides=TINY)
    train(cfgs[0])
    stage1 = encoder_of(load_checkpoint(tmp_path / 'stage1-mim_pixel' / 'checkpoint.pt'))
    run = build_run(cfgs[1])
    assert same(run.model.encoder.state_dict(), stage1) and same(run.model.teacher.copies['encoder'].state_dict(), stage1)
    torch.manual_seed(cfgs[1].seed)                    # the check can fail: a fresh run of the same config starts elsewhere
    fresh = build_run(make_config('mim_feature', 'toy', dict(TINY, steps=2, out_dir=str(tmp_path / 'fresh'))))
    assert not same(fresh.model.encoder.state_dict(), stage1)

def test_init_from_another_encoder_is_refused_with_the_differences(tmp_path):
    train(make_config('classification', 'toy', dict(TINY, steps=1, out_dir=str(tmp_path / 'a'), eval_knn=False, progress=False)))
    cfg = make_config('classification', 'toy', dict(TINY, steps=1, patch=4, out_dir=str(tmp_path / 'b'), init_from=str(tmp_path / 'a')))
    with pytest.raises(ValueError, match=r"init_from=.*patch: checkpoint 8 vs run 4"): build_run(cfg)
    assert not (tmp_path / 'b' / 'checkpoint.pt').exists()         # refused before any work
    with pytest.raises(FileNotFoundError, match='does not exist'):
        build_run(make_config('classification', 'toy', dict(TINY, steps=1, out_dir=str(tmp_path / 'c'), init_from=str(tmp_path / 'none.pt'))))

def test_a_frozen_teacher_receives_no_update(tmp_path):
    "After stage-2 steps the frozen teacher is still stage 1's encoder, while the student moved (and an EMA teacher would have moved)."
    cfgs = stage_configs('fd_dino', 'toy', images=96, out_dir=tmp_path, overrides=dict(TINY, eval_knn=False))
    train(cfgs[0])
    stage1 = encoder_of(load_checkpoint(Path(cfgs[0].out_dir) / 'checkpoint.pt'))
    start = encoder_of({'model': {f'encoder.{k}': v for k, v in build_run(cfgs[1]).model.encoder.state_dict().items()}})
    train(cfgs[1])
    after = load_checkpoint(Path(cfgs[1].out_dir) / 'checkpoint.pt')
    assert after['step'] == 3 and same(teacher_of(after), stage1)
    assert not same(encoder_of(after), start), 'the student did not train, so the check above proves nothing'
    ema = make_config('dense_distillation', 'toy', dict(TINY, steps=3, out_dir=str(tmp_path / 'ema'), init_from=cfgs[0].out_dir, eval_knn=False, progress=False))
    train(ema)
    assert not same(teacher_of(load_checkpoint(tmp_path / 'ema' / 'checkpoint.pt')), stage1)   # the EMA teacher does move

def test_teacher_settings_are_checked_early():
    with pytest.raises(ValueError, match='teacher_from'): make_config('dense_distillation', 'toy', {'teacher': 'frozen'})
    with pytest.raises(ValueError, match='teacher_from'): make_config('dense_distillation', 'toy', {'teacher_from': 'x.pt'})
    with pytest.raises(ValueError, match="choose one of \\['ema', 'frozen'\\]"): make_config('dense_distillation', 'toy', {'teacher': 'frozn'})
    with pytest.raises(ValueError, match='need a projector'): make_config('instance_discrimination', 'toy', {'teacher': 'frozen', 'teacher_from': 'x.pt'})
    with pytest.raises(ValueError, match="'classification' has none"): make_config('classification', 'toy', {'teacher': 'frozen', 'teacher_from': 'x.pt'})

def test_a_pipeline_resumed_mid_stage_equals_an_uninterrupted_one(tmp_path):
    kw = dict(QUICK, images=96, overrides=dict(TINY, log_every=1, save_every=2))
    full = run_pipeline('swinv2_g', out_dir=tmp_path / 'full', **kw)
    class Crash(Exception): pass
    calls = []
    def crash(record):                                          # stage 1 has 3 steps; crash at stage 2's step 3, after its save at step 2
        calls.append(record['step'])
        if len(calls) == 6: raise Crash
    with pytest.raises(Crash): run_pipeline('swinv2_g', out_dir=tmp_path / 'part', callback=crash, **kw)
    assert load_checkpoint(tmp_path / 'part' / 'stage2-classification' / 'checkpoint.pt')['step'] == 2
    assert (tmp_path / 'part' / 'stage1-mim_pixel' / 'stage.json').exists()
    part = run_pipeline('swinv2_g', out_dir=tmp_path / 'part', **kw)
    for stage in ('stage1-mim_pixel', 'stage2-classification'):
        a, b = (load_checkpoint(tmp_path / d / stage / 'checkpoint.pt')['model'] for d in ('full', 'part'))
        assert same(a, b), stage
    for a, b in zip(full['stages'], part['stages']):
        assert (a['knn_top1'], a['linear_top1'], a['objectives']) == (b['knn_top1'], b['linear_top1'], b['objectives'])
    assert set(full['stages'][1]['objectives']) == {'stage2:classification', 'stage1:mim_pixel'}

def test_a_finished_pipeline_is_read_back_not_retrained(tmp_path, monkeypatch):
    first = run_pipeline('fd_dino', out_dir=tmp_path, **QUICK)
    import m3i_ref.pipelines as P
    monkeypatch.setattr(P, 'train', lambda *a, **k: (_ for _ in ()).throw(AssertionError('retrained a finished stage')))
    summary = tmp_path / 'pipeline.json'                                  # made on another day: read back, it keeps that day
    for stage in tmp_path.glob('stage*/stage.json'): stage.write_text(json.dumps({k: v for k, v in json.loads(stage.read_text()).items() if k != 'date'}))
    summary.write_text(json.dumps(dict(json.loads(summary.read_text()), date='2001-02-03')))
    again = run_pipeline('fd_dino', out_dir=tmp_path, **QUICK)
    assert [s['knn_top1'] for s in again['stages']] == [s['knn_top1'] for s in first['stages']]
    assert again['date'] == json.loads(summary.read_text())['date'] == '2001-02-03'   # stages without a date (older runs)
    for stage in tmp_path.glob('stage*/stage.json'): stage.write_text(json.dumps(dict(json.loads(stage.read_text()), date='2002-01-01')))
    assert run_pipeline('fd_dino', out_dir=tmp_path, **QUICK)['date'] == '2002-01-01'                 # the stages' own days
    with pytest.raises(AssertionError, match='retrained'):                 # another budget is another run
        run_pipeline('fd_dino', out_dir=tmp_path / 'other', **dict(QUICK, images=96))

def test_pipelines_as_data_and_from_the_cli(tmp_path, capsys):
    for p in PIPELINES.values(): p.check()
    assert lineage(PIPELINES['swinv2_g'], 2) == [1] and lineage(PIPELINES['fd_dino'], 2) == []
    with pytest.raises(ValueError, match='sum to 1'): Pipeline('x', '', (Stage('mim_pixel', 0.5),)).check()
    with pytest.raises(ValueError, match="keys must be among"): get_pipeline({'name': 'x', 'stages': [{'method': 'mim_pixel', 'shares': 1}]})
    assert main(['pipeline', '--list']) == 0 and 'fd_dino' in capsys.readouterr().out
    spec = tmp_path / 'mine.json'
    spec.write_text(json.dumps({'name': 'mine', 'stages': [{'method': 'mim_feature', 'share': 0.5}, {'method': 'classification', 'share': 0.5, 'init': 1}]}))
    sets = [x for k, v in dict(TINY, train_size=64, test_size=32).items() for x in ('--set', f'{k}={v}')]
    assert main(['pipeline', str(spec), '--images', '32', '--finetune-epochs', '0', '--out-dir', str(tmp_path / 'run'), *sets]) == 0
    res = json.loads((tmp_path / 'run' / 'pipeline.json').read_text())
    assert [s['method'] for s in res['stages']] == ['mim_feature', 'classification'] and res['images'] == 32
    assert main(['pipeline', 'fd-dino']) == 2 and "choose one of ['fd_dino'" in capsys.readouterr().err

def test_the_pipeline_page_gives_the_days_its_runs_were_made(tmp_path):
    from m3i_ref.pipelines import pipeline_report
    res = run_pipeline('fd_dino', out_dir=tmp_path / 'seed0' / 'fd_dino', **QUICK)   # what it writes to pipeline.json
    day = res['date']
    pipeline_report(tmp_path, 'cmd')
    page = (tmp_path / 'pipelines.md').read_text()
    assert f'Date {day}.' in page and 'Dates' not in page
    later = tmp_path / 'seed1' / 'fd_dino'; later.mkdir(parents=True)   # a second seed, resumed on a later day
    (later / 'pipeline.json').write_text(json.dumps(dict(res, date='2999-01-01')))
    pipeline_report(tmp_path, 'cmd')
    assert f'Dates {day} to 2999-01-01.' in (tmp_path / 'pipelines.md').read_text()

def test_a_setting_added_since_a_stage_finished_does_not_rerun_it(tmp_path):
    "A finished stage is read back when its stage.json predates a new TrainConfig key (the key at its default), not otherwise."
    from dataclasses import asdict
    from m3i_ref.pipelines import _finished
    cfg = make_config('mim_pixel', 'toy', dict(TINY, out_dir=str(tmp_path)))
    key = dict(config=asdict(cfg), finetune_epochs=0, objective_batches=1)
    done = tmp_path / 'stage.json'
    write = lambda config, **kw: done.write_text(json.dumps(dict(key, config=config, knn_top1=50.0, **kw)))
    older = {k: v for k, v in key['config'].items() if k != 'local_crops'}          # written before local_crops existed
    write(older); assert _finished(done, key)['knn_top1'] == 50.0
    write(dict(older, local_crops=2)); assert _finished(done, key) is None           # a different value: re-run
    write(dict(older, blr=1.0)); assert _finished(done, key) is None
    done.write_text(json.dumps(dict(key, config=older, finetune_epochs=3))); assert _finished(done, key) is None
