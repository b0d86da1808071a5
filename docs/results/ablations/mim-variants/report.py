"""Write docs/results/ablations/mim-variants/mim-variants.md and .json: MIM pixel with SimMIM's recipe against MAE's (the
row's own) and MIM feature with data2vec's against SiameseIM's (the row's own), toy preset, three seeds, compared seed by
seed (`m3i_ref.results`: paired differences and the verdict rule every seed page uses). The rows' own runs are the toy
benchmark's (docs/results/shapes/64k/seed0..2); seed0/defaults reproduces one of them with the code of this page.
Usage: python docs/results/ablations/mim-variants/report.py [OUT_FOLDER]"""
import json, pathlib, sys
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[4]))
from m3i_ref.methods import VARIANTS
from m3i_ref.results import paired_results, date_span, machine_span, markdown_table, VERDICT_RULE, diffs_text, probe_seed_note

HERE = pathlib.Path(__file__).resolve().parent
OWN = HERE.parents[1] / 'shapes' / '64k'          # the toy benchmark: the rows at their defaults, seeds 0, 1, 2
SEEDS = (0, 1, 2)
# the arms, by row: the row's own recipe first (the toy benchmark's runs), then the folders of this page
ARMS = {'mim_pixel': ['mae', 'simmim'], 'mim_feature': ['siameseim', 'data2vec', 'data2vec-instance']}
OWN_ARM = {row: arms[0] for row, arms in ARMS.items()}
LABEL = {'data2vec-instance': "data2vec with the row's per-channel target norm (--set target_norm=instance)"}
# (row, a, b): the ordering a > b, compared seed by seed (a minus b)
COMPARISONS = [('mim_pixel', 'simmim', 'mae'), ('mim_feature', 'data2vec', 'siameseim'),
               ('mim_feature', 'data2vec-instance', 'data2vec'), ('mim_feature', 'data2vec-instance', 'siameseim')]
METRICS = {'knn_top1': 'kNN top-1', 'linear_top1': 'linear top-1'}
COMMAND = ('`bash docs/results/ablations/mim-variants/run.sh` (for each seed S: `m3i-ref bench quality --preset toy --runs mim_pixel '
           '--out docs/results/ablations/mim-variants/seedS/simmim --set seed=S --set mim_variant=simmim` and the same with `--runs '
           'mim_feature --set mim_variant=data2vec` into `seedS/data2vec`, and with `--set target_norm=instance` added into '
           '`seedS/data2vec-instance`; then the seed-0 reproduction and `.venv/bin/python '
           'docs/results/ablations/mim-variants/report.py`)')
read = lambda p: json.loads(p.read_text())

def report(here=HERE, out=None):
    "The page and its JSON from the run files (written to `out`, default beside this script)."
    here, out = pathlib.Path(here), pathlib.Path(out or here)
    runs = {}
    for row, arms in ARMS.items():
        for s in SEEDS:
            runs[row, arms[0], s] = read(OWN / f'seed{s}' / 'runs' / f'{row}.json')
            for v in arms[1:]: runs[row, v, s] = read(here / f'seed{s}' / v / 'runs' / f'{row}.json')
    floors = {(f, s): read(OWN / f'seed{s}' / 'runs' / f'{f}.json') for f in ('random_init', 'raw_pixels') for s in SEEDS}
    again, first = read(here / 'seed0' / 'defaults' / 'runs' / 'mim_pixel.json'), runs['mim_pixel', 'mae', 0]
    same = all(again[m] == first[m] for m in METRICS)
    every = list(runs.values()) + list(floors.values())
    images, tests = {r['images_seen'] for r in runs.values()}, {r['test_images'] for r in runs.values()}
    lines = ['# SimMIM and data2vec beside the rows\' own recipes (toy, three seeds)', '',
             f'Command: {COMMAND}.', '',
             f"Machine: {machine_span(r['machine'] for r in every)}. {date_span(r['date'] for r in every)}. Preset `toy`, "
             f"{', '.join(f'{n:,}' for n in sorted(images))} images seen per run, test set {', '.join(f'{n:,}' for n in sorted(tests))} images. "
             'Seeds 0, 1 and 2: a seed changes the generated data, the initialisation, the views and the masks, and both runs '
             'of a pair share it, so the comparison is made seed by seed. The rows\' own runs (`mae`, `siameseim`) are the toy '
             'benchmark\'s (`docs/results/shapes/64k/seed0`, `seed1`, `seed2`: the same preset, data and protocol); '
             f"rerun with the code of this page (`seed0/defaults`), seed 0's MIM pixel gives kNN {again['knn_top1']:.2f} and linear "
             f"{again['linear_top1']:.2f} against {first['knn_top1']:.2f} and {first['linear_top1']:.2f} there: "
             f"{'identical' if same else 'NOT identical: the pairing below is not valid'}.", '',
             'What each published variant changes in its row (`VARIANTS` in `nbs/07_methods`; every setting with its source in '
             '`m3i-ref methods --defaults`); everything else (data, encoder, budget, optimiser, EMA schedule, masks) is the row\'s:', '']
    lines += markdown_table(['variant', 'row', 'settings'], [[f'`{v}`', row, ', '.join(f'{k}={d.value}' for k, d in VARIANTS[v].settings.items())]
                                                             for row, arms in ARMS.items() for v in arms[1:] if v in VARIANTS])
    lines += [f'| `{v}` | {row} | {LABEL[v]} |' for row, arms in ARMS.items() for v in arms[1:] if v not in VARIANTS] + ['']
    js = dict(command=COMMAND, seeds=list(SEEDS), reproduced=same, runs={}, floors={}, pairs={})
    for metric, title in METRICS.items():
        lines += [f'## {title}', '']
        table = []
        for row, arms in ARMS.items():
            for v in arms:
                vals, secs = [runs[row, v, s][metric] for s in SEEDS], [runs[row, v, s]['seconds'] for s in SEEDS]
                table.append([row, v + (" (the row's own)" if v == arms[0] else ''), *[f'{x:.1f}' for x in vals], f'{sum(vals) / len(vals):.1f}'])
                js['runs'].setdefault(f'{row}/{v}', {})[metric] = vals
                js['runs'][f'{row}/{v}']['seconds'] = secs
        for f in ('random_init', 'raw_pixels'):
            vals = [floors[f, s][metric] for s in SEEDS]
            table.append([f'floor: {f.replace("_", " ")}', '-', *[f'{x:.1f}' for x in vals], f'{sum(vals) / len(vals):.1f}'])
            js['floors'].setdefault(f, {})[metric] = vals
        lines += markdown_table(['row', 'variant', *[f'seed {s}' for s in SEEDS], 'mean'], table) + ['']
    lines += ['## Paired per-seed differences', '', VERDICT_RULE, '']
    table = []
    for row, a, b in COMPARISONS:
        for metric, title in METRICS.items():
            st = paired_results([runs[row, a, s] for s in SEEDS], [runs[row, b, s] for s in SEEDS], metric)   # linear: by probe seed
            v = st['verdict']
            table.append([f'{a} > {b} ({row})', title, diffs_text(st), f"{st['mean']:+.1f}",
                          '-' if st['t'] is None else f"{st['t']:.2f}", v])
            js['pairs'][f'{row}/{a}-{b}/{metric}'] = dict(diffs=st['diffs'], mean=st['mean'], t=st['t'], verdict=v)
    lines += markdown_table(['ordering', 'metric', 'per-seed differences (seeds 0, 1, 2)', 'mean', 't', 'over all seeds'], table) + ['']
    lines += probe_seed_note(list(js['pairs'].values()))
    p = js['pairs']
    def say(row, a, b, m):
        x = p[f'{row}/{a}-{b}/{m}']
        return f"{x['mean']:+.1f} ({diffs_text(x)}; {x['verdict']})"
    lines += ['## Reading', '',
              f"**SimMIM against MAE on MIM pixel**: kNN {say('mim_pixel', 'simmim', 'mae', 'knn_top1')}, linear "
              f"{say('mim_pixel', 'simmim', 'mae', 'linear_top1')}. **data2vec against SiameseIM on MIM feature**: kNN "
              f"{say('mim_feature', 'data2vec', 'siameseim', 'knn_top1')}, linear {say('mim_feature', 'data2vec', 'siameseim', 'linear_top1')}. "
              f"**data2vec with the row's per-channel target norm** against data2vec as published: kNN "
              f"{say('mim_feature', 'data2vec-instance', 'data2vec', 'knn_top1')}, linear {say('mim_feature', 'data2vec-instance', 'data2vec', 'linear_top1')}; "
              f"against SiameseIM: kNN {say('mim_feature', 'data2vec-instance', 'siameseim', 'knn_top1')}, linear "
              f"{say('mim_feature', 'data2vec-instance', 'siameseim', 'linear_top1')}. "
              'A difference is read by the rule above: on the toy data three seeds of one run spread by several points '
              '(`docs/results/shapes/64k/seeds.md`), so only a gap that every seed agrees on, and that is large against its '
              'spread, is a finding.', '',
              "**What is SimMIM's and data2vec's here, and what is ours.** Theirs: the mask token inside the encoder at each "
              'hidden patch (before the position embedding), the one-linear-layer heads, the losses (L1 on the masked pixels, '
              "normalised by the dataset's mean and std with no per-patch normalisation; smooth L1 with beta 2 on the masked "
              "positions), and data2vec's target as its released vision code makes it (the teacher's top blocks, each "
              "LayerNorm'ed without parameters, averaged, LayerNorm'ed again). Ours: the block mask at ratio 0.6 for both "
              "(SimMIM masks random 2x2-patch units; data2vec's BEiT block mask is the same kind as ours), K = half the "
              "depth (the toy ViT has 2 blocks, so K = 1 here: the teacher's final output, and data2vec's average of blocks "
              'is not exercised at this scale), the EMA schedule of every EMA row here (data2vec holds 0.9998, which at '
              'these budgets would keep most of the random teacher), and the toy ViT, data and budget.', '',
              "**Time.** Both variants encode every patch, where the rows' own recipes encode the visible ones only and decode "
              "the rest with a small decoder. The seconds of these runs do not measure that cost: the rows' own runs ran on "
              "two threads on another day, the variants on one thread on a machine shared with other jobs (the seconds per run "
              "are in `mim-variants.json`); `m3i-ref bench speed` measures steps per second under control.", '']
    (out / 'mim-variants.md').write_text('\n'.join(lines).rstrip() + '\n')
    (out / 'mim-variants.json').write_text(json.dumps(js, indent=1) + '\n')
    return '\n'.join(lines)

if __name__ == '__main__': print(report(HERE, sys.argv[1] if len(sys.argv) > 1 else None))
