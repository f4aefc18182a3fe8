// The picture of one run: time left to right, a lane per node, messages as arrows on a canvas,
// client operations as SVG bars (the few things a person clicks and a test checks).
// Wrapped in a function: a top-level `const top` would collide with `window.top`.
(function () {
  "use strict";
  var D = JSON.parse(document.getElementById("data").textContent);
  var M = D.messages, O = D.ops, F = D.focus;
  var body = document.body;
  var COLOURS = {
    "client": "#1f77b4", "agreement": "#2ca02c", "refusal": "#d62728",
    "repair": "#9467bd", "membership": "#7f7f7f"
  };
  var OUTCOME = { "ok": "#6DB6FE", "rejected": "#FEB5DA", "unknown": "#FFAA26" };
  var ARROWS_MAX = 1500;
  var LABEL = 60, LANE = 34, ROW = 18, BAND = 14;
  var END = Math.max(1, D.meta.ticks);
  var witness = {};
  (F ? F.ops : []).forEach(function (id) { witness[id] = true; });
  var opIndex = {};
  O.id.forEach(function (id, i) { opIndex[id] = i; });
  var classes = Object.keys(COLOURS);
  var bandKinds = [];
  D.bands.forEach(function (b) { if (bandKinds.indexOf(b.kind) < 0) { bandKinds.push(b.kind); } });
  var clients = [];
  O.client.forEach(function (c) { if (clients.indexOf(c) < 0) { clients.push(c); } });
  clients.sort(function (a, b) { return a - b; });

  // View state; all of it is mirrored in the URL hash.
  var S = {
    t0: 0, t1: END, sel: null, asof: null, key: "", kind: "", group: "client",
    nodes: D.nodes.slice(), classes: classes.slice(), outcomes: ["ok", "rejected", "unknown"]
  };

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) { e.textContent = text; }
    return e;
  }
  function svgEl(tag, attrs) {
    var e = document.createElementNS("http://www.w3.org/2000/svg", tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    return e;
  }

  // ---- the page's frame ----
  var app = document.getElementById("app");
  var head = el("header");
  var verdict = el("h1", { id: "verdict" });
  if (F) {
    verdict.className = "fail";
    verdict.textContent = "FAIL " + F.signature + (F.key ? "  (key " + F.key + ")" : "") +
      (F.ops.length ? "  operations " + F.ops.map(function (o) { return "#" + o; }).join(", ") : "");
  } else {
    verdict.className = "pass";
    verdict.textContent = "pass: no property violated (" + D.meta.checked.join(", ") + ")";
  }
  head.appendChild(verdict);
  head.appendChild(el("div", { "class": "meta" },
    D.meta.title + " · " + D.nodes.length + " nodes · " + D.meta.ticks + " ticks · " +
    D.meta.events + " events · " + O.id.length + " operations · trace hash " + D.meta.hash +
    (D.meta.violations.length > 1 ? " · " + D.meta.violations.length + " violations" : "")));
  var cmdRow = el("div", { "class": "cmd" });
  var cmd = el("code", { id: "command" }, D.meta.command);
  var copy = el("button", { id: "copy" }, "copy");
  copy.onclick = function () {
    var r = document.createRange(); r.selectNodeContents(cmd);
    var s = window.getSelection(); s.removeAllRanges(); s.addRange(r);
    try { document.execCommand("copy"); copy.textContent = "copied"; } catch (e) { copy.textContent = "select + copy"; }
  };
  cmdRow.appendChild(cmd); cmdRow.appendChild(copy);
  head.appendChild(cmdRow);
  app.appendChild(head);

  var tools = el("div", { "class": "tools" });
  function button(id, text, fn) { var b = el("button", { id: id }, text); b.onclick = fn; tools.appendChild(b); return b; }
  if (F) { button("jump", "jump to violation", function () { jumpToViolation(); }); }
  button("zoom-in", "zoom in", function () { zoomBy(0.5, (S.t0 + S.t1) / 2); });
  button("zoom-out", "zoom out", function () { zoomBy(2, (S.t0 + S.t1) / 2); });
  button("whole", "whole run", function () { setWindow(0, END); });
  var filters = el("span", { "class": "filters" });
  function checkGroup(name, values, label, chosen) {
    var g = el("span", { "class": "group", id: "filter-" + name });
    g.appendChild(el("b", {}, name + ": "));
    values.forEach(function (v) {
      var l = el("label", {});
      var c = el("input", { type: "checkbox", "data-filter": name, value: String(v) });
      c.checked = true;
      c.onchange = function () {
        var list = [];
        g.querySelectorAll("input").forEach(function (x) { if (x.checked) { list.push(name === "nodes" ? Number(x.value) : x.value); } });
        S[name] = list; update();
      };
      l.appendChild(c);
      var sw = el("span", { "class": "swatch" }, label(v));
      if (name === "classes") { sw.style.borderBottom = "3px solid " + COLOURS[v]; }
      if (name === "outcomes") { sw.style.background = OUTCOME[v]; }
      l.appendChild(sw);
      g.appendChild(l);
    });
    chosen.push(g);
    filters.appendChild(g);
  }
  var groups = [];
  checkGroup("nodes", D.nodes, function (n) { return "n" + n; }, groups);
  checkGroup("classes", classes, function (c) { return c; }, groups);
  checkGroup("outcomes", S.outcomes, function (o) { return o; }, groups);
  var keySel = el("select", { id: "filter-key" });
  keySel.appendChild(el("option", { value: "" }, "every key"));
  D.keys.forEach(function (k) { keySel.appendChild(el("option", { value: k }, k)); });
  keySel.onchange = function () { S.key = keySel.value; update(); };
  var kl = el("span", { "class": "group" }); kl.appendChild(el("b", {}, "key: ")); kl.appendChild(keySel);
  filters.appendChild(kl);
  var kindSel = el("select", { id: "filter-kind" });
  kindSel.appendChild(el("option", { value: "" }, "every message kind"));
  D.kinds.forEach(function (k) { kindSel.appendChild(el("option", { value: k }, k)); });
  kindSel.onchange = function () { S.kind = kindSel.value; update(); };
  var ml = el("span", { "class": "group" }); ml.appendChild(el("b", {}, "message: ")); ml.appendChild(kindSel);
  filters.appendChild(ml);
  var groupBtn = el("button", { id: "regroup" }, "rows per key");
  groupBtn.onclick = function () { S.group = S.group === "client" ? "key" : "client"; update(); };
  filters.appendChild(groupBtn);
  tools.appendChild(filters);
  app.appendChild(tools);

  var mini = el("canvas", { id: "minimap", height: "60" });
  app.appendChild(mini);
  var stage = el("div", { id: "stage" });
  var canvas = el("canvas", { id: "main" });
  var overlay = svgEl("svg", { id: "overlay" });
  stage.appendChild(canvas); stage.appendChild(overlay);
  var tip = el("div", { id: "tip" });
  stage.appendChild(tip);
  app.appendChild(stage);
  var note = el("div", { id: "note" });
  app.appendChild(note);
  var panels = el("div", { "class": "panels" });
  var wpanel = el("section", { id: "witness-panel" });
  wpanel.appendChild(el("h2", {}, F ? "The violation" : "The run"));
  if (F) { wpanel.appendChild(el("pre", { "class": "details" }, F.details)); }
  var tmpl = document.getElementById("witness-svg");
  if (tmpl) { wpanel.appendChild(document.importNode(tmpl.content, true)); }
  var selPanel = el("section", { id: "selection" });
  var asofPanel = el("section", { id: "asof" });
  panels.appendChild(wpanel); panels.appendChild(selPanel); panels.appendChild(asofPanel);
  app.appendChild(panels);

  // ---- derived facts ----
  // Per node: spans [from, to, state] with state notstarted | down | restarted.
  function lifeSpans(n) {
    var spans = [], started = null, inc = 0, downAt = null;
    D.lives.forEach(function (l) {
      if (l[1] !== n) { return; }
      if (l[2] >= 0) {
        if (started === null) { spans.push([0, l[0], "notstarted"]); }
        if (downAt !== null) { spans.push([downAt, l[0], "down"]); downAt = null; }
        started = l[0]; inc = l[2];
        if (inc > 0) { spans.push([l[0], END + 1, "restarted"]); }
      } else {
        downAt = l[0];
        spans.forEach(function (s) { if (s[2] === "restarted" && s[1] > l[0] && s[0] <= l[0]) { s[1] = l[0]; } });
      }
    });
    if (started === null) { spans.push([0, END + 1, "notstarted"]); }
    if (downAt !== null) { spans.push([downAt, END + 1, "down"]); }
    return spans;
  }
  var spans = {};
  D.nodes.forEach(function (n) { spans[n] = lifeSpans(n); });
  function laneOf(n) { return D.nodes.indexOf(n); }
  function keyName(i) { return i >= 0 ? D.keys[i] : ""; }
  function msgClass(i) { return D.classes[M.kind[i]]; }
  function msgText(i) {
    var d = M.delivered[i] >= 0 ? "delivered " + M.delivered[i] : "never delivered (" + lostReason(i) + ")";
    return "#" + M.id[i] + " " + D.kinds[M.kind[i]] + " n" + M.from[i] + " -> n" + M.to[i] +
      " sent " + M.sent[i] + ", " + d + (M.duplicate[i] >= 0 ? ", duplicate delivered " + M.duplicate[i] : "") +
      (M.op[i] >= 0 ? ", op" + M.op[i] : "") + (M.key[i] >= 0 ? ", key " + keyName(M.key[i]) : "");
  }
  function lostReason(i) { return D.fates[M.fate[i]]; }
  function opText(i) {
    var done = O.complete[i] >= 0 ? O.complete[i] : "never";
    return "op" + O.id[i] + " client " + O.client[i] + " at n" + O.node[i] + ": " + O.kind[i] + " " +
      D.keys[O.key[i]] + (O.value[i] !== null ? "=" + O.value[i] : "") + ", ticks " + O.invoke[i] + "-" + done +
      ", " + O.outcome[i] + " (" + O.reason[i] + ")" + (O.output[i] !== null ? ", saw " + O.output[i] : "");
  }
  function msgVisible(i) {
    if (S.classes.indexOf(msgClass(i)) < 0) { return false; }
    if (S.kind && D.kinds[M.kind[i]] !== S.kind) { return false; }
    if (S.nodes.indexOf(M.from[i]) < 0 || S.nodes.indexOf(M.to[i]) < 0) { return false; }
    if (S.key) {
      var k = M.key[i] >= 0 ? M.key[i] : (M.op[i] >= 0 && opIndex[M.op[i]] !== undefined ? O.key[opIndex[M.op[i]]] : -1);
      if (keyName(k) !== S.key) { return false; }
    }
    return true;
  }
  function opVisible(i) {
    return S.outcomes.indexOf(O.outcome[i]) >= 0 && (!S.key || D.keys[O.key[i]] === S.key);
  }
  function rowsOf() {
    if (S.group === "client") { return clients.map(function (c) { return { label: "c" + c, client: c }; }); }
    return D.keys.map(function (k, i) { return { label: k, key: i }; });
  }
  function rowOf(i, rows) {
    for (var r = 0; r < rows.length; r++) {
      if (S.group === "client" ? rows[r].client === O.client[i] : rows[r].key === O.key[i]) { return r; }
    }
    return 0;
  }

  // ---- geometry ----
  var W = 0, H = 0, plotW = 0, lanesTop = 0, rowsTop = 0;
  function layout(rows) {
    W = Math.max(600, stage.clientWidth || 1200);
    plotW = W - LABEL - 10;
    lanesTop = 18 + BAND * bandKinds.length + 4;
    rowsTop = lanesTop + LANE * D.nodes.length + 8;
    H = rowsTop + ROW * rows.length + 10;
    var dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(W * dpr); canvas.height = Math.round(H * dpr);
    canvas.style.width = W + "px"; canvas.style.height = H + "px";
    overlay.setAttribute("width", W); overlay.setAttribute("height", H);
    overlay.setAttribute("viewBox", "0 0 " + W + " " + H);
    stage.style.height = H + "px";
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    return ctx;
  }
  function X(t) { return LABEL + (t - S.t0) / (S.t1 - S.t0) * plotW; }
  function T(x) { return S.t0 + (x - LABEL) / plotW * (S.t1 - S.t0); }
  function laneY(n) { return lanesTop + LANE * (laneOf(n) + 0.5); }

  // ---- drawing ----
  var drawn = [];
  function draw() {
    var t0 = performance.now();
    var rows = rowsOf();
    var ctx = layout(rows);
    ctx.clearRect(0, 0, W, H);
    ctx.font = "11px sans-serif";
    // tick grid
    var span = S.t1 - S.t0, step = Math.max(1, Math.pow(10, Math.floor(Math.log10(span / 4))));
    if (span / step > 20) { step *= 5; } else if (span / step > 10) { step *= 2; }
    ctx.fillStyle = "#888"; ctx.strokeStyle = "#eee"; ctx.textAlign = "center";
    for (var t = Math.ceil(S.t0 / step) * step; t <= S.t1; t += step) {
      ctx.beginPath(); ctx.moveTo(X(t), 14); ctx.lineTo(X(t), H); ctx.stroke();
      ctx.fillText(String(t), X(t), 11);
    }
    // quiet phase
    if (D.meta.quiet_from < S.t1) {
      ctx.fillStyle = "rgba(46,160,67,0.06)";
      var qx = Math.max(LABEL, X(D.meta.quiet_from));
      ctx.fillRect(qx, lanesTop, W - qx, LANE * D.nodes.length);
    }
    // fault lane: one row per kind, hairlines across the lanes
    ctx.textAlign = "left";
    bandKinds.forEach(function (kind, r) {
      var y = 18 + BAND * r;
      ctx.fillStyle = "#555"; ctx.fillText(kind, 2, y + 10);
      D.bands.forEach(function (b) {
        if (b.kind !== kind || b.to < S.t0 || b.from > S.t1) { return; }
        var a = Math.max(LABEL, X(b.from)), z = Math.min(W, X(b.to));
        ctx.fillStyle = kind.indexOf("partition") >= 0 ? "#f4a261" : kind === "clog" ? "#e9c46a" : "#b392f0";
        ctx.fillRect(a, y + 2, Math.max(1, z - a), BAND - 4);
        ctx.strokeStyle = "rgba(0,0,0,0.15)";
        ctx.beginPath(); ctx.moveTo(a, y + BAND); ctx.lineTo(a, rowsTop - 8); ctx.stroke();
      });
    });
    // node lanes
    D.nodes.forEach(function (n) {
      var y = laneY(n), top = y - LANE / 2 + 2, h = LANE - 4;
      spans[n].forEach(function (s) {
        if (s[1] < S.t0 || s[0] > S.t1) { return; }
        var a = Math.max(LABEL, X(s[0])), z = Math.min(W, X(s[1]));
        ctx.fillStyle = s[2] === "down" ? "#c8c8c8" : s[2] === "notstarted" ? "#ececec" : "#fff3c4";
        ctx.fillRect(a, top, Math.max(1, z - a), h);
        if (s[2] === "down" && z - a > 30) { ctx.fillStyle = "#666"; ctx.fillText("down", a + 3, top + 10); }
        if (s[2] === "restarted" && z - a > 50) { ctx.fillStyle = "#a07d00"; ctx.fillText("restarted", a + 3, top + 10); }
      });
      D.bands.forEach(function (b) {
        if (b.to < S.t0 || b.from > S.t1) { return; }
        var side = b.nodes.indexOf(n) >= 0 ? 1 : b.other.indexOf(n) >= 0 ? 2 : 0;
        if (!side) { return; }
        var a = Math.max(LABEL, X(b.from)), z = Math.min(W, X(b.to));
        ctx.fillStyle = b.kind === "clock-skew" ? "#b392f0" : side === 1 ? "#f4a261" : "#5fa8d3";
        ctx.fillRect(a, top + h - 4, Math.max(1, z - a), 4);
      });
      ctx.fillStyle = S.nodes.indexOf(n) >= 0 ? "#222" : "#bbb";
      ctx.fillText("n" + n, 4, y + 4);
      ctx.strokeStyle = "#bbb"; ctx.beginPath(); ctx.moveTo(LABEL, y); ctx.lineTo(W, y); ctx.stroke();
      // gossip density: sends per tick as a small grey histogram under the lane's line
      var dens = D.density[laneOf(n)], px = plotW / (S.t1 - S.t0);
      for (var t = Math.max(0, Math.floor(S.t0)); t <= Math.min(dens.length - 1, S.t1); t++) {
        if (dens[t]) {
          ctx.fillStyle = "rgba(120,120,120," + Math.min(0.3, 0.06 * dens[t]) + ")";
          ctx.fillRect(X(t), y + 3, Math.max(1, px), 5);
        }
      }
    });
    // messages
    var visible = [];
    for (var i = 0; i < M.id.length; i++) {
      var done = M.delivered[i] >= 0 ? Math.max(M.delivered[i], M.duplicate[i]) : M.sent[i] + 1;
      if (done < S.t0 || M.sent[i] > S.t1 || !msgVisible(i)) { continue; }
      visible.push(i);
    }
    drawn = [];
    var focusOps = S.sel !== null ? {} : witness, anyFocus = S.sel !== null || (F && F.ops.length > 0);
    if (S.sel !== null) { focusOps[S.sel] = true; }
    if (visible.length > ARROWS_MAX) {
      note.textContent = visible.length + " messages in view: drawn as density per lane; zoom in (or filter) below " +
        ARROWS_MAX + " to see arrows.";
      var counts = {};
      visible.forEach(function (i) { var k = M.from[i] + ":" + M.sent[i]; counts[k] = (counts[k] || 0) + 1; });
      ctx.fillStyle = "rgba(31,119,180,0.45)";
      Object.keys(counts).forEach(function (k) {
        var p = k.split(":"), y = laneY(Number(p[0]));
        ctx.fillRect(X(Number(p[1])), y - 2 - Math.min(14, counts[k]), Math.max(1, plotW / (S.t1 - S.t0)), Math.min(14, counts[k]));
      });
      visible.forEach(function (i) { if (focusOps[M.op[i]]) { drawArrow(ctx, i, 1); } });
    } else {
      note.textContent = visible.length + " messages in view" + (D.meta.gossip_arrows ? "" : "; heartbeat gossip drawn as density (grey bars under each lane)") + ".";
      visible.forEach(function (i) { if (!focusOps[M.op[i]]) { drawArrow(ctx, i, anyFocus ? 0.18 : 0.8); } });
      visible.forEach(function (i) { if (focusOps[M.op[i]]) { drawArrow(ctx, i, 1); } });
    }
    body.dataset.arrows = String(drawn.length);
    body.dataset.drawMs = String(Math.round(performance.now() - t0));
    drawOverlay(rows);
    drawMini();
  }
  function drawArrow(ctx, i, alpha) {
    var x1 = X(M.sent[i]), y1 = laneY(M.from[i]), y2 = laneY(M.to[i]);
    ctx.globalAlpha = alpha;
    ctx.strokeStyle = COLOURS[msgClass(i)];
    ctx.lineWidth = alpha === 1 ? 1.6 : 1;
    if (M.delivered[i] >= 0) {
      var x2 = X(M.delivered[i]);
      line(ctx, x1, y1, x2, y2, false);
      drawn.push([i, x1, y1, x2, y2]);
      if (M.duplicate[i] >= 0) {
        var x3 = X(M.duplicate[i]);
        line(ctx, x1, y1, x3, y2, true);
        drawn.push([i, x1, y1, x3, y2]);
      }
    } else {
      // The stub ends near the receiver, so the cross says whose message was lost.
      var xe = X(M.sent[i] + 0.6), ye = y1 + (y2 - y1) * 0.85;
      ctx.setLineDash([3, 2]); ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(xe, ye); ctx.stroke(); ctx.setLineDash([]);
      ctx.fillStyle = "#d62728"; ctx.textAlign = "center"; ctx.fillText("\u2715", xe, ye + 4);
      if (S.t1 - S.t0 <= 40 && alpha === 1) { ctx.textAlign = "left"; ctx.fillText(lostReason(i), xe + 6, ye + 4); }
      drawn.push([i, x1, y1, xe, ye]);
    }
    ctx.globalAlpha = 1; ctx.lineWidth = 1;
  }
  function line(ctx, x1, y1, x2, y2, dashed) {
    if (dashed) { ctx.setLineDash([4, 3]); }
    ctx.beginPath(); ctx.moveTo(x1, y1); ctx.lineTo(x2, y2); ctx.stroke();
    ctx.setLineDash([]);
    var a = Math.atan2(y2 - y1, x2 - x1), s = 6;
    ctx.beginPath(); ctx.moveTo(x2, y2);
    ctx.lineTo(x2 - s * Math.cos(a - 0.4), y2 - s * Math.sin(a - 0.4));
    ctx.lineTo(x2 - s * Math.cos(a + 0.4), y2 - s * Math.sin(a + 0.4));
    ctx.closePath(); ctx.fillStyle = ctx.strokeStyle; ctx.fill();
  }
  // For each operation, where the next visible operation of its row starts on screen.
  function nextStarts(rows) {
    var byRow = {}, next = new Array(O.id.length).fill(W);
    for (var i = 0; i < O.id.length; i++) {
      if (!opVisible(i)) { continue; }
      var r = rowOf(i, rows);
      (byRow[r] = byRow[r] || []).push(i);
    }
    Object.keys(byRow).forEach(function (r) {
      var list = byRow[r].sort(function (a, b) { return O.invoke[a] - O.invoke[b] || a - b; });
      for (var k = 0; k + 1 < list.length; k++) { next[list[k]] = X(O.invoke[list[k + 1]]); }
    });
    return next;
  }
  function drawOverlay(rows) {
    while (overlay.firstChild) { overlay.removeChild(overlay.firstChild); }
    rows.forEach(function (r, k) {
      var t = svgEl("text", { x: 4, y: rowsTop + ROW * k + 13, "class": "rowlabel" });
      t.textContent = r.label; overlay.appendChild(t);
    });
    var anyWitness = F && F.ops.length > 0, next = nextStarts(rows), onTop = [];
    for (var i = 0; i < O.id.length; i++) {
      if (!opVisible(i)) { continue; }
      var end = O.complete[i] >= 0 ? O.complete[i] + 1 : END;
      var id = O.id[i], w = !!witness[id];
      // Every operation is in the DOM (a test or a link can find it); those outside the window hidden.
      var off = end < S.t0 || O.invoke[i] > S.t1;
      var a = Math.max(LABEL, X(O.invoke[i])), z = Math.min(W, X(end));
      var g = svgEl("g", {
        id: "op-" + id, "data-op": id, "data-witness": w ? "1" : "0",
        "class": "op" + (w ? " witness" : "") + (S.sel === id ? " selected" : "") +
          (anyWitness && !w && S.sel !== id ? " faded" : "") + (off ? " offscreen" : "")
      });
      if (off) { overlay.appendChild(g); continue; }
      var y = rowsTop + ROW * rowOf(i, rows) + 2;
      g.appendChild(svgEl("rect", { x: a, y: y, width: Math.max(2, z - a), height: ROW - 4, rx: 2, fill: OUTCOME[O.outcome[i]] }));
      // The label runs to the next operation of its row at most (about 6 px a character).
      // The witness's and the selected operation's labels are whole (on a halo, over their
      // neighbours; left of the bar near the right edge).
      var whole = w || S.sel === id;
      var room = whole ? 1000 : Math.floor((next[i] - a - 4) / 6);
      if (room >= 3) {
        var label = "#" + id + " " + O.kind[i] + " " + D.keys[O.key[i]] + (O.value[i] !== null ? "=" + O.value[i] : "") +
          (O.outcome[i] === "unknown" ? " ?" : O.outcome[i] === "rejected" ? " rejected" : "") + (O.output[i] !== null ? " saw " + O.output[i] : "");
        var left = whole && a > W * 0.75;
        var t = svgEl("text", { x: left ? a - 3 : a + 3, y: y + 11, "text-anchor": left ? "end" : "start", "class": whole ? "halo" : "" });
        t.textContent = label.length > room ? label.slice(0, Math.max(1, room - 1)) + "\u2026" : label;
        g.appendChild(t);
      }
      var ti = svgEl("title", {}); ti.textContent = opText(i); g.appendChild(ti);
      g.addEventListener("click", (function (op) { return function (e) { e.stopPropagation(); select(op); }; })(id));
      if (whole) { onTop.push(g); } else { overlay.appendChild(g); }
    }
    onTop.forEach(function (g) { overlay.appendChild(g); });
    if (F) {
      var vx = X(F.tick + 1);
      var v = svgEl("g", { id: "violation", "data-tick": F.tick, "class": vx >= LABEL && vx <= W ? "" : "offscreen" });
      v.appendChild(svgEl("line", { x1: vx, y1: 14, x2: vx, y2: H, stroke: "#d62728", "stroke-width": 2 }));
      var vt = svgEl("text", { x: vx - 4, y: lanesTop - 6, "text-anchor": "end", fill: "#d62728", "font-weight": "bold" });
      vt.textContent = "violation certain (tick " + F.tick + ")";
      v.appendChild(vt);
      overlay.appendChild(v);
    }
    if (S.asof !== null) {
      var ax = X(S.asof);
      overlay.appendChild(svgEl("line", { id: "asof-line", x1: ax, y1: 14, x2: ax, y2: H, stroke: "#333", "stroke-dasharray": "3,3" }));
    }
  }
  function drawMini() {
    var w = Math.max(600, stage.clientWidth || 1200), h = 60;
    mini.width = w; mini.height = h; mini.style.width = w + "px";
    var ctx = mini.getContext("2d"), x = function (t) { return t / END * w; };
    ctx.clearRect(0, 0, w, h);
    var lh = (h - 8) / D.nodes.length;
    var per = new Array(D.nodes.length * (END + 1)).fill(0), max = 1;
    for (var i = 0; i < M.id.length; i++) {
      var k = laneOf(M.from[i]) * (END + 1) + Math.min(END, M.sent[i]);
      per[k]++; if (per[k] > max) { max = per[k]; }
    }
    D.nodes.forEach(function (n, l) {
      spans[n].forEach(function (s) {
        if (s[2] === "down") { ctx.fillStyle = "#c8c8c8"; ctx.fillRect(x(s[0]), 4 + l * lh, x(s[1]) - x(s[0]), lh); }
      });
      for (var t = 0; t <= END; t++) {
        var c = per[l * (END + 1) + t];
        if (c) { ctx.fillStyle = "rgba(31,119,180," + (0.15 + 0.85 * c / max) + ")"; ctx.fillRect(x(t), 4 + l * lh, Math.max(1, w / END), lh - 1); }
      }
    });
    D.bands.forEach(function (b) { ctx.fillStyle = "rgba(244,162,97,0.6)"; ctx.fillRect(x(b.from), 0, x(b.to) - x(b.from), 3); });
    if (F) { ctx.fillStyle = "#d62728"; ctx.fillRect(x(F.tick + 1) - 1, 0, 2, h); }
    ctx.strokeStyle = "#000"; ctx.lineWidth = 2;
    ctx.strokeRect(x(S.t0), 1, Math.max(2, x(S.t1) - x(S.t0)), h - 2);
    ctx.lineWidth = 1;
  }

  // ---- panels ----
  function showSelection() {
    selPanel.innerHTML = "";
    selPanel.appendChild(el("h2", {}, "Selected operation"));
    if (S.sel === null || opIndex[S.sel] === undefined) {
      selPanel.appendChild(el("p", {}, "Click an operation bar to follow its messages; click the lanes to see every node as of that tick."));
      return;
    }
    var i = opIndex[S.sel];
    selPanel.appendChild(el("p", { id: "selected-op" }, opText(i)));
    var pre = el("pre", { "class": "trace" });
    var lines = ["[" + pad(O.invoke[i]) + "] n" + O.node[i] + " invoke op" + O.id[i] + " " + O.kind[i] + " " + D.keys[O.key[i]]];
    for (var m = 0; m < M.id.length; m++) { if (M.op[m] === S.sel) { lines.push("[" + pad(M.sent[m]) + "] " + msgText(m)); } }
    if (O.complete[i] >= 0) { lines.push("[" + pad(O.complete[i]) + "] n" + O.node[i] + " reply op" + O.id[i] + " " + O.outcome[i] + " " + O.reason[i]); }
    pre.textContent = lines.join("\n");
    selPanel.appendChild(pre);
  }
  function pad(t) { var s = String(t); while (s.length < 5) { s = " " + s; } return s; }
  function stateAt(n, t) {
    var s = "not started";
    D.lives.forEach(function (l) { if (l[1] === n && l[0] <= t) { s = l[2] >= 0 ? "up (incarnation " + l[2] + ")" : "down"; } });
    return s;
  }
  function showAsOf() {
    asofPanel.innerHTML = "";
    var t = S.asof !== null ? S.asof : (F ? F.tick : END);
    asofPanel.appendChild(el("h2", {}, "As of tick " + t));
    var key = S.key || (F && F.key) || "";
    var ki = D.keys.indexOf(key);
    var table = el("table", { id: "asof-table" });
    var hr = el("tr", {});
    ["node", "state", "view", "ring (position)", key ? "replicas of " + key + " (its view)" : "replicas", "table"].forEach(function (h) { hr.appendChild(el("th", {}, h)); });
    table.appendChild(hr);
    D.nodes.forEach(function (n) {
      var view = {}, store = {};
      var lastStart = -1;
      D.lives.forEach(function (l) { if (l[1] === n && l[0] <= t && l[2] >= 0) { lastStart = l[0]; } });
      D.views.forEach(function (v) { if (v[1] === n && v[0] <= t && v[0] >= lastStart) { if (v[3]) { view[v[2]] = true; } else { delete view[v[2]]; } } });
      D.stored.forEach(function (s) { if (s[1] === n && s[0] <= t && s[0] >= lastStart) { store[D.keys[s[2]]] = s[3]; } });
      var members = Object.keys(view).map(Number);
      var ring = members.map(function (m) { return [D.ring[laneOf(m)], m]; }).sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
      var reps = "";
      if (ki >= 0 && ring.length >= 3) {
        var p = D.key_positions[ki], first = 0;
        while (first < ring.length && ring[first][0] < p) { first++; }
        if (first === ring.length) { first = 0; }
        reps = [0, 1, 2].map(function (j) { return "n" + ring[(first + j) % ring.length][1]; }).join(" ");
      }
      var tr = el("tr", {});
      [ "n" + n, stateAt(n, t), members.sort(function (a, b) { return a - b; }).map(function (m) { return "n" + m; }).join(" "),
        ring.map(function (r) { return "n" + r[1] + "(" + r[0] + ")"; }).join(" "), reps,
        Object.keys(store).sort().filter(function (k) { return store[k] !== null; }).map(function (k) { return k + "=" + store[k]; }).join(" ")
      ].forEach(function (c) { tr.appendChild(el("td", {}, c)); });
      table.appendChild(tr);
    });
    asofPanel.appendChild(table);
    var around = [];
    for (var m = 0; m < M.id.length && around.length < 40; m++) { if (Math.abs(M.sent[m] - t) <= 1) { around.push("[" + pad(M.sent[m]) + "] " + msgText(m)); } }
    for (var o = 0; o < O.id.length; o++) { if (Math.abs(O.invoke[o] - t) <= 1 || Math.abs(O.complete[o] - t) <= 1) { around.push("[" + pad(O.invoke[o]) + "] " + opText(o)); } }
    asofPanel.appendChild(el("h3", {}, "Trace around tick " + t));
    asofPanel.appendChild(el("pre", { "class": "trace" }, around.sort().join("\n") || "(nothing but gossip)"));
  }

  // ---- view state ----
  function clampWindow(a, b) {
    // A little room past the end, so a violation at the last tick is not on the edge.
    var last = END + 3;
    var span = Math.max(4, Math.min(last, b - a));
    a = Math.max(0, Math.min(last - span, a));
    return [a, a + span];
  }
  function setWindow(a, b) { var w = clampWindow(a, b); S.t0 = w[0]; S.t1 = w[1]; update(); }
  function zoomBy(f, at) { setWindow(at - (at - S.t0) * f, at + (S.t1 - at) * f); }
  // The violation's window as the SVG draws it, at least 24 ticks wide.
  function violationWindow() {
    var a = D.window[0], b = D.window[1] + 2;
    if (b - a < 24) { a = b - 24; }
    return clampWindow(a, b);
  }
  function jumpToViolation() { var w = violationWindow(); setWindow(w[0], w[1]); }
  function select(op) { S.sel = S.sel === op ? null : op; update(); }
  function writeHash() {
    var parts = ["t0=" + round(S.t0), "t1=" + round(S.t1)];
    if (S.sel !== null) { parts.push("sel=op" + S.sel); }
    if (S.asof !== null) { parts.push("asof=" + S.asof); }
    if (S.key) { parts.push("key=" + encodeURIComponent(S.key)); }
    if (S.kind) { parts.push("kind=" + encodeURIComponent(S.kind)); }
    if (S.group !== "client") { parts.push("group=key"); }
    ["nodes", "classes", "outcomes"].forEach(function (f, j) {
      var all = [D.nodes, classes, ["ok", "rejected", "unknown"]][j];
      if (S[f].length !== all.length) { parts.push(f + "=" + S[f].join(",")); }
    });
    if (selftest) { parts.push("selftest"); }
    var h = "#" + parts.join("&");
    if (location.hash !== h) { try { history.replaceState(null, "", h); } catch (e) { /* file:// in some browsers */ } }
  }
  function round(t) { return Math.round(t * 10) / 10; }
  function readHash() {
    var h = {};
    location.hash.replace(/^#/, "").split("&").forEach(function (p) {
      if (!p) { return; }
      var kv = p.split("="); h[kv[0]] = kv.length > 1 ? decodeURIComponent(kv[1]) : "";
    });
    return h;
  }
  function syncControls() {
    groups.forEach(function (g) {
      g.querySelectorAll("input").forEach(function (x) {
        var f = x.getAttribute("data-filter");
        x.checked = S[f].map(String).indexOf(x.value) >= 0;
      });
    });
    keySel.value = S.key;
    kindSel.value = S.kind;
    groupBtn.textContent = S.group === "client" ? "rows per key" : "rows per client";
  }
  function update() {
    syncControls();
    draw();
    showSelection();
    showAsOf();
    writeHash();
    body.dataset.t0 = String(round(S.t0));
    body.dataset.t1 = String(round(S.t1));
    body.dataset.sel = S.sel !== null ? "op" + S.sel : "";
  }

  // ---- input ----
  var drag = null;
  canvas.addEventListener("wheel", function (e) {
    e.preventDefault();
    var r = canvas.getBoundingClientRect();
    zoomBy(e.deltaY > 0 ? 1.25 : 0.8, T(e.clientX - r.left));
  }, { passive: false });
  stage.addEventListener("mousedown", function (e) { drag = { x: e.clientX, t0: S.t0, t1: S.t1, moved: false }; });
  window.addEventListener("mouseup", function (e) {
    if (drag && !drag.moved && e.target === canvas) {
      var r = canvas.getBoundingClientRect();
      S.asof = Math.max(0, Math.min(END, Math.round(T(e.clientX - r.left))));
      update();
    }
    drag = null;
  });
  window.addEventListener("mousemove", function (e) {
    if (drag) {
      var dx = e.clientX - drag.x;
      if (Math.abs(dx) > 3) { drag.moved = true; }
      if (drag.moved) { var dt = dx / plotW * (drag.t1 - drag.t0); setWindow(drag.t0 - dt, drag.t1 - dt); }
      return;
    }
    if (e.target !== canvas) { tip.style.display = "none"; return; }
    var r = canvas.getBoundingClientRect(), mx = e.clientX - r.left, my = e.clientY - r.top, best = null, bd = 6;
    drawn.forEach(function (d) {
      var dist = segDist(mx, my, d[1], d[2], d[3], d[4]);
      if (dist < bd) { bd = dist; best = d[0]; }
    });
    if (best === null) { tip.style.display = "none"; return; }
    tip.textContent = msgText(best);
    tip.style.display = "block"; tip.style.left = (mx + 12) + "px"; tip.style.top = (my + 12) + "px";
  });
  function segDist(px, py, x1, y1, x2, y2) {
    var dx = x2 - x1, dy = y2 - y1, l = dx * dx + dy * dy, u = l ? ((px - x1) * dx + (py - y1) * dy) / l : 0;
    u = Math.max(0, Math.min(1, u));
    var x = x1 + u * dx - px, y = y1 + u * dy - py;
    return Math.sqrt(x * x + y * y);
  }
  var brush = null;
  mini.addEventListener("mousedown", function (e) { var r = mini.getBoundingClientRect(); brush = (e.clientX - r.left) / r.width * END; });
  mini.addEventListener("mouseup", function (e) {
    if (brush === null) { return; }
    var r = mini.getBoundingClientRect(), t = (e.clientX - r.left) / r.width * END;
    if (Math.abs(t - brush) < 2) { var half = (S.t1 - S.t0) / 2; setWindow(t - half, t + half); } else { setWindow(Math.min(t, brush), Math.max(t, brush)); }
    brush = null;
  });
  window.addEventListener("keydown", function (e) {
    if (e.target && (e.target.tagName === "INPUT" || e.target.tagName === "SELECT")) { return; }
    var span = S.t1 - S.t0;
    if (e.key === "+" || e.key === "=") { zoomBy(0.5, (S.t0 + S.t1) / 2); }
    else if (e.key === "-") { zoomBy(2, (S.t0 + S.t1) / 2); }
    else if (e.key === "ArrowLeft") { setWindow(S.t0 - span / 4, S.t1 - span / 4); }
    else if (e.key === "ArrowRight") { setWindow(S.t0 + span / 4, S.t1 + span / 4); }
    else if (e.key === "v" && F) { jumpToViolation(); }
  });
  window.addEventListener("resize", function () { draw(); });

  // ---- start: the hash's view, else the violation, else the whole run ----
  var h = readHash();
  var selftest = "selftest" in h;
  if (h.t0 !== undefined && h.t1 !== undefined) { var w0 = clampWindow(Number(h.t0), Number(h.t1)); S.t0 = w0[0]; S.t1 = w0[1]; }
  else if (F) { var w1 = violationWindow(); S.t0 = w1[0]; S.t1 = w1[1]; }
  if (h.sel) { var so = Number(h.sel.replace(/^op/, "")); if (opIndex[so] !== undefined) { S.sel = so; } }
  if (h.asof) { S.asof = Number(h.asof); }
  if (h.key && D.keys.indexOf(h.key) >= 0) { S.key = h.key; }
  if (h.kind && D.kinds.indexOf(h.kind) >= 0) { S.kind = h.kind; }
  if (h.group === "key") { S.group = "key"; }
  if (h.nodes) { S.nodes = h.nodes.split(",").map(Number); }
  if (h.classes) { S.classes = h.classes.split(","); }
  if (h.outcomes) { S.outcomes = h.outcomes.split(","); }
  update();
  body.dataset.renderMs = String(Math.round(performance.now()));
  body.dataset.ready = "1";
  if (selftest) { runSelfTest(); }

  // ---- self-test: drives the real handlers and writes pass or fail into the DOM ----
  function runSelfTest() {
    var failures = [];
    function check(ok, what) { if (!ok) { failures.push(what); } }
    var saved = { t0: S.t0, t1: S.t1, sel: S.sel, classes: S.classes.slice() };
    var span = S.t1 - S.t0;
    document.getElementById("zoom-in").click();
    check(Math.abs((S.t1 - S.t0) - Math.max(4, span / 2)) < 0.01, "zoom in halves the window");
    check(body.dataset.t1 === String(round(S.t1)), "zoom updates data-t1");
    check(location.hash.indexOf("t0=" + round(S.t0)) >= 0, "zoom updates the hash");
    setWindow(saved.t0, saved.t1);
    var before = Number(body.dataset.arrows);
    var box = document.querySelector('#filter-classes input[value="client"]');
    box.checked = false; box.onchange();
    check(S.classes.indexOf("client") < 0, "the client filter is off");
    var clientLeft = drawn.filter(function (d) { return msgClass(d[0]) === "client"; }).length;
    check(clientLeft === 0, "no client arrow drawn with the filter off");
    check(Number(body.dataset.arrows) <= before, "filtering does not add arrows");
    box.checked = true; box.onchange();
    var target = F && F.ops.length ? F.ops[0] : (O.id.length ? O.id[0] : null);
    if (target !== null) {
      S.sel = null;
      setWindow(O.invoke[opIndex[target]] - 10, O.invoke[opIndex[target]] + 20);
      var g = document.getElementById("op-" + target);
      check(!!g, "operation " + target + " is drawn");
      if (g) { g.dispatchEvent(new MouseEvent("click", { bubbles: true })); }
      check(body.dataset.sel === "op" + target, "click selects the operation");
      check(location.hash.indexOf("sel=op" + target) >= 0, "selection is in the hash");
      check(!!document.getElementById("selected-op"), "the selection panel shows it");
      var g2 = document.getElementById("op-" + target);
      check(g2 && g2.getAttribute("class").indexOf("selected") >= 0, "the bar is marked selected");
    }
    if (F) {
      jumpToViolation();
      var v = document.getElementById("violation");
      check(v && v.getAttribute("class") !== "offscreen", "jump to violation shows the mark");
    }
    S.sel = saved.sel; setWindow(saved.t0, saved.t1);
    var result = failures.length ? "fail: " + failures.join("; ") : "pass";
    body.dataset.selftest = result;
    app.insertBefore(el("div", { id: "selftest-result" }, "self-test: " + result), app.firstChild);
  }
})();
