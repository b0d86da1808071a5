"""Numbers in prose checked against the JSON they come from: the README's example line of the main job, and the
generated readings of the toy pages, regenerated from their run files and compared byte for byte."""
import json, re, shutil, subprocess, sys
from pathlib import Path
import pytest
from m3i_ref.bench import read_runs

ROOT = Path(__file__).resolve().parent.parent

def test_readme_main_job_line_is_the_toy_benchmarks_m3i_run():
    "The README's `m3i: kNN ...` example is the toy page's M3I run and floors (the main job is that same run)."
    line = re.search(r'^m3i: kNN ([\d.]+) \(raw pixels ([\d.]+), random init ([\d.]+), chance ([\d.]+)\)$', (ROOT / 'README.md').read_text(), re.M)
    assert line, 'the README lost its example score line'
    runs = read_runs(ROOT / 'docs/results/shapes/64k/seed0')
    want = [runs[r]['knn_top1'] for r in ('m3i', 'raw_pixels', 'random_init', 'chance')]
    assert [float(x) for x in line.groups()] == [round(w, 1) for w in want]

@pytest.mark.parametrize('script,files', [('docs/results/shapes/64k/seed0/reading.py', ['reading.md', 'reading.json']),
                                          ('docs/results/shapes/design/report.py', ['design.md', 'design.json']),
                                          ('docs/results/shapes/pipelines/reading.py', ['reading.md']),
                                          ('docs/results/ablations/toy/dino/report.py', ['dino.md', 'dino.json']),
                                          ('docs/results/ablations/mim-variants/report.py', ['mim-variants.md', 'mim-variants.json']),
                                          ('docs/results/ablations/msn/report.py', ['msn.md', 'msn.json']),
                                          ('docs/results/ablations/toy/byol-barlow/report.py', ['byol-barlow.md', 'byol-barlow.json']),
                                          ('docs/results/ablations/clip-negatives/report.py', ['clip-negatives.md', 'clip-negatives.json']),
                                          ('docs/results/ablations/cifar/mocov3/report.py', ['mocov3.md', 'mocov3.json']),
                                          ('docs/results/ablations/cifar/mocov3-loss/report.py', ['mocov3-loss.md', 'mocov3-loss.json']),
                                          ('docs/results/ablations/cifar/simmim/report.py', ['simmim.md', 'simmim.json']),
                                          ('docs/results/ablations/norm-pix/report.py', ['norm-pix.md', 'norm-pix.json']),
                                          ('docs/results/ablations/cifar/target-layers/report.py', ['target-layers.md', 'target-layers.json']),
                                          ('docs/results/ablations/cifar/loss-on/report.py', ['loss-on.md', 'loss-on.json']),
                                          ('docs/results/ablations/cifar/dino-head/report.py', ['dino-head.md', 'dino-head.json']),
                                          ('docs/results/targets/targets.py', ['targets.md', 'targets.json']),
                                          ('docs/results/ablations/cifar/clip-negatives/report.py', ['clip-negatives.md', 'clip-negatives.json'])])

def test_generated_readings_match_their_run_files(script, files, tmp_path):
    subprocess.run([sys.executable, str(ROOT / script), str(tmp_path)], check=True, cwd=ROOT)
    for f in files:
        assert (tmp_path / f).read_text() == (ROOT / script).parent.joinpath(f).read_text(), f'{script}: {f} is stale; rerun the script'

def test_the_targets_page_reads_what_it_reports(tmp_path):
    "Poison the seeds page's MIM feature scores in a copy of docs/results: the targets page counts that target met, no other moves."
    res = tmp_path / 'docs' / 'results'
    shutil.copytree(ROOT / 'docs/results', res)
    seeds = json.loads((res / 'cifar10/100k/seeds.json').read_text())
    seeds['runs']['knn_top1']['mim_feature'].update(values=[41.0, 41.0, 41.0], mean=41.0)
    (res / 'cifar10/100k/seeds.json').write_text(json.dumps(seeds))
    subprocess.run([sys.executable, str(res / 'targets/targets.py')], check=True, cwd=tmp_path, capture_output=True)
    before, after = (json.loads(p.read_text()) for p in (ROOT / 'docs/results/targets/targets.json', res / 'targets/targets.json'))
    met = lambda d: {t['id']: t['met'] for t in d['targets']}
    assert met(before)['mim_feature'] is False and met(after)['mim_feature'] is True
    assert {k: v for k, v in met(after).items() if k != 'mim_feature'} == {k: v for k, v in met(before).items() if k != 'mim_feature'}
    assert after['met'] == before['met'] + 1 and '| 41.0 / 41.0 / 41.0 (mean 41.0) | yes |' in (res / 'targets/targets.md').read_text()

def _claims_module():
    import importlib.util
    spec = importlib.util.spec_from_file_location('claims', ROOT / 'docs/results/claims.py')
    mod = importlib.util.module_from_spec(spec); spec.loader.exec_module(mod)
    return mod

def test_the_results_reading_is_rendered_from_the_json():
    "docs/results/README.md is README.tmpl.md with every number read from the JSON: edited by hand or stale, it differs."
    claims = _claims_module()
    assert claims.render((ROOT / 'docs/results/README.tmpl.md').read_text()) == (ROOT / 'docs/results/README.md').read_text(), \
        'docs/results/README.md is stale or was edited by hand: edit README.tmpl.md and run python docs/results/claims.py'
    assert claims.REF.search((ROOT / 'docs/results/README.tmpl.md').read_text()), 'the reading quotes no number from the JSON'

def test_every_claim_in_the_claims_table_is_what_its_json_says(monkeypatch):
    "Each sentence of docs/results/claims.json, rendered from its JSON, appears in its file; a changed number is caught."
    claims = _claims_module()
    table = json.loads((ROOT / 'docs/results/claims.json').read_text())['claims']
    assert len(table) >= 8 and {c['file'] for c in table} >= {'README.md', 'docs/teaching.md', 'nbs/13_m3i.ipynb'}
    assert claims.check_claims() == []
    real = claims.value
    monkeypatch.setattr(claims, 'value', lambda ref, root=claims.HERE: real(ref, root) + 1.0 if 'seeds.json#runs.knn_top1.m3i.mean' in ref else real(ref, root))
    assert {f for f, _ in claims.check_claims()} == {'nbs/13_m3i.ipynb'}      # the one claim that quotes that number

def test_a_reference_into_a_list_can_name_its_entry(tmp_path):
    "`field=value` picks the one list entry with that value, so an entry added in front (a new ordering) moves no claim."
    claims = _claims_module()
    (tmp_path / 'p.json').write_text(json.dumps({'orderings': [{'claim': 'a > b', 'verdict': 'holds'}, {'claim': 'c > d', 'verdict': 'unresolved'}]}))
    assert claims.render('{p.json#orderings.claim=c > d.verdict}', tmp_path) == 'unresolved'
    (tmp_path / 'p.json').write_text(json.dumps({'orderings': [{'claim': 'e > f', 'verdict': 'holds'}, {'claim': 'a > b', 'verdict': 'holds'},
                                                               {'claim': 'c > d', 'verdict': 'unresolved'}]}))
    assert claims.render('{p.json#orderings.claim=c > d.verdict}', tmp_path) == 'unresolved'
    assert claims.render('{p.json#orderings.1.verdict}', tmp_path) == 'holds'                   # an index moved to a > b
    with pytest.raises(KeyError, match="0 entries have claim = 'x > y'"):
        claims.value('p.json#orderings.claim=x > y.verdict', tmp_path)
    (tmp_path / 'q.json').write_text(json.dumps({'comparisons': [dict(a='x', b='y', metric='knn', mean=1.0), dict(a='x', b='y', metric='linear', mean=2.0),
                                                                  dict(a='x', b='z', metric='knn', mean=3.0)]}))
    assert claims.render('{q.json#comparisons.a=x&b=y&metric=linear.mean:.1f}', tmp_path) == '2.0'        # several fields name one entry
    assert claims.render('{q.json#comparisons.b=z&metric=knn.mean:.1f}', tmp_path) == '3.0'
    (tmp_path / 'r.json').write_text(json.dumps({'diffs': [2.04, None, -0.5]}))                  # a seed left unpaired (its probe seed)
    assert claims.render('{r.json#diffs:+.1f,}', tmp_path) == '+2.0, -, -0.5'
    with pytest.raises(KeyError, match="2 entries have a = 'x' and b = 'y'"):
        claims.value('q.json#comparisons.a=x&b=y.mean', tmp_path)
