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
  // Whether every chart label ends left of the bars: what a reader sees as a label cut or overlapped.
  function labelsFit() {
    var chart = document.getElementById('chart');
    if (!chart || !chart.getBBox) { return false; }
    var bars = chart.querySelectorAll('rect.bar'), left = Infinity;
    Array.prototype.forEach.call(bars, function (bar) { left = Math.min(left, bar.x.baseVal.value); });
    if (left === Infinity) { left = Number(chart.getAttribute('width')); }
    return Array.prototype.every.call(chart.querySelectorAll('text.label'), function (label) {
      var box = label.getBBox();
      return box.width > 0 && box.x + box.width <= left;
    });
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
    document.body.dataset.chartLabelsFit = String(labelsFit());
    document.body.dataset.failedBannerVisible = String(visible(document.getElementById('run-failed')));
    document.body.dataset.ready = 'true';
  }
  window.addEventListener('hashchange', fromHash);
  fromHash();
})();
