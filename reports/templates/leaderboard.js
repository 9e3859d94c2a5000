(function () {
  "use strict";
  var table = document.getElementById("leaderboard");
  if (!table) { return; }
  var body = table.tBodies[0];
  var heads = table.tHead.rows[0].cells;
  var select = document.getElementById("sector-filter");
  var search = document.getElementById("search");
  var channelSelect = document.getElementById("channel-filter");  // only when e-mail was used
  var island = document.getElementById("report-data");
  function num(v) { var n = parseFloat(v); return isNaN(n) ? Infinity : n; }
  function heading(i, asc) {
    for (var j = 0; j < heads.length; j++) { heads[j].removeAttribute("aria-sort"); }
    heads[i].setAttribute("aria-sort", asc ? "ascending" : "descending");
  }
  function onSort(fn) {
    for (var i = 0; i < heads.length; i++) {
      (function (k) {
        heads[k].tabIndex = 0;
        heads[k].addEventListener("click", function () { fn(k); });
        heads[k].addEventListener("keydown", function (e) { if (e.key === "Enter") { fn(k); } });
      })(i);
    }
  }
  function onFilter(fn) {
    if (select) { select.addEventListener("change", fn); }
    if (search) { search.addEventListener("input", fn); }
    if (channelSelect) { channelSelect.addEventListener("change", fn); }
  }

  if (!island) {
    // Every row is in the page: sort and filter the rows themselves.
    var key = function (row, i, numeric) {
      var v = row.cells[i].getAttribute("data-v") || "";
      return numeric ? num(v) : v.toLowerCase();
    };
    onSort(function (i) {
      var numeric = heads[i].getAttribute("data-type") === "num";
      var asc = heads[i].getAttribute("aria-sort") !== "ascending";
      heading(i, asc);
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = key(a, i, numeric), y = key(b, i, numeric);
        var c = x < y ? -1 : x > y ? 1 : 0;
        return asc ? c : -c;
      });
      var frag = document.createDocumentFragment();
      rows.forEach(function (r) { frag.appendChild(r); });
      body.appendChild(frag);
    });
    onFilter(function () {
      var sector = select ? select.value : "";
      var channel = channelSelect ? channelSelect.value : "";
      var q = search ? search.value.toLowerCase() : "";
      [body, document.querySelector("#not-reachable-table tbody")].forEach(function (tb) {
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
    });
    return;
  }

  // Research scale: the first page of rows is HTML, every row is in the data island.
  // Rows are built with textContent (never markup) a page at a time.
  var data = JSON.parse(island.textContent);
  var t = data.t;
  function el(tag, text, attrs) {
    var e = document.createElement(tag);
    if (text !== null) { e.textContent = text; }
    for (var k in attrs) { if (attrs[k] !== null) { e.setAttribute(k, attrs[k]); } }
    return e;
  }
  function link(r, href) {
    var a = el("a", r, { dir: "auto", "class": "company" });
    if (/^companies\//.test(href)) { a.setAttribute("href", href); }
    return a;
  }
  function Board(tableEl, pagerEl, rows, makeRow, text, sector, channel) {
    this.body = tableEl.tBodies[0];
    this.pager = pagerEl;
    this.all = rows;
    this.view = rows.slice();
    this.page = 0;
    this.makeRow = makeRow;
    this.text = text;
    this.sector = sector;
    this.channel = channel;
  }
  Board.prototype.filter = function (sector, q, channel) {
    var self = this;
    this.view = this.all.filter(function (r) {
      return (!sector || self.sector(r) === sector) &&
        (!channel || self.channel(r) === channel) &&
        (!q || self.text(r).toLowerCase().indexOf(q) !== -1);
    });
    this.page = 0;
  };
  Board.prototype.render = function () {
    var size = data.page, n = this.view.length;
    var pages = Math.max(1, Math.ceil(n / size));
    if (this.page >= pages) { this.page = pages - 1; }
    var first = this.page * size, last = Math.min(n, first + size);
    var frag = document.createDocumentFragment();
    for (var i = first; i < last; i++) { frag.appendChild(this.makeRow(this.view[i])); }
    this.body.textContent = "";
    this.body.appendChild(frag);
    if (!this.pager) { return; }
    var self = this;
    this.pager.textContent = "";
    var prev = el("button", t.prev, { type: "button", "class": "prev" });
    var next = el("button", t.next, { type: "button", "class": "next" });
    prev.disabled = this.page === 0;
    next.disabled = this.page >= pages - 1;
    prev.addEventListener("click", function () { self.page--; self.render(); });
    next.addEventListener("click", function () { self.page++; self.render(); });
    var label = t.rows.replace("{first}", n ? first + 1 : 0).replace("{last}", last)
      .replace("{total}", n);
    this.pager.appendChild(prev);
    this.pager.appendChild(el("span", label, { "class": "rows" }));
    this.pager.appendChild(next);
  };

  // leaderboard rows: [rank, company, href, sector, status, business, business_s, wall,
  // wall_s, first, first_s, tier, promise, change, channel]
  var L = { rank: 0, company: 1, href: 2, sector: 3, status: 4, business: 5, businessS: 6,
    wall: 7, wallS: 8, first: 9, firstS: 10, tier: 11, promise: 12, change: 13, channel: 14 };
  var hasChannel = !!channelSelect;  // the channel column is shown with its filter
  var hasChange = heads.length > (hasChannel ? 10 : 9);
  function leaderRow(r) {
    var tier = data.tiers[r[L.tier]];
    var tr = el("tr", null, { "data-sector": r[L.sector], "data-channel": r[L.channel],
      "data-status": r[L.status], "class": "tier-" + tier[2] });
    tr.appendChild(el("td", r[L.rank], { "data-v": r[L.rank], "class": "num" }));
    var td = el("td", null, { "data-v": r[L.company] });
    td.appendChild(link(r[L.company], r[L.href]));
    tr.appendChild(td);
    tr.appendChild(el("td", r[L.sector], { "data-v": r[L.sector], dir: "auto" }));
    tr.appendChild(el("td", data.status[r[L.status]], { "data-v": r[L.status] }));
    if (hasChannel) {
      tr.appendChild(el("td", data.channels[r[L.channel]] || r[L.channel],
        { "data-v": r[L.channel], "class": "channel" }));
    }
    [[L.business, L.businessS], [L.wall, L.wallS], [L.first, L.firstS]].forEach(function (p) {
      tr.appendChild(el("td", r[p[0]], { "data-v": r[p[1]] === null ? "" : String(r[p[1]]),
        "class": "num" }));
    });
    var tierTd = el("td", null, { "data-v": tier[1] });
    tierTd.appendChild(el("span", tier[0], { "class": "tier" }));
    tr.appendChild(tierTd);
    tr.appendChild(el("td", r[L.promise], { "data-v": r[L.promise] }));
    if (hasChange) {
      tr.appendChild(el("td", r[L.change], { "data-v": r[L.change], "class": "num" }));
    }
    return tr;
  }
  function leaderText(r) {
    return [r[L.rank], r[L.company], r[L.sector], data.status[r[L.status]], r[L.business],
      r[L.wall], r[L.first], data.tiers[r[L.tier]][0], r[L.promise], r[L.change]].join(" ");
  }
  var sortKeys = [
    function (r) { return num(r[L.rank]); },
    function (r) { return r[L.company].toLowerCase(); },
    function (r) { return r[L.sector].toLowerCase(); },
    function (r) { return r[L.status]; }
  ].concat(hasChannel ? [function (r) { return r[L.channel]; }] : [], [
    function (r) { return r[L.businessS] === null ? Infinity : r[L.businessS]; },
    function (r) { return r[L.wallS] === null ? Infinity : r[L.wallS]; },
    function (r) { return r[L.firstS] === null ? Infinity : r[L.firstS]; },
    function (r) { return num(data.tiers[r[L.tier]][1]); },
    function (r) { return r[L.promise].toLowerCase(); },
    function (r) { return num(r[L.change]); }
  ]);
  // not reachable rows: [company, href, sector, status, reason, channel]
  function unreachableRow(r) {
    var tr = el("tr", null, { "data-sector": r[2], "data-channel": r[5] });
    var td = el("td", null, {});
    td.appendChild(link(r[0], r[1]));
    tr.appendChild(td);
    tr.appendChild(el("td", r[2], { dir: "auto" }));
    tr.appendChild(el("td", data.status[r[3]], {}));
    if (hasChannel) {
      tr.appendChild(el("td", data.channels[r[5]] || r[5], { "class": "channel" }));
    }
    tr.appendChild(el("td", r[4], { dir: "auto" }));
    return tr;
  }
  var boards = [new Board(table, document.getElementById("leaderboard-pager"), data.rows,
    leaderRow, leaderText, function (r) { return r[L.sector]; },
    function (r) { return r[L.channel]; })];
  var nrTable = document.getElementById("not-reachable-table");
  if (nrTable && data.unreachable.length) {
    boards.push(new Board(nrTable, document.getElementById("not-reachable-pager"),
      data.unreachable, unreachableRow,
      function (r) { return [r[0], r[2], data.status[r[3]], r[4]].join(" "); },
      function (r) { return r[2]; }, function (r) { return r[5]; }));
  }
  boards.forEach(function (b) { b.render(); });
  var lead = boards[0];
  onSort(function (i) {
    var asc = heads[i].getAttribute("aria-sort") !== "ascending";
    heading(i, asc);
    var k = sortKeys[i];
    var order = lead.all.map(function (r, n) { return [k(r), n]; });
    order.sort(function (a, b) {
      var c = a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : a[1] - b[1];
      return asc ? c : (a[0] === b[0] ? c : -c);
    });
    lead.all = order.map(function (p) { return data.rows[p[1]]; });
    lead.filter(select ? select.value : "", search ? search.value.toLowerCase() : "",
      channelSelect ? channelSelect.value : "");
    lead.render();
  });
  onFilter(function () {
    var sector = select ? select.value : "", q = search ? search.value.toLowerCase() : "";
    var channel = channelSelect ? channelSelect.value : "";
    boards.forEach(function (b) { b.filter(sector, q, channel); b.render(); });
  });
})();
