// The course site's search, offline: search.html?q=WORDS looks the words up in window.SITE_SEARCH_INDEX (search-index.js,
// written by docs/site/build.py: each page's title, headings and visible text) and lists the pages that hold every word,
// best first (a word in the title counts most, then in a heading, then how often it is in the text).
(function () {
  var index = window.SITE_SEARCH_INDEX || [];
  var box = document.getElementById('site-search-results');
  var input = document.getElementById('site-q');
  var query = (new URLSearchParams(window.location.search).get('q') || '').trim();
  if (input) input.value = query;
  if (!box || !query) return;
  var words = query.toLowerCase().split(/\s+/).filter(Boolean);

  function count(text, word) {
    var n = 0, at = text.indexOf(word);
    while (at !== -1 && n < 50) { n += 1; at = text.indexOf(word, at + word.length); }
    return n;
  }
  function escape(s) {
    return s.replace(/[&<>"]/g, function (c) { return {'&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;'}[c]; });
  }
  function snippet(text, word) {
    var at = text.toLowerCase().indexOf(word);
    if (at === -1) return text.slice(0, 160);
    var start = Math.max(0, at - 70);
    return (start ? '... ' : '') + text.slice(start, at + 90) + ' ...';
  }

  var hits = [];
  index.forEach(function (page) {
    var title = page.title.toLowerCase(), text = page.text.toLowerCase(), score = 0, anchor = '';
    for (var i = 0; i < words.length; i++) {
      var w = words[i], inTitle = count(title, w), inText = count(text, w), inHeading = 0;
      page.headings.forEach(function (h) {
        if (h.text.toLowerCase().indexOf(w) !== -1) { inHeading += 1; if (!anchor) anchor = '#' + h.id; }
      });
      if (!inTitle && !inText && !inHeading) return;          // every word must be on the page
      score += 10 * inTitle + 5 * inHeading + inText;
    }
    hits.push({page: page, score: score, anchor: anchor});
  });
  hits.sort(function (a, b) { return b.score - a.score; });

  if (!hits.length) { box.innerHTML = '<p>No page holds ' + escape(query) + '.</p>'; return; }
  box.innerHTML = '<p>' + hits.length + ' pages hold ' + escape(query) + ':</p><ol>' + hits.map(function (h) {
    return '<li><a class="site-hit" href="' + escape(h.page.page + h.anchor) + '">' + escape(h.page.title) + '</a>' +
           (h.page.group ? ' <small>(' + escape(h.page.group) + ')</small>' : '') +
           '<div class="site-snippet mathjax_ignore">' + escape(snippet(h.page.text, words[0])) + '</div></li>';
  }).join('') + '</ol>';
})();
