"""The auto-encoder's target page: the auto-encoder row with raw pixels as its target (norm_pix=False, the plain
auto-encoder's) against per-patch-normalised pixels (norm_pix=True, MAE's norm_pix_loss), paired by seed, on the toy data
(5 seeds, both settings run here) and on CIFAR-10 at 100,000 images (seed 0; the normalised side and the floors are the
CIFAR-10 benchmark's runs, docs/results/cifar10/100k/seed<k>/runs/), and the rule the row's default follows.
Reads toy/<setting>/seed<k>/runs/*.json and cifar/raw/seed<k>/runs/autoencoder.json (run.sh).
Writes norm-pix.md and norm-pix.json beside this file (or into the folder given as the first argument).
Usage: python docs/results/ablations/norm-pix/report.py [OUT_DIR]"""
import json, pathlib, sys
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[4]))
from m3i_ref.results import paired_comparisons, published_default, VERDICT_RULE, markdown_table, date_span, seeds_cell, diffs_text, seed_record, seconds_cell

here = pathlib.Path(__file__).resolve().parent
results = here.parents[1]                                       # docs/results
out = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here
SEEDS = {'toy': (0, 1, 2, 3, 4), 'cifar': (0,)}         # CIFAR seeds 1 and 2: not run (see STOPPED)
SETTINGS = {'raw': False, 'normalised': True}                   # setting -> norm_pix
TITLES = {'raw': 'raw pixels as the target (`norm_pix=False`)', 'normalised': 'per-patch-normalised pixels (`norm_pix=True`)'}
FLOORS = ('random_init', 'raw_pixels', 'chance')
METRICS = {'knn_top1': 'kNN', 'linear_top1': 'linear'}
SCALE = {'toy': dict(preset='toy', dataset='shapes', images=64_000), 'cifar': dict(preset='cifar-cpu', dataset='cifar10', images=100_000)}
STOPPED = ('CIFAR-10 seed 1 was started and stopped unfinished, and seed 2 not started: at seed 0 the raw target was level with the '
           'normalised one on kNN and below it on the linear probe (table below), so no later seed could make the ordering '
           "hold at every seed, which the rule asks for; the 2 cores' time went to other measurements.")
bench = lambda s: results / 'cifar10' / '100k' / f'seed{s}' / 'runs'
def folder(scale, setting, s):
    "Where a run of `setting` at `scale` and seed `s` lives (CIFAR's normalised side and floors: the benchmark's)."
    if scale == 'cifar' and setting != 'raw': return bench(s)
    return here / scale / ('normalised' if setting in FLOORS else setting) / f'seed{s}' / 'runs'
read = lambda p: json.loads(p.read_text())
tables, comparisons, rows, meta = {}, {}, {}, {}
for scale, seeds in SEEDS.items():
    runs = {v: [read(folder(scale, v, s) / 'autoencoder.json') for s in seeds] for v in SETTINGS}
    floors = {f: [read(folder(scale, f, s) / f'{f}.json') for s in seeds] for f in FLOORS}
    for v, rs in runs.items():                  # each run is what its file says, at the floors' preset, budget and test set
        for s, r in zip(seeds, rs):
            assert r['config']['method'] == 'autoencoder' and r['config']['seed'] == s, (scale, v, s)
            assert (r['config'].get('norm_pix') is None and SETTINGS[v]) or r['config'].get('norm_pix') == SETTINGS[v], (scale, v, s)
            assert (r['preset'], r['dataset'], r['images_seen']) == tuple(SCALE[scale].values()), (scale, v, s)
            assert r['test_images'] == floors['random_init'][seeds.index(s)]['test_images'], (scale, v, s)
    table = {v: seed_record(rs, METRICS) for v, rs in {**runs, **floors}.items()}
    for v in SETTINGS: table[v]['seconds'] = [r['seconds'] for r in runs[v]]
    pairs = [('raw', 'normalised'), ('raw', 'random_init'), ('normalised', 'random_init'), ('raw', 'raw_pixels')]
    comparisons[scale], crows = paired_comparisons(table, pairs, METRICS, lambda a, b: f"{a} vs {b.replace('_', ' ')}")
    tables[scale] = table
    rows[scale] = (crows, [[TITLES.get(v, v.replace('_', ' ') + ' (floor)'),
                            *(seeds_cell(table[v][m]) for m in METRICS)]
                           for v in [*SETTINGS, *FLOORS]])
    meta[scale] = dict(dates=[r['date'] for rs in runs.values() for r in rs], test_images=runs['raw'][0]['test_images'])
cmp = lambda scale, a, b, m='knn_top1': next(c for c in comparisons[scale] if (c['a'], c['b'], c['metric']) == (a, b, m))
# the masking ordering of the seeds page (MIM pixel over the auto-encoder) against each auto-encoder target, the CIFAR seeds above
mim = [read(bench(s) / 'mim_pixel.json') for s in SEEDS['cifar']]
for s, r in zip(SEEDS['cifar'], mim): assert r['config']['seed'] == s and r['images_seen'] == 100_000, s
tables['cifar']['mim_pixel'] = seed_record(mim, METRICS)
masking, mrows = paired_comparisons(tables['cifar'], [('mim_pixel', 'normalised'), ('mim_pixel', 'raw')], METRICS,
                                    lambda a, b: f'MIM pixel (per-patch-normalised target) vs auto-encoder, {b} target')
# the reading's words, checked against the numbers they describe
assert cmp('toy', 'raw', 'normalised', 'knn_top1')['verdict'] == 'holds', 'the reading says the raw target helps on the toy data'
assert cmp('cifar', 'raw', 'normalised', 'knn_top1')['verdict'] != 'holds' and cmp('cifar', 'raw', 'normalised', 'linear_top1')['mean'] < 0, \
    'the reading says it does not at CIFAR-10 scale, and the linear probe prefers the normalised target'
assert all(r['verdict'] == 'holds' for r in masking if r['metric'] == 'knn_top1'), 'the reading says masking helps with either target'
assert tables['toy']['raw_pixels']['knn_top1']['mean'] > tables['toy']['random_init']['knn_top1']['mean'] + 10, 'raw pixels far above the untrained encoder'
assert cmp('toy', 'normalised', 'random_init', 'knn_top1')['mean'] < 0 and cmp('toy', 'raw', 'random_init', 'knn_top1')['verdict'] != 'holds', \
    'the reading says the normalised target leaves the toy auto-encoder below the untrained encoder, the raw one at it'
rule = ("`norm_pix=False` (the plain auto-encoder's target: its own input) replaces `norm_pix=True` (MAE's normalised target, "
        "which the row took from MAE) as the auto-encoder row's default when raw > normalised holds on kNN by the paired rule below "
        "at both scales: the toy data (5 seeds) and CIFAR-10 at 100,000 images; otherwise `True` stays. The MoCo v3 "
        "page's rule for a published recipe (docs/results/ablations/cifar/mocov3), both settings being published ones. At equal "
        "images seen")
default, reason = published_default(False, True, cmp('toy', 'raw', 'normalised', 'knn_top1'), cmp('cifar', 'raw', 'normalised', 'knn_top1'),
                                    cmp('cifar', 'raw', 'normalised', 'linear_top1'), 'raw - normalised target')
sec = lambda scale, v: seconds_cell(tables[scale][v]['seconds'])
mk = {r['b'] + '/' + r['metric']: r for r in masking}
lines = ["# The auto-encoder's target: raw or per-patch-normalised pixels (toy, 5 seeds; CIFAR-10 at 100,000 images, seed 0)", '',
         'Commands: `bash docs/results/ablations/norm-pix/run.sh` (toy, each seed K: `m3i-ref bench quality --preset toy --runs '
         'autoencoder,random_init,raw_pixels,chance --out docs/results/ablations/norm-pix/toy/normalised/seedK --set seed=K` and `--runs '
         'autoencoder --out .../toy/raw/seedK --set seed=K --set norm_pix=False`; CIFAR-10, each seed K: `m3i-ref bench quality '
         '--data-root ../shared/data --images 100000 --runs autoencoder --out docs/results/ablations/norm-pix/cifar/raw/seedK --set '
         'norm_pix=False --set seed=K`, K = 0 here), then `python docs/results/ablations/norm-pix/report.py`. The CIFAR-10 normalised side and '
         "floors are the benchmark's runs of the same seed (`docs/results/cifar10/100k/seed0`). " + STOPPED + ' '
         f"{date_span(d for m in meta.values() for d in m['dates'])}.", '',
         'The auto-encoder row encodes the whole view and decodes every patch of it (no mask). Its target was MAE\'s `norm_pix_loss`: '
         "each target patch standardised to zero mean and unit variance, so what a patch shares with its surroundings (its mean "
         'colour and brightness, its contrast) is not asked for. The plain auto-encoder reconstructs its input as it is. Everything '
         "else is the row's (encoder, decoder, views, optimiser, budget, the kNN (k=200, t=0.1) and linear-probe protocol).", '']
for scale, name in (('toy', f"Toy data, preset toy, {SCALE['toy']['images']:,} images seen, test set {meta['toy']['test_images']:,} images, seeds 0 to 4"),
                    ('cifar', f"CIFAR-10, preset cifar-cpu, {SCALE['cifar']['images']:,} images seen, test set {meta['cifar']['test_images']:,} images, seed 0")):
    crows, trows = rows[scale]
    lines += [f'## {name}', '', *markdown_table(['run', 'kNN top-1', 'linear top-1'], trows), '',
              *markdown_table(['comparison (paired by seed)', 'per seed', 'mean', 'verdict'], crows), '',
              f"Seconds per run (training, feature extraction and both probes, 2 threads on 2 cores): raw {sec(scale, 'raw')}, "
              f"normalised {sec(scale, 'normalised')}" + (" (the benchmark's runs, not all of them alone)." if scale == 'cifar' else '.'), '']
lines += ['## The masking ordering with either target (CIFAR-10)', '',
          "The seeds page reads the poster's ordering \"MIM pixel > auto-encoder (masking helps)\" from the rows' defaults. MIM pixel "
          "keeps MAE's normalised target, so with a raw-pixel auto-encoder the two rows differ in the target as well as in the mask; "
          'the like-for-like comparison is the first one.', '',
          *markdown_table(['comparison (paired by seed)', 'per seed', 'mean', 'verdict'], mrows), '',
          f"**Reading.** Raw minus normalised target: on the toy data kNN {diffs_text(cmp('toy', 'raw', 'normalised'))} "
          f"({cmp('toy', 'raw', 'normalised')['verdict']}), linear {diffs_text(cmp('toy', 'raw', 'normalised', 'linear_top1'))} "
          f"({cmp('toy', 'raw', 'normalised', 'linear_top1')['verdict']}); on CIFAR-10 kNN {diffs_text(cmp('cifar', 'raw', 'normalised'))} "
          f"({cmp('cifar', 'raw', 'normalised')['verdict']}), linear {diffs_text(cmp('cifar', 'raw', 'normalised', 'linear_top1'))} "
          f"({cmp('cifar', 'raw', 'normalised', 'linear_top1')['verdict']}). Over the random-init encoder on CIFAR-10 the raw-pixel "
          f"auto-encoder is {cmp('cifar', 'raw', 'random_init')['mean']:+.1f} kNN, the normalised one "
          f"{cmp('cifar', 'normalised', 'random_init')['mean']:+.1f}; raw pixels alone score {tables['cifar']['raw_pixels']['knn_top1']['mean']:.1f}. "
          "On the toy data, where raw pixels are far above the untrained encoder, the normalised target leaves the auto-encoder "
          f"below that encoder ({cmp('toy', 'normalised', 'random_init')['mean']:+.1f} kNN, {cmp('toy', 'normalised', 'random_init')['verdict']}) "
          f"and the raw target only brings it back to it ({cmp('toy', 'raw', 'random_init')['mean']:+.1f}, "
          f"{cmp('toy', 'raw', 'random_init')['verdict']}): keeping each patch's mean colour and contrast removes a harm there rather "
          "than teaching much; at CIFAR-10 scale it does neither, and the linear probe prefers the normalised target. A toy ordering that did not carry over, as SimMIM's over MAE did not (docs/results/ablations/cifar/simmim). "
          f"Masking helps with either target on CIFAR-10: MIM pixel over the normalised auto-encoder "
          f"{mk['normalised/knn_top1']['mean']:+.1f} kNN ({mk['normalised/knn_top1']['verdict']}), over the raw one "
          f"{mk['raw/knn_top1']['mean']:+.1f} ({mk['raw/knn_top1']['verdict']}). Fine-tuning was not measured on this page.", '',
          f"**Default.** Rule: {rule}. Measured: {reason}. Default: `norm_pix={default}` (`m3i-ref methods --defaults` shows this reason).", '',
          VERDICT_RULE, '']
(out / 'norm-pix.md').write_text('\n'.join(lines))
(out / 'norm-pix.json').write_text(json.dumps(dict(seeds=SEEDS, scales=SCALE, runs=tables, comparisons=comparisons, masking=masking,
                                                   rule=rule, default=default, reason=reason), indent=1) + '\n')
print('\n'.join(lines))
