"""Numbers in prose that come from the results, computed from their JSON.

- `docs/results/README.tmpl.md` is the reading of the results: every number in it is a reference such as
  `{cifar10/100k/seeds.json#runs.knn_top1.m3i.mean:.1f}` (a JSON file under docs/results, `#`, a dotted key path,
  where a list entry is an index or `field=value`, as in `orderings.knn_top1.claim=m3i > classification.verdict`,
  then an optional format; `A - B` gives a difference; a format ending in `,` joins a list, in `,and` as 'a, b and
  c'; one starting with `abs` drops the signs). `python docs/results/claims.py`
  renders it into `docs/results/README.md`.
- `docs/results/claims.json` is the table of claims made elsewhere (the project README, the lessons, docs/): each
  entry names a file and a sentence with references, which must appear in that file as rendered.

tests/test_claims.py renders both and fails on any difference. Usage: python docs/results/claims.py [OUT_DIR]"""
import json, re, sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REF = re.compile(r'\{([\w./+-]+\.json#[^{}:]+?)(?: - ([\w./+-]+\.json#[^{}:]+?))?(?::([^{}]*))?\}')

def value(ref, root=HERE):
    """The value at `file.json#key.path` (keys of dicts; in a list, an index or `field=value` (several joined by `&`), the
    one entry whose fields have those values, so a reference survives entries added before it; a key may itself hold
    dots: the longest match wins)."""
    file, path = ref.split('#')
    v, parts = json.loads((root / file).read_text()), path.split('.')
    while parts:
        if isinstance(v, list) and '=' in parts[0]:
            want = dict(cond.split('=', 1) for cond in parts[0].split('&'))
            hits = [e for e in v if isinstance(e, dict) and all(str(e.get(f)) == x for f, x in want.items())]
            if len(hits) != 1: raise KeyError(f"{ref}: {len(hits)} entries have {' and '.join(f'{f} = {x!r}' for f, x in want.items())}, not one")
            v, parts = hits[0], parts[1:]; continue
        if isinstance(v, list): v, parts = v[int(parts[0])], parts[1:]; continue
        n = next(n for n in range(len(parts), 0, -1) if '.'.join(parts[:n]) in v or n == 1)
        v, parts = v['.'.join(parts[:n])], parts[n:]
    return v

def render(text, root=HERE):
    "`text` with every reference replaced by its value, formatted."
    def one(m):
        v = value(m.group(1), root)
        if m.group(2): v = v - value(m.group(2), root)
        fmt = m.group(3) or ''
        if fmt.startswith('abs'): fmt, v = fmt[3:], [abs(x) for x in v] if isinstance(v, list) else abs(v)
        if fmt.endswith(',and'):                                  # a list as 'a, b and c'
            xs = [format(x, fmt[:-4]) for x in v]; return ', '.join(xs[:-1]) + ' and ' + xs[-1]
        if fmt.endswith(','): return ', '.join('-' if x is None else format(x, fmt[:-1]) for x in v)   # '-': a seed left unpaired
        return format(v, fmt) if fmt else str(v)
    return REF.sub(one, text)

def flat(text): return ' '.join(text.split())

def prose(path):
    "A file's text as a reader sees it: a notebook's markdown and code sources, any other file as it is."
    if path.suffix != '.ipynb': return path.read_text()
    return '\n'.join(''.join(c['source']) for c in json.loads(path.read_text())['cells'])

def check_claims(root=HERE, repo=HERE.parents[1]):
    "The claims of claims.json whose rendered sentence is not in its file: [(file, sentence)]."
    claims = json.loads((root / 'claims.json').read_text())['claims']
    return [(c['file'], render(c['says'], root)) for c in claims if flat(render(c['says'], root)) not in flat(prose(repo / c['file']))]

if __name__ == '__main__':
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else HERE
    (out / 'README.md').write_text(render((HERE / 'README.tmpl.md').read_text()))
    bad = check_claims()
    for f, s in bad: print(f'{f}: does not say "{s}"')
    sys.exit(1 if bad else 0)
