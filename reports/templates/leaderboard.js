(function () {
  "use strict";
  var table = document.getElementById("leaderboard");
  if (!table) { return; }
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  var select = document.getElementById("sector-filter");
  var search = document.getElementById("search");
  var channelSelect = document.getElementById("channel-filter");
  function key(row, i, numeric) {
    var v = row.cells[i].getAttribute("data-v") || "";
    if (numeric) { var n = parseFloat(v); return isNaN(n) ? Infinity : n; }
    return v.toLowerCase();
  }
  function sortBy(i) {
    var th = heads[i];
    var numeric = th.getAttribute("data-type") === "num";
    var asc = th.getAttribute("aria-sort") !== "ascending";
    for (var j = 0; j < heads.length; j++) { heads[j].removeAttribute("aria-sort"); }
    th.setAttribute("aria-sort", asc ? "ascending" : "descending");
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = key(a, i, numeric), y = key(b, i, numeric);
      var c = x < y ? -1 : x > y ? 1 : 0;
      return asc ? c : -c;
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r); });
    body.appendChild(frag);
  }
  for (var i = 0; i < heads.length; i++) {
    (function (k) {
      heads[k].tabIndex = 0;
      heads[k].addEventListener("click", function () { sortBy(k); });
      heads[k].addEventListener("keydown", function (e) { if (e.key === "Enter") { sortBy(k); } });
    })(i);
  }
  function applyFilter() {
    var sector = select ? select.value : "";
    var channel = channelSelect ? channelSelect.value : "";
    var q = search ? search.value.toLowerCase() : "";
    var tables = [body, document.querySelector("#not-reachable-table tbody")];
    tables.forEach(function (tb) {
      if (!tb) { return; }
      Array.prototype.forEach.call(tb.rows, function (r) {
        var s = r.getAttribute("data-sector");
        if (s === null) { return; }
        var okSector = !sector || s === sector;
        var okChannel = !channel || r.getAttribute("data-channel") === channel;
        var okText = !q || r.textContent.toLowerCase().indexOf(q) !== -1;
        r.hidden = !(okSector && okChannel && okText);
      });
    });
  }
  if (select) { select.addEventListener("change", applyFilter); }
  if (search) { search.addEventListener("input", applyFilter); }
  if (channelSelect) { channelSelect.addEventListener("change", applyFilter); }
})();
