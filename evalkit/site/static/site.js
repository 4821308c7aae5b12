/* evalkit results site: charts, sortable/filterable tables, section switches and the item browser.
   Plain JavaScript, no network: data comes from <script type="application/json"> blocks and local
   item files. Everything from the database is inserted with textContent, never as HTML. */
(function () {
  "use strict";

  function readJSON(id) {
    var el = document.getElementById(id);
    return el ? JSON.parse(el.textContent) : null;
  }

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* ---- charts ------------------------------------------------------------------------------ */
  function drawCharts() {
    if (!window.Plotly) return;
    document.querySelectorAll(".chart[data-figure]").forEach(function (div) {
      var fig = readJSON(div.getAttribute("data-figure"));
      if (!fig) return;
      window.Plotly.newPlot(div, fig.data, fig.layout, {
        responsive: true, displaylogo: false, modeBarButtonsToRemove: ["select2d", "lasso2d"],
        toImageButtonOptions: { format: "png", scale: 2 }
      });
    });
  }

  function resizeCharts(root) {
    if (!window.Plotly) return;
    root.querySelectorAll(".js-plotly-plot").forEach(function (div) { window.Plotly.Plots.resize(div); });
  }

  /* ---- section switches (one suite at a time) ---------------------------------------------- */
  function initSwitches() {
    document.querySelectorAll("select.section-switch").forEach(function (select) {
      var box = document.getElementById(select.getAttribute("data-target"));
      function show() {
        box.querySelectorAll(":scope > .switchable").forEach(function (sec) {
          sec.hidden = sec.getAttribute("data-key") !== select.value;
          if (!sec.hidden) resizeCharts(sec);
        });
      }
      select.addEventListener("change", show);
      show();
    });
  }

  /* ---- sortable tables ----------------------------------------------------------------------- */
  function cellKey(row, index) {
    var cell = row.children[index];
    if (!cell) return { empty: true };
    var raw = cell.getAttribute("data-sort");
    if (raw === null) raw = cell.textContent.trim();
    if (raw === "" || raw === "–") return { empty: true };
    var n = Number(raw);
    return isNaN(n) ? { text: raw.toLowerCase() } : { num: n };
  }

  function compare(a, b) {
    if (a.num !== undefined && b.num !== undefined) return a.num - b.num;
    var x = a.num !== undefined ? String(a.num) : a.text, y = b.num !== undefined ? String(b.num) : b.text;
    return x < y ? -1 : x > y ? 1 : 0;
  }

  function sortTable(table, index, descending) {
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var a = cellKey(r1, index), b = cellKey(r2, index);
      if (a.empty || b.empty) return (a.empty ? 1 : 0) - (b.empty ? 1 : 0); // blanks last either way
      var c = compare(a, b);
      return descending ? -c : c;
    });
    rows.forEach(function (r) { body.appendChild(r); });
    table.querySelectorAll("thead th").forEach(function (th, i) {
      if (i === index) th.setAttribute("aria-sort", descending ? "descending" : "ascending");
      else th.removeAttribute("aria-sort");
    });
  }

  function initSortable() {
    document.querySelectorAll("table.sortable").forEach(function (table) {
      table.querySelectorAll("thead th").forEach(function (th, index) {
        var button = th.querySelector("button");
        if (!button) return;
        button.addEventListener("click", function () {
          var current = th.getAttribute("aria-sort");
          var first = th.getAttribute("data-first") || "descending";
          var descending = current ? current === "ascending" : first === "descending";
          sortTable(table, index, descending);
        });
      });
    });
  }

  /* ---- leaderboard filter -------------------------------------------------------------------- */
  function initFilter() {
    var table = document.getElementById("leaderboard");
    if (!table) return;
    var text = document.getElementById("lb-filter"), quant = document.getElementById("lb-quant");
    var count = document.getElementById("lb-count");
    function apply() {
      var q = text.value.trim().toLowerCase(), qq = quant.value, shown = 0;
      Array.prototype.forEach.call(table.tBodies[0].rows, function (row) {
        var ok = (!q || row.getAttribute("data-search").indexOf(q) >= 0) && (!qq || row.getAttribute("data-quant") === qq);
        row.hidden = !ok;
        if (ok) shown += 1;
      });
      count.textContent = shown + " of " + table.tBodies[0].rows.length + " models";
    }
    text.addEventListener("input", apply);
    quant.addEventListener("change", apply);
    apply();
  }

  /* ---- item browser -------------------------------------------------------------------------- */
  var pending = {};
  window.EVALKIT_ITEMS = function (key, rows) {
    var cb = pending[key];
    delete pending[key];
    if (cb) cb(rows);
  };

  function loadPage(base, key, done, fail) {
    pending[key] = done;
    var s = document.createElement("script");
    s.src = base + key + ".js";
    s.onerror = function () { delete pending[key]; fail(); };
    s.onload = function () { s.remove(); };
    document.head.appendChild(s);
  }

  function fmtNum(x, digits) { return x === null || x === undefined ? "–" : Number(x).toFixed(digits); }

  function section(parent, title, text, pre) {
    if (text === null || text === undefined || text === "") return;
    parent.appendChild(el("h4", null, title));
    parent.appendChild(el(pre ? "pre" : "div", null, text));
  }

  function renderItem(cols, row) {
    var r = {};
    cols.forEach(function (c, i) { r[c] = row[i]; });
    var art = el("article", "item");
    var head = el("header");
    head.appendChild(el("code", null, r.item_id));
    head.appendChild(el("span", null, r.subset));
    if (r.error) head.appendChild(el("span", "err", "error"));
    else if (r.correct === true) head.appendChild(el("span", "ok", "✓ correct"));
    else if (r.correct === false) head.appendChild(el("span", "bad", "✗ wrong"));
    head.appendChild(el("span", null, "score " + fmtNum(r.score, 3)));
    head.appendChild(el("span", "note", fmtNum(r.latency_ms, 0) + " ms"));
    art.appendChild(head);
    var answer = el("div", "answer");
    answer.appendChild(el("span", null, "prediction: "));
    answer.appendChild(el("code", null, r.prediction === null ? "–" : r.prediction));
    answer.appendChild(el("span", null, " · gold: "));
    answer.appendChild(el("code", null, r.target === null ? "–" : r.target));
    art.appendChild(answer);
    if (r.prompt) section(art, "Prompt (the item's part, after the subset's shared few-shot examples)", r.prompt, true);
    else art.appendChild(el("div", "note", "prompt text not stored in the database (prompt hash " + r.prompt_hash + ")"));
    section(art, "Output", r.output, true);
    if (r.choices && r.probs) {
      art.appendChild(el("h4", null, "Choice probabilities"));
      var box = el("div", "probs");
      r.choices.forEach(function (c, i) {
        box.appendChild(el("span", c === r.target ? "gold" : "", c + " " + fmtNum(r.probs[i], 3)));
      });
      art.appendChild(box);
    }
    section(art, "Error", r.error, true);
    if (r.details && r.details !== "{}") {
      var det = el("details");
      det.appendChild(el("summary", null, "details"));
      det.appendChild(el("pre", null, r.details));
      art.appendChild(det);
    }
    return art;
  }

  function initBrowser() {
    var root = document.getElementById("item-browser");
    var manifest = readJSON("ib-manifest");
    if (!root || !manifest || !manifest.groups.length) return;
    var base = root.getAttribute("data-base"), per = manifest.per_page;
    var gSel = document.getElementById("ib-group"), sSel = document.getElementById("ib-subset");
    var prev = document.getElementById("ib-prev"), next = document.getElementById("ib-next");
    var pos = document.getElementById("ib-pos"), wrong = document.getElementById("ib-wrong");
    var list = document.getElementById("ib-list");
    var state = { g: 0, p: 0, rows: [] }, files = {};
    var correctCol = manifest.columns.indexOf("correct");

    manifest.groups.forEach(function (g, i) {
      var o = el("option", null, g.label + " — " + g.suite + " (" + g.n + " items)");
      o.value = String(i);
      gSel.appendChild(o);
    });

    function pages(g) { return Math.max(1, Math.ceil(g.n / per)); }

    function fillSubsets() {
      sSel.textContent = "";
      manifest.groups[state.g].subsets.forEach(function (s) {
        var o = el("option", null, s[0]);
        o.value = String(Math.floor(s[1] / per));
        sSel.appendChild(o);
      });
    }

    function render() {
      var g = manifest.groups[state.g];
      list.textContent = "";
      var shown = 0;
      state.rows.forEach(function (row) {
        if (wrong.checked && row[correctCol] !== false) return;
        list.appendChild(renderItem(manifest.columns, row));
        shown += 1;
      });
      var first = state.p * per + 1;
      pos.textContent = "page " + (state.p + 1) + " of " + pages(g) + " · items " + first + "–" +
        (first + state.rows.length - 1) + " of " + g.n + (wrong.checked ? " · " + shown + " wrong here" : "");
      prev.disabled = state.p === 0;
      next.disabled = state.p >= pages(g) - 1;
    }

    function open(groupIndex, page) {
      var g = manifest.groups[groupIndex], start = page * per, f = 0;
      while (f + 1 < g.files.length && g.files[f + 1] <= start) f += 1; // the file holding this page
      var key = manifest.run + "/" + g.id + "-f" + f, offset = start - g.files[f];
      state.g = groupIndex;
      state.p = page;
      function show(rows) {
        files[key] = rows;
        if (state.g !== groupIndex || state.p !== page) return; // the reader moved on meanwhile
        state.rows = rows.slice(offset, offset + per);
        render();
      }
      if (files[key]) { show(files[key]); return; }
      pos.textContent = "loading…";
      loadPage(base, key, show, function () { pos.textContent = "could not load this page of items"; });
    }

    gSel.addEventListener("change", function () { state.g = Number(gSel.value); fillSubsets(); open(state.g, 0); });
    sSel.addEventListener("change", function () { open(state.g, Number(sSel.value)); });
    prev.addEventListener("click", function () { open(state.g, state.p - 1); });
    next.addEventListener("click", function () { open(state.g, state.p + 1); });
    wrong.addEventListener("change", render);

    var start = 0, m = /^#(g\d+)$/.exec(window.location.hash);
    if (m) manifest.groups.forEach(function (g, i) { if (g.id === m[1]) start = i; });
    gSel.value = String(start);
    state.g = start;
    fillSubsets();
    open(start, 0);
  }

  document.addEventListener("DOMContentLoaded", function () {
    drawCharts();
    initSwitches();
    initSortable();
    initFilter();
    initBrowser();
  });
})();
