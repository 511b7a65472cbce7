"""The inline stylesheet and script of the HTML report (no external assets: it must work offline)."""

CSS = """
:root { --critical: #8b0000; --high: #d62728; --medium: #e6a100; --low: #1f77b4; --ok: #2ca02c; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem; color: #1d1d1f; }
h1 { font-size: 1.6rem; margin-bottom: .2rem; } h2 { margin-top: 2.2rem; border-bottom: 1px solid #ddd; }
.meta { color: #666; margin-top: 0; }
table { border-collapse: collapse; margin: .6rem 0 1.2rem; }
th, td { border: 1px solid #ddd; padding: .3rem .5rem; vertical-align: top; text-align: left; }
th { background: #f4f4f6; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
td.zero { color: var(--ok); }
table.findings th { cursor: pointer; user-select: none; white-space: nowrap; }
table.findings th[aria-sort=ascending]::after { content: " \\25B2"; }
table.findings th[aria-sort=descending]::after { content: " \\25BC"; }
table.findings td { font-size: 13px; }
code { font-size: 12px; background: #f4f4f6; padding: 0 .2rem; }
.sev { font-weight: 600; }
.sev-CRITICAL { color: var(--critical); } .sev-HIGH { color: var(--high); }
.sev-MEDIUM { color: var(--medium); } .sev-LOW { color: var(--low); }
.controls { display: flex; gap: .8rem; align-items: center; flex-wrap: wrap; margin: 1rem 0; }
.controls input { min-width: 18rem; padding: .3rem; }
.fix { color: #555; }
.example { background: #eef; border-radius: 3px; padding: 0 .3rem; font-size: 12px; }
tr.finding[hidden] { display: none; }
svg text { font: 12px system-ui, sans-serif; }
"""

JS = r"""
(function () {
  var rank = {CRITICAL: 4, HIGH: 3, MEDIUM: 2, LOW: 1};
  var text = document.getElementById('filter');
  var sev = document.getElementById('severity-filter');
  var rec = document.getElementById('recommendation-filter');
  var counter = document.getElementById('visible-count');
  function rows() { return Array.prototype.slice.call(document.querySelectorAll('tr.finding')); }
  function apply() {
    var needle = text.value.trim().toLowerCase(), s = sev.value, r = rec.value, shown = 0;
    rows().forEach(function (row) {
      var ok = (!needle || row.textContent.toLowerCase().indexOf(needle) !== -1)
        && (!s || row.dataset.severity === s) && (!r || row.dataset.recommendation === r);
      row.hidden = !ok;
      if (ok) { shown += 1; }
    });
    counter.textContent = shown + ' of ' + rows().length + ' findings shown';
    document.body.dataset.visibleRows = String(shown);
    return shown;
  }
  function sortBy(th) {
    var table = th.closest('table'), body = table.tBodies[0], col = th.cellIndex;
    var dir = th.getAttribute('aria-sort') === 'ascending' ? 'descending' : 'ascending';
    Array.prototype.forEach.call(table.querySelectorAll('th'), function (h) { h.removeAttribute('aria-sort'); });
    th.setAttribute('aria-sort', dir);
    var list = Array.prototype.slice.call(body.rows);
    function key(row) {
      var cell = row.cells[col], v = cell.dataset.sort !== undefined ? cell.dataset.sort : cell.textContent;
      return th.dataset.type === 'number' ? Number(v) : v.toLowerCase();
    }
    list.sort(function (a, b) {
      var x = key(a), y = key(b), c = x < y ? -1 : x > y ? 1 : 0;
      return dir === 'ascending' ? c : -c;
    });
    list.forEach(function (row) { body.appendChild(row); });
  }
  Array.prototype.forEach.call(document.querySelectorAll('table.findings th'), function (th) {
    th.addEventListener('click', function () { sortBy(th); });
  });
  [text, sev, rec].forEach(function (el) { el.addEventListener('input', apply); el.addEventListener('change', apply); });
  function visible(el) {
    if (!el) { return false; }
    var box = el.getBoundingClientRect(), style = window.getComputedStyle(el);
    return box.width > 0 && box.height > 0 && style.visibility !== 'hidden' && style.display !== 'none';
  }
  function fromHash() {
    var params = {};
    window.location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
      if (!pair) { return; }
      var i = pair.indexOf('=');
      params[decodeURIComponent(i < 0 ? pair : pair.slice(0, i))] = i < 0 ? '' : decodeURIComponent(pair.slice(i + 1));
    });
    if (params.filter !== undefined) { text.value = params.filter; }
    if (params.severity !== undefined) { sev.value = params.severity; }
    if (params.recommendation !== undefined) { rec.value = params.recommendation; }
    if (params.sort !== undefined) {
      var th = document.querySelector('table.findings th[data-key="' + params.sort + '"]');
      if (th) { sortBy(th); }
    }
    apply();
    // A self-test hook for headless browsers: what a reader would see, written where --dump-dom shows it.
    document.body.dataset.summaryVisible = String(visible(document.getElementById('summary')));
    document.body.dataset.chartVisible = String(visible(document.getElementById('chart')));
    var firstTable = document.querySelector('table.findings');
    document.body.dataset.tableVisible = String(firstTable ? visible(firstTable) : false);
    document.body.dataset.ready = 'true';
  }
  window.addEventListener('hashchange', fromHash);
  fromHash();
})();
"""
