"The benchmark reports: reading result folders, refusing mixed budgets, and the budget comparison through the CLI."
import json
import pytest
from m3i_ref.bench import budget_report, quality_run, read_runs
from m3i_ref.cli import main


def write_runs(folder, images, knn, preset='cifar-cpu'):
    "A result folder as `bench quality` leaves it, with the fields the reports read."
    (folder / 'runs').mkdir(parents=True)
    for name, top1 in knn.items():
        seen = 0 if name in ('chance', 'random_init', 'raw_pixels') else images
        (folder / 'runs' / f'{name}.json').write_text(json.dumps(dict(run=name, knn_top1=top1, linear_top1=top1 + 1, images_seen=seen, preset=preset)))
    return folder


def test_budgets_cli_puts_two_budgets_side_by_side(tmp_path, capsys):
    small = write_runs(tmp_path / 'small', 50_000, {'random_init': 30.0, 'mim_pixel': 35.0, 'sim_feature': 28.0, 'm3i': 40.0})
    large = write_runs(tmp_path / 'large', 100_000, {'random_init': 30.0, 'mim_pixel': 37.5, 'sim_feature': 34.0, 'm3i': 41.0})
    assert main(['bench', 'budgets', str(large), str(small), '--out', str(tmp_path)]) == 0
    md = (tmp_path / 'budgets.md').read_text()
    assert '| sim_feature | 28.0 | 34.0 | +6.0 | 29.0 | 35.0 | +6.0 |' in md      # ordered by budget, not by argument
    assert '| 50,000 | 2 of 3 |' in md and '| 100,000 | 3 of 3 |' in md            # runs >= random floor + 3 kNN
    extra = write_runs(tmp_path / 'extra', 200_000, {'random_init': 30.0, 'raw_pixels': 41.0, 'mim_pixel': 38.0, 'm3i': 55.0, 'classification': 50.0})
    assert main(['bench', 'budgets', str(large), str(extra), '--out', str(tmp_path)]) == 0
    md = (tmp_path / 'budgets.md').read_text()                                    # only runs both budgets have: mim_pixel, m3i
    assert '| 100,000 | 2 of 2 |' in md and '| 200,000 | 2 of 2 |' in md and '| classification |' not in md
    assert main(['bench', 'budgets', str(large), str(small), '--out', str(tmp_path)]) == 0   # the first page again, for the checks below
    md = (tmp_path / 'budgets.md').read_text()
    out = json.loads((tmp_path / 'budgets.json').read_text())
    assert out['budgets'] == [50_000, 100_000] and out['runs']['m3i']['knn_top1'] == [40.0, 41.0]
    assert (tmp_path / 'budgets.png').stat().st_size > 0
    assert md in capsys.readouterr().out


def test_budgets_refuses_mixed_presets_and_single_folders(tmp_path, capsys):
    a = write_runs(tmp_path / 'a', 50_000, {'random_init': 30.0, 'mim_pixel': 35.0})
    b = write_runs(tmp_path / 'b', 100_000, {'random_init': 30.0, 'mim_pixel': 35.0}, preset='toy')
    assert main(['bench', 'budgets', str(a), str(b), '--out', str(tmp_path)]) == 2
    assert "mix presets ['cifar-cpu', 'toy']" in capsys.readouterr().err
    with pytest.raises(ValueError, match='at least two folders'):
        budget_report([a, tmp_path / 'empty'], tmp_path)
    assert not (tmp_path / 'budgets.md').exists()


def test_quality_run_refuses_a_result_from_another_budget(tmp_path):
    write_runs(tmp_path, 50_000, {'mim_pixel': 35.0})
    assert read_runs(tmp_path)['mim_pixel']['knn_top1'] == 35.0
    assert quality_run('mim_pixel', tmp_path, images=50_000)['knn_top1'] == 35.0
    with pytest.raises(ValueError, match="holds mim_pixel at 50,000 images seen with preset 'cifar-cpu', but this run asks 100,000"):
        quality_run('mim_pixel', tmp_path, images=100_000)


def test_quality_command_refuses_bad_runs_and_settings_before_any_work(tmp_path, capsys):
    assert main(['bench', 'quality', '--runs', 'random_init,mim_pixels', '--out', str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "unknown run(s) 'mim_pixels'; choose from raw_pixels, random_init, chance, " in err and 'mim_pixel,' in err
    assert main(['bench', 'quality', '--runs', 'random_init', '--set', 'stepz=1', '--out', str(tmp_path)]) == 2
    assert "unknown key 'stepz'" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def write_seed(folder, seed, knn, images=100_000):
    write_runs(folder, images, knn)
    for p in (folder / 'runs').glob('*.json'):
        r = json.loads(p.read_text()); r['config'] = dict(seed=seed); p.write_text(json.dumps(r))
    return folder


def test_seeds_cli_reports_spread_and_unresolved_orderings(tmp_path, capsys):
    runs = [{'mim_feature': 40.0 + d, 'mim_pixel': 39.0 - d, 'm3i': 50.0 + d, 'classification': 45.0} for d in (0.0, 2.0, -1.0)]
    runs[0]['sim_pixel'] = 30.0                                                  # at one seed only: listed, never averaged
    folders = [str(write_seed(tmp_path / f's{i}', i, k)) for i, k in enumerate(runs)]
    out = tmp_path / 'seeds.md'
    assert main(['bench', 'seeds', *folders, '--out', str(out)]) == 0
    md = out.read_text()
    assert '| mim_feature | 40.0 | 42.0 | 39.0 | 40.3 | 3.0 |' in md
    assert '| mim_feature > mim_pixel (features beat pixels) | 40.3 vs 38.7 | +1.0, +5.0, -1.0 | unresolved |' in md   # the seeds disagree
    assert '| m3i > classification | 50.3 vs 45.0 | +5.0, +7.0, +4.0 | holds |' in md              # t = 6.0 > 4.30
    assert '## linear top-1' in md and '| m3i | 51.0 | 53.0 | 50.0 | 51.3 | 3.0 |' in md                # both metrics
    assert '| m3i > classification | 51.3 vs 46.0 | +5.0, +7.0, +4.0 | holds |' in md.split('## linear top-1')[1]
    assert 'In only some of the folders, so left out above: sim_pixel.' in md and '| sim_pixel |' not in md
    page = json.loads(out.with_suffix('.json').read_text())
    assert page['runs']['knn_top1']['m3i']['low'] == 49.0 and page['runs']['linear_top1']['m3i']['high'] == 53.0
    assert page['seeds'] == [0, 1, 2] and page['partial'] == ['sim_pixel']
    assert main(['bench', 'seeds', folders[0], folders[0], '--out', str(out)]) == 2                # the same seed twice
    assert 'folders of different seeds' in capsys.readouterr().err


def test_seed_table_shows_each_run_next_to_the_floors_of_every_seed(tmp_path):
    "Floors run at every seed are rows of the table, and each run's mean stands next to the random-init floor's mean."
    from m3i_ref.bench import seed_report
    runs = [{'random_init': 30.0 + d, 'raw_pixels': 41.0, 'chance': 10.0, 'mim_pixel': 40.0 + d} for d in (0.0, 1.0, 2.0)]
    folders = [write_seed(tmp_path / f's{i}', i, k) for i, k in enumerate(runs)]
    md = seed_report(folders, tmp_path / 'seeds.md')
    assert '| random_init | 30.0 | 31.0 | 32.0 | 31.0 | 2.0 |  |' in md                  # a floor row, no gap to itself
    assert '| mim_pixel | 40.0 | 41.0 | 42.0 | 41.0 | 2.0 | +10.0 |' in md          # mean 41.0 - floor mean 31.0
    assert 'Floors missing' not in md
    (tmp_path / 's2' / 'runs' / 'raw_pixels.json').unlink()                        # a floor at two seeds of three
    md = seed_report(folders, tmp_path / 'seeds.md')
    assert '| raw_pixels |' not in md and 'Floors missing from some folder (raw_pixels)' in md
    assert json.loads((tmp_path / 'seeds.json').read_text())['partial'] == ['raw_pixels']


def test_seed_table_names_the_runs_whose_linear_probe_seed_differs_from_the_floors(tmp_path):
    "The linear mean - floor is a difference of means: where a run's probe trained with another seed than the floor's (an old result: seed 0), the page says so."
    from m3i_ref.bench import seed_report
    runs = [{'random_init': 30.0 + d, 'mim_pixel': 40.0 + d, 'mim_feature': 41.0 + d} for d in (0.0, 1.0, 2.0)]
    folders = [write_seed(tmp_path / f's{i}', i, k) for i, k in enumerate(runs)]
    for i, f in enumerate(folders):                                  # new floors and MIM feature: probed with the run's seed
        for name in ('random_init', 'mim_feature'):
            p = f / 'runs' / f'{name}.json'; p.write_text(json.dumps(dict(json.loads(p.read_text()), probe_seed=i)))
    md = seed_report(folders, tmp_path / 'seeds.md')
    linear = md.split('## linear top-1')[1]
    assert 'The linear probes of mim_pixel (seeds 1, 2) trained with another seed' in linear and 'mim_feature (' not in linear
    assert 'The linear probes of' not in md.split('## linear top-1')[0]           # kNN has no probe seed
    assert '| mim_feature > mim_pixel (features beat pixels) | 43.0 vs 42.0 | +1.0, -, - |' in linear
    assert json.loads((tmp_path / 'seeds.json').read_text())['probe_mixed'] == {'linear_top1': {'mim_pixel': [1, 2]}}
    for f in folders[1:]:                                            # mim_pixel re-run with today's code: nothing to name
        p = f / 'runs' / 'mim_pixel.json'; p.write_text(json.dumps(dict(json.loads(p.read_text()), probe_seed=int(f.name[1:]))))
    md = seed_report(folders, tmp_path / 'seeds.md')
    assert 'The linear probes of' not in md and '+1.0, +1.0, +1.0' in md.split('## linear top-1')[1]


def test_floors_ignore_row_options_bare_or_scoped(tmp_path):
    "A floor trains nothing, so a row option meant for the runs (here scoped to one row) must not stop it."
    res = quality_run('chance', tmp_path, 'toy', 32_000, {'mim_feature.mask_ratio': '0.5', 'target_norm': 'layer'})
    assert res['run'] == 'chance' and 0 < res['knn_top1'] < 100


def test_quality_page_gives_the_days_and_the_threads_its_runs_had(tmp_path):
    from m3i_ref.bench import quality_report
    write_runs(tmp_path, 100_000, {'random_init': 30.0, 'mim_pixel': 35.0, 'm3i': 40.0})
    cpu = dict(python='3.11.7', cores=2, threads=2, cuda=None)
    for name, day, threads in [('random_init', '2026-11-29', 2), ('mim_pixel', '2026-12-03', 1), ('m3i', '2026-12-01', 2)]:
        p = tmp_path / 'runs' / f'{name}.json'
        p.write_text(json.dumps(dict(json.loads(p.read_text()), date=day, machine=dict(cpu, threads=threads), test_images=10_000)))
    quality_report(tmp_path, 'cmd')
    line = (tmp_path / 'quality.md').read_text().splitlines()[4]
    assert line.startswith("Machine: {'python': '3.11.7', 'cores': 2, 'cuda': None}; threads varies by run: 1 or 2. ")
    assert 'Dates 2026-11-29 to 2026-12-03. ' in line                   # the page was made over days: it says so
    (tmp_path / 'runs' / 'mim_pixel.json').unlink(); (tmp_path / 'runs' / 'm3i.json').unlink()
    quality_report(tmp_path, 'cmd')
    line = (tmp_path / 'quality.md').read_text().splitlines()[4]
    assert "'threads': 2" in line and 'varies' not in line and 'Date 2026-11-29. ' in line


def test_ablation_page_reading_is_the_file_its_report_script_appends():
    "docs/results/ablations/ablations.md is generated (report.py + ablations/reading.md): prose edited on the page itself would be lost on the next redraw."
    from pathlib import Path
    ablations = Path(__file__).resolve().parents[1] / 'docs' / 'results' / 'ablations'
    reading = (ablations / 'reading.md').read_text().rstrip() + '\n'
    assert reading.startswith('## Reading') and (ablations / 'ablations.md').read_text().endswith('\n' + reading)


def test_quality_page_gives_the_command_that_reproduces_the_whole_folder(tmp_path):
    "A folder filled one run per call: its page names every run it holds, so the command on the page redraws all of it."
    write_runs(tmp_path, 100_000, {'random_init': 30.0, 'mim_pixel': 35.0, 'm3i': 40.0})
    for p in (tmp_path / 'runs').glob('*.json'): p.write_text(json.dumps(dict(json.loads(p.read_text()), seconds=1.0, date='2026-12-03', machine=dict(cores=2), test_images=10_000)))
    assert main(['bench', 'quality', '--images', '100000', '--runs', 'm3i', '--set', 'seed=0', '--out', str(tmp_path)]) == 0
    md = (tmp_path / 'quality.md').read_text()
    assert f'Command: `m3i-ref bench quality --images 100000 --runs random_init,mim_pixel,m3i --set seed=0 --out {tmp_path}`' in md
    assert main(['bench', 'quality', '--images', '100000', '--runs=mim_pixel', '--out', str(tmp_path)]) == 0
    assert '--runs=random_init,mim_pixel,m3i --out' in (tmp_path / 'quality.md').read_text()


def test_quality_run_refuses_a_toy_result_from_another_shapes_design(tmp_path):
    "Runs made before the default design changed (calm, no `shapes` key) are not mixed into a page of the new design."
    (tmp_path / 'runs').mkdir()
    old = dict(run='mim_pixel', knn_top1=40.0, linear_top1=41.0, images_seen=64_000, preset='toy', dataset='shapes', config={})
    (tmp_path / 'runs' / 'mim_pixel.json').write_text(json.dumps(old))
    assert quality_run('mim_pixel', tmp_path, preset='toy', images=64_000, overrides={'shapes': 'calm'})['knn_top1'] == 40.0
    with pytest.raises(ValueError, match="with preset 'toy' on the 'calm' shapes, but this run asks 64,000 with 'toy' on the 'scale\\+rotation' shapes"):
        quality_run('mim_pixel', tmp_path, preset='toy', images=64_000)


def test_seed_page_leads_with_fine_tuning_next_to_training_from_scratch(tmp_path):
    "When every trained run has the transfer columns they come first, each mean next to the from-scratch mean (the `random_init` row)."
    from m3i_ref.bench import seed_report
    runs = [{'random_init': 30.0 + d, 'raw_pixels': 41.0, 'mim_feature': 40.0 + d} for d in (0.0, 1.0, 2.0)]
    folders = [write_seed(tmp_path / f's{i}', i, k) for i, k in enumerate(runs)]
    for i, f in enumerate(folders):
        for name, ft in (('random_init', 20.0 + i), ('mim_feature', 30.0 + i)):
            p = f / 'runs' / f'{name}.json'; r = json.loads(p.read_text()); r['finetune_top1@1%'] = ft; p.write_text(json.dumps(r))
    md = seed_report(folders, tmp_path / 'seeds.md')
    assert md.index('## fine-tune@1% top-1') < md.index('## kNN top-1') and '## fine-tune@10%' not in md
    part = md.split('## fine-tune@1% top-1')[1].split('## kNN')[0]
    assert 'mean - from scratch |' in part and '| mim_feature | 30.0 | 31.0 | 32.0 | 31.0 | 2.0 | +10.0 |' in part
    assert '| raw_pixels |' not in part                                            # raw pixels fine-tune nothing


def finished(folder, name, overrides, images=50_000, preset='toy', **edits):
    "A finished `quality_run` result of `name` as the run would write it under `overrides`, with `edits` applied to it."
    from dataclasses import asdict
    from m3i_ref.bench import run_options
    from m3i_ref.train import make_config
    cfg = make_config(name, preset, dict(images_seen=images, steps=0, **overrides))
    res = dict(run=name, knn_top1=35.0, linear_top1=36.0, images_seen=images, preset=preset, dataset=cfg.dataset, date='2026-12-01',
               config=asdict(cfg), options=run_options(cfg))
    for k, v in edits.items():
        if v is None: res.pop(k)
        else: res[k] = v
    (folder / 'runs').mkdir(parents=True, exist_ok=True)
    (folder / 'runs' / f'{name}.json').write_text(json.dumps(res))
    return res


def test_quality_run_refuses_a_result_made_with_other_asked_settings(tmp_path, capsys):
    "A run asked with a setting (--set) is not answered by a finished run made with another value of it; the file stays."
    res = finished(tmp_path, 'mim_pixel', dict(seed=1))
    same = lambda ov: quality_run('mim_pixel', tmp_path, preset='toy', images=50_000, overrides=ov)
    assert same(dict(seed=1))['knn_top1'] == 35.0 and capsys.readouterr().err == ''
    before = (tmp_path / 'runs' / 'mim_pixel.json').read_text()
    for ov, says in ((dict(seed=2), 'seed: 1 -> 2'), (dict(seed=1, mim_variant='simmim'), "mim_pixel.mim_variant: 'mae' -> 'simmim'"),
                     ({'seed': 1, 'mae.mask_ratio': 0.75}, 'mim_pixel.mask_ratio: 0.6 -> 0.75')):    # an alias scopes the row too
        with pytest.raises(ValueError, match='made with other settings than this run asks') as e:
            same(ov)
        assert says in str(e.value) and 'delete that file' in str(e.value), str(e.value)
    assert (tmp_path / 'runs' / 'mim_pixel.json').read_text() == before
    assert same(dict(seed=1, mim_variant='mae'))['knn_top1'] == 35.0       # asking the value it was made with


def test_quality_run_names_a_default_changed_since_a_result(tmp_path, capsys):
    "A finished run made under another default is read back (the page keeps it), and stderr names each setting that moved."
    options = finished(tmp_path / 'a', 'mim_pixel', dict(seed=0))['options']
    finished(tmp_path / 'b', 'mim_pixel', dict(seed=0), options={'mim_pixel': dict(options['mim_pixel'], mim_variant='simmim')})
    config = finished(tmp_path / 'c', 'mim_pixel', dict(seed=0))['config']
    finished(tmp_path / 'c', 'mim_pixel', dict(seed=0), config=dict(config, blr=9.0))
    for folder, says in (('b', "mim_pixel.mim_variant: 'simmim' -> 'mae'"), ('c', 'blr: 9.0 -> ')):
        assert quality_run('mim_pixel', tmp_path / folder, preset='toy', images=50_000, overrides=dict(seed=0))['knn_top1'] == 35.0
        err = capsys.readouterr().err
        assert says in err and 'made on 2026-12-01' in err and 'Delete it to remake it' in err, err
    with pytest.raises(ValueError, match="mim_pixel.mim_variant: 'simmim' -> 'mae'"):      # asked explicitly: refused
        quality_run('mim_pixel', tmp_path / 'b', preset='toy', images=50_000, overrides=dict(seed=0, mim_variant='mae'))


def test_quality_run_and_a_result_from_before_options_were_kept(tmp_path, capsys):
    """A result that predates the kept options (and the mim_variant key) does not say which variant it ran: asking today's
    default reads it back, asking another value is refused rather than answered with a run that may not have it."""
    res = finished(tmp_path, 'mim_pixel', dict(seed=0), options=None)
    finished(tmp_path, 'mim_pixel', dict(seed=0), options=None, config={k: v for k, v in res['config'].items() if k != 'mim_variant'})
    ask = lambda **kw: quality_run('mim_pixel', tmp_path, preset='toy', images=50_000, overrides=dict(seed=0, **kw))
    assert ask()['knn_top1'] == 35.0 and ask(mim_variant='mae')['knn_top1'] == 35.0 and capsys.readouterr().err == ''
    with pytest.raises(ValueError, match="mim_pixel.mim_variant: the row's default on 2026-12-01, which the result does not record"):
        ask(mim_variant='simmim')
