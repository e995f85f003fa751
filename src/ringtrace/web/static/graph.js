// The network graph page: fetch the case's graph JSON and draw it with cytoscape (vendored, same origin).
// Evidence is hostile: labels are set as cytoscape data (drawn on a canvas, never parsed as markup), and the legend
// is built with textContent.
(function () {
  "use strict";
  var box = document.getElementById("graph");
  if (!box) { return; }
  if (typeof window.cytoscape !== "function") {
    box.setAttribute("data-error", "cytoscape missing");
    return;
  }
  var PALETTE = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                 "#bcbd22", "#393b79", "#637939", "#8c6d31", "#843c39", "#7b4173"];
  function colourOf(countries) {
    var map = {};
    countries.forEach(function (c, i) { map[c] = PALETTE[i % PALETTE.length]; });
    return function (c) { return map[c] || "#999999"; };
  }
  fetch(box.getAttribute("data-src"), {credentials: "same-origin"}).then(function (r) {
    if (!r.ok) { throw new Error("HTTP " + r.status); }
    return r.json();
  }).then(function (g) {
    var colour = colourOf(g.countries);
    var els = [];
    g.nodes.forEach(function (n) {
      els.push({group: "nodes", data: {id: n.id, label: n.label, kind: n.kind, url: n.url,
        colour: n.kind === "person" ? colour(n.country) : "#bbbbbb", size: Math.round(24 * n.size)}});
    });
    g.edges.forEach(function (e) {
      els.push({group: "edges", data: {id: e.id, source: e.source, target: e.target, role: e.role}});
    });
    var cy = window.cytoscape({
      container: box, elements: els, wheelSensitivity: 0.3,
      layout: {name: els.length > 1500 ? "grid" : "cose", animate: false, randomize: false},
      style: [
        {selector: "node", style: {"label": "data(label)", "background-color": "data(colour)",
          "width": "data(size)", "height": "data(size)", "font-size": 9, "color": "#222"}},
        {selector: "node[kind = 'group']", style: {"shape": "round-rectangle", "border-width": 1,
          "border-color": "#666"}},
        {selector: "edge", style: {"width": 1, "line-color": "#aaa", "curve-style": "bezier"}},
        {selector: "edge[role = 'admin']", style: {"width": 2, "line-color": "#555"}},
        {selector: "edge[role = 'creator']", style: {"width": 4, "line-color": "#222"}},
        {selector: "edge[role = 'first_sharer']", style: {"width": 2, "line-color": "#c00",
          "line-style": "dashed"}}
      ]
    });
    window.cy = cy;
    box.setAttribute("data-drawn-nodes", String(cy.nodes().length));
    box.setAttribute("data-drawn-edges", String(cy.edges().length));
    cy.on("tap", "node", function (ev) {
      var url = ev.target.data("url");
      if (url) { window.location.href = "/cases/" + box.getAttribute("data-case") + "/" + url; }
    });
    var legend = document.getElementById("graph-legend");
    g.countries.forEach(function (c) {
      var s = document.createElement("span");
      s.className = "chip";
      s.style.borderColor = colour(c);
      s.textContent = c;
      legend.appendChild(s);
    });
    var png = document.getElementById("graph-png");
    if (png) {
      png.addEventListener("click", function () {
        var a = document.createElement("a");
        a.href = cy.png({full: true, scale: 2, bg: "#ffffff"});
        a.download = "case-" + box.getAttribute("data-case") + "-network.png";
        document.body.appendChild(a);
        a.click();
        a.remove();
      });
    }
  }).catch(function (err) {
    box.setAttribute("data-error", String(err));
    box.textContent = "The graph could not be loaded: " + String(err);
  });
})();
