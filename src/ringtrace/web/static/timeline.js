// The timeline chart: entries per UTC day, drawn as SVG from the page's timeline.json (same filters as the list).
// Drag across it to zoom: the selected days become the list's From/To filters. From the keyboard (the chart takes
// focus): Left/Right move the day cursor, Shift+Left/Right extend the selection, Home/End jump to the ends, Enter
// zooms into the selection, + zooms in around the cursor, - zooms out, Escape clears. Everything is built with DOM
// calls (createElementNS, textContent), never from markup.
(function () {
  "use strict";
  var box = document.getElementById("tl-chart");
  if (!box) { return; }
  var NS = "http://www.w3.org/2000/svg";
  var DAY = 86400000;
  function el(name, attrs) {
    var e = document.createElementNS(NS, name);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, String(attrs[k])); });
    return e;
  }
  function parse(d) { return Date.UTC(+d.slice(0, 4), +d.slice(5, 7) - 1, +d.slice(8, 10)); }
  function fmt(t) { return new Date(t).toISOString().slice(0, 10); }

  fetch(box.getAttribute("data-src"), {credentials: "same-origin"}).then(function (r) {
    if (!r.ok) { throw new Error("HTTP " + r.status); }
    return r.json();
  }).then(function (data) {
    var days = data.days;
    box.setAttribute("data-days", String(days.length));
    if (!days.length) { box.textContent = "No dated entries to chart."; return; }
    var first = parse(days[0].day), last = parse(days[days.length - 1].day);
    var n = Math.round((last - first) / DAY) + 1;
    var byDay = {};
    var top = 1;
    days.forEach(function (d) { byDay[d.day] = d; top = Math.max(top, d.entries); });
    var W = Math.max(box.clientWidth, 300), H = Math.max(box.clientHeight, 120);
    var L = 36, R = 8, T = 8, B = 22;
    var pw = W - L - R, ph = H - T - B, bw = pw / n;
    var svg = el("svg", {width: W, height: H, viewBox: "0 0 " + W + " " + H, "class": "tl-svg"});
    svg.appendChild(el("line", {x1: L, y1: T + ph, x2: L + pw, y2: T + ph, stroke: "#888"}));
    var yl = el("text", {x: 2, y: T + 10, "font-size": 10, fill: "#555"});
    yl.textContent = String(top);
    svg.appendChild(yl);
    for (var i = 0; i < n; i++) {
      var key = fmt(first + i * DAY), d = byDay[key];
      if (!d) { continue; }
      var x = L + i * bw, w = Math.max(1, bw - (bw > 3 ? 1 : 0));
      var hMsg = ph * (d.entries - d.events) / top, hEv = ph * d.events / top;
      var rm = el("rect", {x: x, y: T + ph - hMsg, width: w, height: hMsg, fill: "#9ecae1", "data-day": key});
      var re = el("rect", {x: x, y: T + ph - hMsg - hEv, width: w, height: hEv, fill: "#08519c", "data-day": key});
      var tip = el("title", {});
      tip.textContent = key + ": " + d.entries + " entries, " + d.events + " events, " + d.messages + " message copies";
      re.appendChild(tip);
      rm.appendChild(tip.cloneNode(true));
      svg.appendChild(rm);
      svg.appendChild(re);
    }
    [[0, first], [n - 1, last]].forEach(function (p, j) {
      var t = el("text", {x: j ? L + pw : L, y: H - 6, "font-size": 10, fill: "#555",
                          "text-anchor": j ? "end" : "start"});
      t.textContent = fmt(p[1]);
      svg.appendChild(t);
    });
    var sel = el("rect", {x: 0, y: T, width: 0, height: ph, fill: "rgba(255,165,0,0.3)", stroke: "#f90",
                          visibility: "hidden", "class": "tl-selection"});
    svg.appendChild(sel);
    box.appendChild(svg);

    function dayAt(clientX) {
      var rect = svg.getBoundingClientRect();
      var i = Math.floor((clientX - rect.left - L) / bw);
      return Math.min(n - 1, Math.max(0, i));
    }
    var status = document.getElementById("tl-status");
    function zoomTo(a, b) {
      var url = box.getAttribute("data-base") + "&since=" + fmt(first + a * DAY) + "&until=" + fmt(first + b * DAY);
      box.setAttribute("data-zoom", url);
      window.location.href = url;
    }
    function show(a, b) {
      sel.setAttribute("visibility", "visible");
      sel.setAttribute("x", String(L + a * bw));
      sel.setAttribute("width", String((b - a + 1) * bw));
      var d = byDay[fmt(first + a * DAY)], text = a === b ? fmt(first + a * DAY) + ": " + (d ? d.entries : 0) +
        " entries" : fmt(first + a * DAY) + " to " + fmt(first + b * DAY) + " (" + (b - a + 1) + " days)";
      box.setAttribute("data-selected", fmt(first + a * DAY) + "/" + fmt(first + b * DAY));
      if (status) { status.textContent = "Selected " + text + ". Enter zooms into it."; }
    }
    // keyboard: a cursor day and, with Shift, an anchor the selection stretches from
    var cur = 0, anchor = 0;
    box.addEventListener("focus", function () { show(Math.min(anchor, cur), Math.max(anchor, cur)); });
    box.addEventListener("keydown", function (ev) {
      var k = ev.key, step = ev.ctrlKey || ev.altKey ? 7 : 1;
      if (k === "ArrowLeft" || k === "ArrowRight" || k === "Home" || k === "End") {
        cur = k === "Home" ? 0 : k === "End" ? n - 1 : Math.min(n - 1, Math.max(0, cur + (k === "ArrowLeft" ? -step : step)));
        if (!ev.shiftKey) { anchor = cur; }
      } else if (k === "Enter") {
        zoomTo(Math.min(anchor, cur), Math.max(anchor, cur));
      } else if (k === "+" || k === "=") {
        var half = Math.max(0, Math.floor(n / 4));
        zoomTo(Math.max(0, cur - half), Math.min(n - 1, cur + half));
      } else if (k === "-" || k === "_") {
        zoomTo(-Math.ceil(n / 2), n - 1 + Math.ceil(n / 2));
      } else if (k === "Escape") {
        anchor = cur;
      } else {
        return;
      }
      ev.preventDefault();
      show(Math.min(anchor, cur), Math.max(anchor, cur));
    });
    var start = null;
    svg.addEventListener("pointerdown", function (ev) {
      start = dayAt(ev.clientX);
      svg.setPointerCapture(ev.pointerId);
      sel.setAttribute("visibility", "visible");
      sel.setAttribute("x", String(L + start * bw));
      sel.setAttribute("width", String(bw));
    });
    svg.addEventListener("pointermove", function (ev) {
      if (start === null) { return; }
      var at = dayAt(ev.clientX), a = Math.min(start, at), b = Math.max(start, at);
      sel.setAttribute("x", String(L + a * bw));
      sel.setAttribute("width", String((b - a + 1) * bw));
    });
    svg.addEventListener("pointerup", function (ev) {
      if (start === null) { return; }
      var end = dayAt(ev.clientX), a = Math.min(start, end), b = Math.max(start, end);
      start = null;
      zoomTo(a, b);
    });
  }).catch(function (err) {
    box.setAttribute("data-error", String(err));
    box.textContent = "The chart could not be loaded: " + String(err);
  });
})();
