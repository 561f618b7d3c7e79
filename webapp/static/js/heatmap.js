// Process heatmap: the version's diagram (window.CpeDiagram, case-diagram.js) with an overlay on
// each element: cases that passed it and their median duration, coloured by the number of cases
// or by the duration (the page's "colour by" switch). Stats come from the page's JSON block.
(function () {
  "use strict";
  var container = document.getElementById("heatmap");
  var block = document.getElementById("heatmap-datos");
  if (!container || !block || !window.CpeDiagram) { return; }
  var data = JSON.parse(block.textContent);
  var casesLabel = container.getAttribute("data-cases-label");
  var waitingLabel = container.getAttribute("data-waiting-label");
  var by = container.getAttribute("data-colour-by") || "casos";

  window.CpeDiagram.open(container, container.getAttribute("data-diagram")).then(function (viewer) {
    var overlays = viewer.get("overlays");
    var registry = viewer.get("elementRegistry");
    var canvas = viewer.get("canvas");
    Object.keys(data.elementos).forEach(function (id) {
      var element = registry.get(id);
      if (!element) { return; }
      var stats = data.elementos[id];
      var level = by === "duracion" ? stats.nivel_duracion : stats.nivel_casos;
      if (level > 0) { canvas.addMarker(id, "heat-el-" + level); }
      var badge = document.createElement("div");
      badge.className = "heat-badge heat-" + level;
      badge.setAttribute("data-element", id);
      badge.textContent = stats.casos + " " + casesLabel;
      var time = document.createElement("span");
      time.className = "heat-time";
      time.textContent = "⏱ " + stats.mediana_texto;
      badge.appendChild(time);
      var waiting = data.en_espera[id];
      if (waiting) {
        var now = document.createElement("span");
        now.className = "heat-time";
        now.textContent = waiting + " " + waitingLabel;
        badge.appendChild(now);
      }
      overlays.add(id, "heatmap", { position: { bottom: -4, left: 0 }, html: badge });
    });
    // A wide process fitted whole is too small to read: show its beginning at a readable zoom
    // (drag to move along it, the wheel zooms).
    canvas.zoom("fit-viewport");
    if (canvas.zoom() < 0.6) {
      var box = canvas.viewbox(), scale = 0.65;
      var width = box.outer.width / scale, height = box.outer.height / scale;
      canvas.viewbox({ x: box.inner.x - 30, y: box.inner.y - 20,
        width: width, height: height });
    }
    container.setAttribute("data-ready", "1");
  }).catch(function (err) { window.CpeDiagram.fail(container, err); });
})();
