"""Render every page of the built course site in headless Chromium (Debian's `chromium`) and check it:

- the math was typeset: MathJax produced `mjx-container` elements wherever the page holds TeX, and no raw `$` is left
  in the visible text (code, pre and script excepted);
- no request leaves the machine: the browser runs with every host name unresolvable, and its network log may hold only
  `file://` and `data:` URLs;
- at phone width (390x844) the page does not scroll sideways: a copy of the page with a small script added (next to it,
  removed afterwards) writes `document.documentElement.scrollWidth` into the DOM once MathJax is done, and that width
  may not exceed the window's;
- the search works in the browser: `search.html?q=infonce` lists the lesson that derives InfoNCE;
- every internal link of the site resolves (`build.broken_links`: files exist, anchors are ids of their page);
- a few screenshots are saved (committed under docs/site/screenshots/), two of them at phone width (`*-phone.png`).

    .venv/bin/python docs/site/build.py && .venv/bin/python docs/site/check_browser.py [--site _site] [--shots docs/site/screenshots]

Prints one line per page and writes docs/site/check_browser.json; exits 1 if a page fails."""
import argparse, json, os, re, shutil, subprocess, sys, tempfile
from html.parser import HTMLParser
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
def _site_build():
    "build.py next to this file, by its path (a module named `build` is also pypa's build package)."
    import importlib.util
    spec = importlib.util.spec_from_file_location('site_build', Path(__file__).with_name('build.py'))
    module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)
    return module
broken_links = _site_build().broken_links

SHOTS = ['index.html', '00_mutual_information.html', '07_methods.html', '13a_pipelines.html', 'docs/results/shapes/pipelines/pipelines.html']
PHONE_SHOTS = ['index.html', '02_views.html']
PHONE = (390, 844)
SEARCH = ('infonce', '00_mutual_information.html')     # a word, and a page the search must list for it

MEASURE = '''<script>
window.addEventListener('load', function () {
  var ready = (window.MathJax && MathJax.startup && MathJax.startup.promise) || Promise.resolve();
  ready.then(function () { setTimeout(function () {
    var doc = document.documentElement, wide = [];
    if (doc.scrollWidth > doc.clientWidth) document.querySelectorAll('body *').forEach(function (e) {   // the culprits
      if (wide.length < 3 && e.getBoundingClientRect().right > doc.clientWidth + 1) wide.push(e.tagName + '.' + e.className);
    });
    parent.postMessage({scroll: doc.scrollWidth, client: doc.clientWidth, wide: wide.join(' ')}, '*');
  }, 200); });
});
</script>'''
FRAME = '''<!DOCTYPE html><html><body style="margin:0"><iframe src="%s" width="%d" height="%d" style="border:0"></iframe><script>
window.addEventListener('message', function (m) {
  document.body.setAttribute('data-scroll-width', m.data.scroll); document.body.setAttribute('data-client-width', m.data.client);
  document.body.setAttribute('data-too-wide', m.data.wide);
});
</script></body></html>'''

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

def phone_width(browser, page, tmp):
    """The page's scroll width and window width at phone size, and the first elements wider than the window. Headless
    Chromium's window is at least 500 pixels wide, so the page is shown in a phone-sized <iframe> of a frame page: a copy
    of the page with MEASURE added (next to it, so that its links work; removed afterwards) posts its widths to the frame
    page, which writes them into its DOM."""
    probe, frame = page.with_name(page.stem + '.measure.html'), page.with_name(page.stem + '.phone.html')
    probe.write_text(page.read_text().replace('</body>', MEASURE + '</body>', 1))
    frame.write_text(FRAME % (probe.name, *PHONE))
    try: r = run(browser, frame.as_uri(), ['--dump-dom', '--window-size=800,900', '--hide-scrollbars', f'--user-data-dir={tmp}/profile'], Path(tmp) / 'phone.json')
    finally: probe.unlink(); frame.unlink()
    attr = lambda name: (re.search(rf'{name}="([^"]*)"', r.stdout) or [None, None])[1]
    scroll, client = attr('data-scroll-width'), attr('data-client-width')
    return (int(scroll) if scroll else None), (int(client) if client else None), attr('data-too-wide') or ''

def search_hits(browser, site, word, tmp):
    "The pages that search.html lists for a word, read from the DOM after the page's script ran."
    r = run(browser, (site / 'search.html').as_uri() + f'?q={word}', ['--dump-dom', f'--user-data-dir={tmp}/profile'],
            Path(tmp) / 'search.json')
    return [h.split('#')[0] for h in re.findall(r'<a class="site-hit" href="([^"]+)"', r.stdout)]

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
            scroll, client, wide = phone_width(browser, f, tmp)
            fits = scroll is not None and client == PHONE[0] and scroll <= client
            ok = r.returncode == 0 and '$' not in raw and not leaked and (t.math > 0 or '$' not in src) and fits
            results.append(dict(page=p['page'], typeset=t.math, raw_dollars=raw.count('$'), external_requests=leaked,
                                phone_scroll_width=scroll, phone_window_width=client, too_wide=wide, ok=ok))
            failed += not ok
            print(f"{'ok  ' if ok else 'FAIL'} {p['page']:48s} formulas {t.math:4d}  raw $ {raw.count('$'):3d}  external requests {len(leaked)}"
                  f"  phone width {scroll}/{client}{'  too wide: ' + wide if not fits else ''}", flush=True)
            name = p['page'].replace('/', '_').replace('.html', '')
            if p['page'] in SHOTS:
                run(browser, f.as_uri(), [f'--screenshot={Path(a.shots) / (name + ".png")}', '--window-size=1280,1600', '--hide-scrollbars'],
                    Path(tmp) / 'shot.json')
            if p['page'] in PHONE_SHOTS:
                run(browser, f.as_uri(), [f'--screenshot={Path(a.shots) / (name + "-phone.png")}', f'--window-size={PHONE[0]},{PHONE[1]}',
                                          '--hide-scrollbars'], Path(tmp) / 'shot.json')
        hits = search_hits(browser, site, SEARCH[0], tmp)
    search_ok = SEARCH[1] in hits
    print(f"{'ok  ' if search_ok else 'FAIL'} search.html?q={SEARCH[0]} lists {len(hits)} pages, {SEARCH[1]} {'among them' if search_ok else 'NOT among them'}")
    bad = broken_links(site)
    for page, url, why in bad: print(f'FAIL broken link in {page}: {url} ({why})')
    print(f"{'ok  ' if not bad else 'FAIL'} internal links: {len(bad)} broken")
    failed += (not search_ok) + bool(bad)
    report = dict(pages=results, search=dict(query=SEARCH[0], expected=SEARCH[1], hits=hits, ok=search_ok),
                  broken_links=[dict(page=p, url=u, why=w) for p, u, w in bad], failed=failed)
    (ROOT / 'docs' / 'site' / 'check_browser.json').write_text(json.dumps(report, indent=1) + '\n')
    print(f'{sum(r["ok"] for r in results)} of {len(results)} pages pass; search {"ok" if search_ok else "FAILS"}; {len(bad)} broken links')
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
