"""Lever probes: one row option set away from the row's default, on CIFAR-10 at 100,000 images and, where run, on the toy
data at 64,000 (`SCALES`). Each seed is paired with the default side's run of the same row and seed, which also gives the
floors: each scale's benchmark runs for seeds 0, 1 and 2 (docs/results/cifar10/100k/seed<k>/runs, docs/results/shapes/64k/
seed<k>/runs), and for a later seed the row's default and the floors run for the probes (docs/results/ablations/cifar/
defaults[/toy]/seed<k>/runs, by lever.sh). `SPECS` holds each probe (its rows, the option and value, its page's prose);
`report(name, out)` reads <probe>/runs|toy/<folder>/seed<k>/runs/<row>.json for every seed and row that has both sides,
pairs each row over its own seeds (a linear comparison only over the seeds whose two runs trained their probe with the
same seed), and writes <name>.md and <name>.json.
Each probe's report.py calls it: python docs/results/ablations/cifar/<probe>/report.py [OUT_DIR]"""
import json, pathlib, sys
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[4]))
from m3i_ref.methods import ROW
from m3i_ref.results import (paired_comparisons, probe_seed_note, VERDICT_RULE, markdown_table, date_span, diffs_text, seed_record,
                              seeds_cell, seconds_cell)

here = pathlib.Path(__file__).resolve().parent
results = here.parents[1]                                       # docs/results
FLOORS = ('random_init', 'raw_pixels', 'chance')
METRICS = {'knn_top1': 'kNN', 'linear_top1': 'linear'}
SHORT = {'mim_feature': 'MIM feature', 'sim_feature': 'SiameseIM feature', 'global_distillation': 'Global distillation'}
SPECS = {
    'target-layers': dict(
        option='target_layers', value=2, rows=('mim_feature', 'sim_feature'), folder='top2', base='last',
        on='top 2 blocks (`target_layers=2`)', off='last block (`target_layers=1`, the default)',
        on_short='top 2 blocks', off_short='last block',
        title="Averaging the teacher's top two blocks: MIM feature and SiameseIM feature",
        about=("Both rows regress the EMA teacher's dense features of the full view, each channel standardised over the view's "
               "tokens (`target_norm=instance`). By default the target is the teacher's last block (SiameseIM's code). data2vec's "
               "target is the mean of the teacher's top K blocks, each normalised first (K = 6 of ViT-B's 12); here K = 2 of the "
               "cifar-cpu ViT's 4. Seed 0 was run first as a probe (2026-12-02), seeds 1 and 2 on 2026-12-07. MIM feature was ahead at "
               "all three seeds but unresolved, so seeds 3 and 4 of it were added (2026-12-07, each with its own default-side run); "
               "SiameseIM feature, whose gain was smaller and which stays short of 40 kNN either way, was not run further.")),
    'loss-on': dict(
        option='loss_on', value='masked', rows=('mim_feature',), folder='masked', base='all',
        on='loss on the hidden patches (`loss_on=masked`)', off='loss on every patch (`loss_on=all`, the default)',
        on_short='hidden patches', off_short='every patch',
        title='Where the MIM feature loss is read: the hidden patches only or every patch',
        about=("MIM feature regresses the EMA teacher's dense features of the full view (each channel standardised over the "
               "view's tokens, `target_norm=instance`) from the masked view. By default the loss reads every patch of the view "
               "(SiameseIM's code, `loss_on=all`); MAE and data2vec read the hidden patches only (`loss_on=masked`). Measured at "
               "CIFAR-10 scale before only under the old per-token target (34.1 kNN both ways, ablations/ablations.md). Seeds 0, 1 "
               "and 2 put it ahead at every seed but left it unresolved, so seeds 3 and 4 were added (2026-12-07, each with its "
               "own default-side run).")),
    'dino-head': dict(
        option='dino_head', value='bottleneck', rows=('global_distillation',), folder='bottleneck', base='plain',
        on="DINO's head (`dino_head=bottleneck`)", off='a plain MLP head (`dino_head=plain`, the default)',
        on_short="DINO's head", off_short='plain head',
        title="Global distillation with DINO's head",
        about=("Global distillation matches the student's softmax over K prototypes of a view to the EMA teacher's centred, "
               "sharpened softmax of the same view (DINO's loss, without DINO's second view). By default its head is a plain MLP "
               "to the K prototype logits (ours); DINO's head (`bottleneck`) ends in an l2-normalised bottleneck and a weight-"
               "normalised last layer of unit prototypes. The row sits nearest the random-init floor of the self-supervised rows; "
               "on the toy data (one seed) DINO's head gave +1.5 kNN, -1.4 linear (ablations/ablations.md)."))}

SCALES = {   # each scale's lever runs (<probe>/<runs>/<folder>/seed<k>) and default side: its benchmark's seeds, then the probes' own
    'cifar10': dict(label='CIFAR-10', dataset='cifar10', preset='cifar-cpu', images=100_000, runs='runs', bench=results / 'cifar10' / '100k',
                    own=here / 'defaults', args='--data-root ../shared/data --images 100000'),
    'toy': dict(label='toy data', dataset='shapes', preset='toy', images=64_000, runs='toy', bench=results / 'shapes' / '64k',
                own=here / 'defaults' / 'toy', args='--preset toy')}
BENCH_SEEDS = (0, 1, 2)       # the seeds both benchmarks ran; a probe's later seeds have their own default side (lever.sh)

def default_side(seed, scale='cifar10'):
    "The folder of `seed`'s default-side runs and floors at `scale`: the benchmark's for its seeds, else the probes' own."
    sc = SCALES[scale]
    return sc['bench'] / f'seed{seed}' / 'runs' if seed in BENCH_SEEDS else sc['own'] / f'seed{seed}' / 'runs'

def seeds_text(seeds): return ', '.join(map(str, seeds))

def measure(name, scale):
    """One probe at one scale: each row's lever runs paired, seed by seed, with the default side's run of the same seed, and the
    floors; None when the probe has no runs at this scale."""
    spec, probe, sc = SPECS[name], here / name, SCALES[scale]
    read = lambda p: json.loads(p.read_text())
    lever = lambda s, row: probe / sc['runs'] / spec['folder'] / f'seed{s}' / 'runs' / f'{row}.json'
    ran = sorted(int(p.name[4:]) for p in (probe / sc['runs'] / spec['folder']).glob('seed*'))
    if not ran: return None
    both = lambda s, row: lever(s, row).exists() and all((default_side(s, scale) / f'{r}.json').exists() for r in (row, *FLOORS))
    row_seeds = {row: [s for s in ran if both(s, row)] for row in spec['rows']}      # each row paired over its own seeds
    if not all(row_seeds.values()):
        raise FileNotFoundError(f'{probe}/{sc["runs"]}/{spec["folder"]}: a row has no seed with both sides: {row_seeds}; run run.sh')
    seeds = sorted(set().union(*row_seeds.values()))
    mixed = len({tuple(v) for v in row_seeds.values()}) > 1
    on, off = spec['folder'], spec['base']
    runs = {(row, on): [read(lever(s, row)) for s in row_seeds[row]] for row in spec['rows']}
    runs.update({(row, off): [read(default_side(s, scale) / f'{row}.json') for s in row_seeds[row]] for row in spec['rows']})
    floors = {f: [read(default_side(s, scale) / f'{f}.json') for s in seeds] for f in FLOORS}
    for (row, v), rs in runs.items():           # each run is what its file says, at the floors' preset, budget and test set
        for s, r in zip(row_seeds[row], rs):
            setting = r['config'].get(spec['option']) or ROW[row].defaults[spec['option']].value
            assert r['config']['method'] == row and r['config']['seed'] == s, (row, v, s)
            assert (setting == spec['value']) == (v == on), (row, v, s, setting)
            assert (r['preset'], r['dataset'], r['images_seen']) == (sc['preset'], sc['dataset'], sc['images']), (row, v, s)
            assert r['test_images'] == floors['random_init'][seeds.index(s)]['test_images'], (row, v, s)
    for f, rs in floors.items(): assert [r['config']['seed'] for r in rs] == seeds, (f, seeds)
    table = {f'{row}/{v}': seed_record(rs, METRICS) for (row, v), rs in runs.items()}
    table.update({f: seed_record(rs, METRICS) for f, rs in floors.items()})
    for (row, v), rs in runs.items(): table[f'{row}/{v}']['seconds'] = [r['seconds'] for r in rs]
    short = lambda k: f"{SHORT[k.split('/')[0]]} {spec['on_short'] if k.endswith('/' + on) else spec['off_short']}" if '/' in k else k.replace('_', ' ')
    title = lambda k: f"{ROW[k.split('/')[0]].title}, {spec['on'] if k.endswith('/' + on) else spec['off']}" if '/' in k else k.replace('_', ' ') + ' (floor)'
    at = lambda k: f" (seeds {seeds_text(row_seeds[k.split('/')[0]] if '/' in k else seeds)})" if mixed else ''
    comparisons, crows = [], []
    for kind in ('lever', 'floor'):              # every row's lever first, then every row against random init
        for row in spec['rows']:                 # over the row's own seeds, its floor of the same seeds (linear: where the probe seeds agree)
            sub = {k: e for k, e in table.items() if k.startswith(f'{row}/')}
            sub['random_init'] = seed_record([floors['random_init'][seeds.index(s)] for s in row_seeds[row]], METRICS)
            pairs = [(f'{row}/{on}', f'{row}/{off}')] if kind == 'lever' else [(f'{row}/{v}', 'random_init') for v in (on, off)]
            c, r = paired_comparisons(sub, pairs, METRICS, lambda a, b: f'{short(a)} vs {short(b)}{at(a)}')
            comparisons += [dict(x, seeds=[s for s, d in zip(row_seeds[row], x['diffs']) if d is not None]) for x in c]; crows += r
    cmp = lambda row, m='knn_top1': next(c for c in comparisons if (c['a'], c['b'], c['metric']) == (f'{row}/{on}', f'{row}/{off}', m))
    rows = [[title(k) + at(k), *(seeds_cell(table[k][m]) for m in METRICS), seconds_cell(table[k].get('seconds', [])) or '-'] for k in table]
    extra = [s for s in seeds if s not in BENCH_SEEDS]
    return dict(scale=scale, seeds=seeds, row_seeds=row_seeds, mixed=mixed, table=table, comparisons=comparisons,
                crows=crows, rows=rows, cmp=cmp, extra=extra, extra_rows=[row for row in spec['rows'] if set(extra) & set(row_seeds[row])],
                dates=[r['date'] for rs in runs.values() for r in rs])

def report(name, out=None):
    spec, probe = SPECS[name], here / name
    out = pathlib.Path(out) if out else probe
    at = {scale: m for scale in SCALES if (m := measure(name, scale))}
    if 'cifar10' not in at: raise FileNotFoundError(f'{probe}/runs/{spec["folder"]}: no CIFAR-10 runs; run run.sh')
    on = spec['folder']
    rel = lambda path: path.relative_to(results.parent.parent)            # a path as the pages write it, from the repository root
    scale_text = lambda s: f"{SCALES[s]['label']}, {SCALES[s]['images']:,} images"
    def cmd(scale):
        sc, m = SCALES[scale], at[scale]
        pre = 'SCALE=toy ' if scale == 'toy' else ''
        lever_out = f"docs/results/ablations/cifar/{name}/{sc['runs']}/{on}/seedS"
        text = (f"`{pre}bash docs/results/ablations/cifar/{name}/run.sh` (for each seed S: `m3i-ref bench quality {sc['args']} "
                f"--runs {','.join(spec['rows'])} --out {lever_out} --set {spec['option']}={spec['value']} --set seed=S`)")
        if m['extra']:
            own = rel(sc['own'])
            text += (f"; seeds {seeds_text(m['extra'])}: `{pre}SEEDS='{' '.join(map(str, m['extra']))}' ROWS={','.join(m['extra_rows'])} bash "
                     f"docs/results/ablations/cifar/{name}/run.sh`, which first runs the {spec['off_short']} side and the floors of each such seed "
                     f"(`m3i-ref bench quality {sc['args']} --runs random_init,raw_pixels,chance,{','.join(m['extra_rows'])} --out {own}/seedS --set seed=S`)")
        return text
    def sides(scale):
        sc, m = SCALES[scale], at[scale]
        return (f"the {'CIFAR-10 benchmark' if scale == 'cifar10' else 'toy benchmark'}'s runs of the same seeds (`{rel(sc['bench'])}/seed<k>`)"
                + (f", for seed{'s' if len(m['extra']) > 1 else ''} {seeds_text(m['extra'])} the probes' own runs of the row's default "
                   f"(`{rel(sc['own'])}/seed<k>`)" if m['extra'] else ''))
    sentence = lambda m, row: (f"{SHORT[row]}: {spec['on_short']} minus {spec['off_short']} {diffs_text(m['cmp'](row))} kNN (mean "
                               f"{m['cmp'](row)['mean']:+.1f}, {m['cmp'](row)['verdict']}), {diffs_text(m['cmp'](row, 'linear_top1'))} linear "
                               f"({m['cmp'](row, 'linear_top1')['verdict']})")
    def tables(m):
        return [*markdown_table(['run', 'kNN top-1 (per seed, mean)', 'linear top-1 (per seed, mean)', 'train+eval s'], m['rows']), '',
                *markdown_table([f"comparison ({'each over its seeds' if m['mixed'] else 'seeds ' + seeds_text(m['seeds'])})", 'per seed',
                                 'mean', 'verdict'], m['crows']), '',
                *probe_seed_note(m['comparisons'])]
    c = at['cifar10']
    held = {scale: [row for row in spec['rows'] if m['cmp'](row)['verdict'] == 'holds'] for scale, m in at.items()}
    ahead = [row for row in spec['rows'] if min(c['cmp'](row)['diffs']) > 0]
    both = [row for row in held['cifar10'] if row in held.get('toy', [])]
    if both: verdict = (f"The kNN gain holds for {', '.join(SHORT[r] for r in both)} at both scales: a lever, and by the rule above a "
                        f"default to change. ")
    elif held['cifar10']: verdict = (f"The kNN gain holds for {', '.join(SHORT[r] for r in held['cifar10'])} on CIFAR-10"
                                     + (' but not on the toy data: a lever at this budget, not a default by the rule above. ' if 'toy' in at else
                                        ': a lever at this budget. '))
    elif ahead: verdict = (f"{' and '.join(SHORT[r] for r in ahead)} ahead on kNN at every {'CIFAR-10 ' if 'toy' in at else ''}seed, by less than the paired rule needs: "
                           'no lever shown at this budget. ')
    else: verdict = 'No kNN gain holds: not a lever at this budget. '
    scales = '; '.join(f"{scale_text(s)}, seed{'s' if len(m['seeds']) > 1 else ''} {seeds_text(m['seeds'])}" for s, m in at.items())
    heading = lambda s: ['## ' + scale_text(s)[:1].upper() + scale_text(s)[1:], '']
    toy = at.get('toy')
    lines = [f"# {spec['title']} ({scales})", '',
             f"Commands: {cmd('cifar10')}" + (f"; on the toy data, {cmd('toy')}" if toy else '')
             + f", then `python docs/results/ablations/cifar/{name}/report.py`. The {spec['off_short']} side and the floors are "
             + sides('cifar10') + (f"; on the toy data, {sides('toy')}" if toy else '')
             + f". {date_span(d for m in at.values() for d in m['dates'])}.", '',
             spec['about'] + ' A default changes on three seeds at both scales, and a change to these rows would also change M3I, '
             'whose image targets they are.', '',
             *(heading('cifar10') if toy else []), *tables(c),
             *([*heading('toy'), *tables(toy)] if toy else []),
             f"**Reading.** {'CIFAR-10: ' if toy else ''}{'; '.join(sentence(c, row) for row in spec['rows'])}. "
             + (f"Toy data: {'; '.join(sentence(toy, row) for row in spec['rows'])}. " if toy else '')
             + verdict + 'Seconds: each run alone on 2 cores with 2 threads; the benchmark side on other days.', '',
             VERDICT_RULE, '']
    (out / f'{name}.md').write_text('\n'.join(lines))
    page = lambda m: dict(seeds=m['seeds'], row_seeds=m['row_seeds'], preset=SCALES[m['scale']]['preset'], images_seen=SCALES[m['scale']]['images'],
                          runs=m['table'], comparisons=m['comparisons'])
    data = dict(page(c), option=spec['option'], value=spec['value'], **({'toy': page(toy)} if toy else {}))
    data = {k: data[k] for k in ('seeds', 'row_seeds', 'preset', 'images_seen', 'option', 'value', 'runs', 'comparisons', 'toy') if k in data}
    (out / f'{name}.json').write_text(json.dumps(data, indent=1) + '\n')
    print('\n'.join(lines))
