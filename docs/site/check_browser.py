"""Render every page of the built course site in headless Chromium (Debian's `chromium`) and check it:

- the math was typeset: MathJax produced `mjx-container` elements wherever the page holds TeX, and no raw `$` is left
  in the visible text (code, pre and script excepted);
- no request leaves the machine: the browser runs with every host name unresolvable, and its network log may hold only
  `file://` and `data:` URLs;
- a few screenshots are saved (committed under docs/site/screenshots/).

    .venv/bin/python docs/site/build.py && .venv/bin/python docs/site/check_browser.py [--site _site] [--shots docs/site/screenshots]

Prints one line per page and writes docs/site/check_browser.json; exits 1 if a page fails."""
import argparse, json, os, re, shutil, subprocess, sys, tempfile
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ['index.html', '00_mutual_information.html', '07_methods.html', '13a_pipelines.html', 'docs/results/shapes/pipelines/pipelines.html']

class Text(HTMLParser):
    "Visible text outside code, pre, script, style and MathJax output; and the number of typeset formulas."
    SKIP = {'script', 'style', 'code', 'pre', 'textarea', 'mjx-container', 'svg'}
    def __init__(self):
        super().__init__(); self.depth, self.text, self.math = 0, [], 0
    def handle_starttag(self, tag, attrs):
        if tag == 'mjx-container': self.math += 1
        if tag in self.SKIP: self.depth += 1
    def handle_endtag(self, tag):
        if tag in self.SKIP and self.depth: self.depth -= 1
    def handle_data(self, data):
        if not self.depth: self.text.append(data)

def chromium():
    for name in ('chromium', 'chromium-browser', 'google-chrome'):
        if shutil.which(name): return shutil.which(name)
    sys.exit('headless Chromium is needed: apt-get install chromium')

def run(browser, url, extra, netlog):
    quiet = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-domain-reliability',
             '--disable-client-side-phishing-detection', '--no-pings', '--disable-default-apps', '--no-default-browser-check',
             '--disable-features=Translate,OptimizationHints,MediaRouter,SpellCheck,AutofillServerCommunication']   # the browser's own traffic
    cmd = [browser, '--headless=new', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-extensions', *quiet,
           '--host-resolver-rules=MAP * ~NOTFOUND', f'--log-net-log={netlog}', '--virtual-time-budget=20000', *extra, url]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)

def page_requests(netlog):
    """Network requests the page made (Chromium's net log): every URL request whose initiator is the page. The browser's
    own service traffic (update and time checks, which `--host-resolver-rules` stops anyway) has no page origin
    ("not an origin") and is not the page's."""
    text = Path(netlog).read_text() if Path(netlog).exists() else ''
    try: log = json.loads(text)
    except ValueError: log = json.loads(text.rstrip().rstrip(',') + ']}') if text else {'events': [], 'constants': {'logEventTypes': {}}}
    start = log['constants']['logEventTypes'].get('URL_REQUEST_START_JOB')
    return sorted({p['url'] for e in log['events'] if e.get('type') == start and (p := e.get('params') or {}).get('url')
                   and p.get('initiator') != 'not an origin'})

REMOTE = re.compile(r"""<(?:script|link|img|iframe|source|video|audio)\b[^>]*(?:src|href)=["'](?:https?:)?//""", re.I)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--site', default=str(ROOT / '_site')); ap.add_argument('--shots', default=str(ROOT / 'docs' / 'site' / 'screenshots'))
    a = ap.parse_args()
    site, browser = Path(a.site), chromium()
    pages = json.loads((site / 'pages.json').read_text())
    Path(a.shots).mkdir(parents=True, exist_ok=True)
    results, failed = [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for p in pages:
            f = site / p['page']
            src = f.read_text()
            netlog = Path(tmp) / 'net.json'
            r = run(browser, f.as_uri(), ['--dump-dom', f'--user-data-dir={tmp}/profile'], netlog)
            t = Text(); t.feed(r.stdout)
            raw = ''.join(t.text)
            leaked = [u for u in page_requests(netlog) if not u.startswith(('file:', 'data:', 'blob:', 'about:'))]
            leaked += [f'remote reference: {m.group(0)[:80]}' for m in REMOTE.finditer(r.stdout)]
            ok = r.returncode == 0 and '$' not in raw and not leaked and (t.math > 0 or '$' not in src)
            results.append(dict(page=p['page'], typeset=t.math, raw_dollars=raw.count('$'), external_requests=leaked, ok=ok))
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {p['page']:48s} formulas {t.math:4d}  raw $ {raw.count('$'):3d}  external requests {len(leaked)}", flush=True)
            if p['page'] in SHOTS:
                shot = Path(a.shots) / (p['page'].replace('/', '_').replace('.html', '.png'))
                run(browser, f.as_uri(), [f'--screenshot={shot}', '--window-size=1280,1600', '--hide-scrollbars'], Path(tmp) / 'shot.json')
    (ROOT / 'docs' / 'site' / 'check_browser.json').write_text(json.dumps(dict(pages=results, failed=failed), indent=1) + '\n')
    print(f'{len(results) - failed} of {len(results)} pages pass')
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
