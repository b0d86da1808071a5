"""CLIP's false negatives at CIFAR-10 scale: runs/<setting>/seed<k>/runs/clip.json (run.sh) into clip-negatives.md and
clip-negatives.json: kNN and linear probe of the clip row per seed for each `clip_negatives` setting at 100,000 images, the
paired per-seed differences (other_classes - all), the verdict rule of every results page, and whether the row default's
rule (the toy page's: other_classes wins kNN on every seed by more than the seed spread) is met at this scale. The toy page
(docs/results/ablations/clip-negatives/report.py) reads `rule_met` from here. Floors: the CIFAR-10 benchmark's
(docs/results/cifar10/100k/seed<k>). Usage: python docs/results/ablations/cifar/clip-negatives/report.py [OUT_DIR]"""
import json, pathlib, sys
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[5]))
from m3i_ref.likelihoods import CLIP_NEGATIVES
from m3i_ref.results import spread_comparison, VERDICT_RULE, markdown_table, date_span, diffs_text, seconds_cell

here = pathlib.Path(__file__).resolve().parent
results = here.parents[2]                                       # docs/results
dest = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else here
SEEDS = (0, 1, 2)
BASE, ALT = CLIP_NEGATIVES                                      # 'all' (CLIP, the default), 'other_classes'
METRICS = {'knn_top1': 'kNN', 'linear_top1': 'linear'}
FLOORS = ('random_init', 'raw_pixels', 'chance')
read = lambda p: json.loads(p.read_text())
runs = {neg: [read(here / 'runs' / neg / f'seed{s}' / 'runs' / 'clip.json') for s in SEEDS] for neg in CLIP_NEGATIVES}
floors = {f: [read(results / 'cifar10' / '100k' / f'seed{s}' / 'runs' / f'{f}.json') for s in SEEDS] for f in FLOORS}
for neg, rs in runs.items():                                    # each run is what its folder says, at the floors' budget and test set
    for s, r in zip(SEEDS, rs):
        assert r['config']['seed'] == s and r['config']['clip_negatives'] == neg, (neg, s)
        assert (r['preset'], r['dataset'], r['images_seen']) == ('cifar-cpu', 'cifar10', 100_000), (neg, s)
        assert r['test_images'] == floors['random_init'][s]['test_images'], (neg, s)
out = dict(question="Which in-batch captions should CLIP's softmax count as negatives at CIFAR-10 scale: all of them (CLIP) or only other classes' ?",
           preset='cifar-cpu', images_seen=100_000, test_images=runs[BASE][0]['test_images'], seeds=list(SEEDS), settings=list(CLIP_NEGATIVES),
           commands=['bash docs/results/ablations/cifar/clip-negatives/run.sh', 'python docs/results/ablations/cifar/clip-negatives/report.py'],
           per_seed={neg: {m: [r[m] for r in rs] for m in METRICS} for neg, rs in runs.items()},
           floors={f: {m: [r[m] for r in rs] for m in METRICS} for f, rs in floors.items()},
           seconds={neg: [r['seconds'] for r in rs] for neg, rs in runs.items()}, paired={})
for m in METRICS: out['paired'][m] = spread_comparison(out['per_seed'][ALT][m], out['per_seed'][BASE][m])
k = out['paired']['knn_top1']
out['rule_met'] = k['min'] > k['seed_spread']                   # the toy page's rule, at this scale
(dest / 'clip-negatives.json').write_text(json.dumps(out, indent=1) + '\n')

mean = lambda xs: sum(xs) / len(xs)
rows = [[f'seed {s}'] + [f"{out['per_seed'][neg][m][i]:.1f}" for m in METRICS for neg in CLIP_NEGATIVES]
        + [f"{out['paired'][m]['diffs'][i]:+.1f}" for m in METRICS] for i, s in enumerate(SEEDS)]
rows.append(['mean'] + [f"{mean(out['per_seed'][neg][m]):.1f}" for m in METRICS for neg in CLIP_NEGATIVES]
            + [f"{out['paired'][m]['mean']:+.1f}" for m in METRICS])
header = ['seed'] + [f'{METRICS[m]} {neg}' for m in METRICS for neg in CLIP_NEGATIVES] + [f'{METRICS[m]} {ALT} - {BASE}' for m in METRICS]
when = date_span(r['date'] for rs in runs.values() for r in rs)
lines = ["# CLIP's false negatives at CIFAR-10 scale: `clip_negatives` at 100,000 images, three seeds", '',
         'Commands: `bash docs/results/ablations/cifar/clip-negatives/run.sh`, then `python docs/results/ablations/cifar/clip-negatives/report.py`. '
         'Each run: `m3i-ref bench quality --data-root ../shared/data --images 100000 --runs clip --out '
         'docs/results/ablations/cifar/clip-negatives/runs/SETTING/seedS --set clip_negatives=SETTING --set seed=S`. '
         f'The floors are the CIFAR-10 benchmark\'s (`docs/results/cifar10/100k/seed0..2`). {when}.', '',
         f"The clip row on CIFAR-10 (JPEG copy), preset cifar-cpu, {out['images_seen']:,} images seen per run, test set "
         f"{out['test_images']:,} images; kNN (k=200, t=0.1) and the linear probe on the frozen image encoder. The captions are "
         "written from the class names (ten classes), so about a tenth of each image's in-batch negatives share its class. `all` "
         "is CLIP's loss; `other_classes` leaves the captions of the image's own class (other than its pair) out of both softmaxes. "
         "Differences are paired by seed.", '',
         *markdown_table(header, rows), '',
         '| floor | kNN per seed | linear per seed |', '|---|---|---|',
         *[f"| {f.replace('_', ' ')} | {' / '.join(f'{x:.1f}' for x in out['floors'][f]['knn_top1'])} | "
           f"{' / '.join(f'{x:.1f}' for x in out['floors'][f]['linear_top1'])} |" for f in FLOORS], '',
         *[f"- {METRICS[m]}: {ALT} - {BASE} per seed {diffs_text(p)}; mean {p['mean']:+.1f}, "
           f"standard error {p['se']:.1f}; seed spread {p['seed_spread']:.1f}; ordering {ALT} > {BASE}: {p['verdict']}."
           for m, p in out['paired'].items()], '',
         f"**The default's rule at this scale** (`{ALT}` wins kNN on every seed by more than the seed spread): "
         f"{'met' if out['rule_met'] else 'not met'}. The row's default and its reason: `docs/results/ablations/clip-negatives/clip-negatives.md`.", '',
         f"Seconds per run (2 threads on 2 cores, beside the project's test suite: upper bounds, not a cost comparison): {BASE} {seconds_cell(out['seconds'][BASE])}, "
         f"{ALT} {seconds_cell(out['seconds'][ALT])}.", '', VERDICT_RULE, '']
(dest / 'clip-negatives.md').write_text('\n'.join(lines))
print('\n'.join(lines))
