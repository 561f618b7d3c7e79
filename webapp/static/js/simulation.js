// Simulation comparison pages (/modelos/simulacion/<id>): while the run is going, poll its
// status and reload when it ends; when done, draw the A/B charts with Chart.js from the
// <script type="application/json" id="sim-data"> block (labels come translated from the server).
(function () {
  "use strict";
  var COLORS = { a: "#15508f", b: "#e07b00" };

  var status = document.getElementById("sim-status");
  if (status) {
    var url = status.getAttribute("data-url");
    var poll = function () {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (r) { if (!r.ok) { throw new Error(r.status); } return r.json(); })
        .then(function (s) {
          if (s.estado !== "en_curso") { window.location.reload(); return; }
          var seconds = Math.round((Date.now() - Date.parse(status.getAttribute("data-created"))) / 1000);
          status.textContent = status.getAttribute(s.etapa ? "data-text-run" : "data-text-wait") +
            (seconds > 0 ? " (" + seconds + " s)" : "");
          window.setTimeout(poll, 2000);
        })
        .catch(function () {
          status.textContent = status.getAttribute("data-text-error");
          window.setTimeout(poll, 5000);
        });
    };
    window.setTimeout(poll, 1500);
  }

  // Each design's diagram with the per-step overlay of the simulated run (window.CpeDiagram from
  // case-diagram.js; badge and colour classes shared with the process heatmap of /indicadores/mapa).
  Array.prototype.forEach.call(document.querySelectorAll(".sim-heatmap"), function (container) {
    if (!window.CpeDiagram) { return; }
    var map = JSON.parse(document.getElementById(container.getAttribute("data-map")).textContent);
    window.CpeDiagram.open(container, container.getAttribute("data-diagram")).then(function (viewer) {
      var overlays = viewer.get("overlays"), registry = viewer.get("elementRegistry"), canvas = viewer.get("canvas");
      Object.keys(map.elementos).forEach(function (id) {
        if (!registry.get(id)) { return; }
        var stats = map.elementos[id];
        if (stats.nivel_casos > 0) { canvas.addMarker(id, "heat-el-" + stats.nivel_casos); }
        var badge = document.createElement("div");
        badge.className = "heat-badge heat-" + stats.nivel_casos;
        badge.setAttribute("data-element", id);
        badge.textContent = stats.casos + " " + container.getAttribute("data-cases-label");
        var time = document.createElement("span");
        time.className = "heat-time";
        time.textContent = "⏱ " + stats.mediana_texto;
        badge.appendChild(time);
        if (map.en_espera[id]) {
          var waiting = document.createElement("span");
          waiting.className = "heat-time";
          waiting.textContent = map.en_espera[id] + " " + container.getAttribute("data-waiting-label");
          badge.appendChild(waiting);
        }
        overlays.add(id, "heatmap", { position: { bottom: -4, left: 0 }, html: badge });
      });
      // wide diagrams: as tall as the diagram needs at full width, no empty band below it
      var inner = canvas.viewbox().inner;
      if (inner.width > 0) {
        var height = container.clientWidth * inner.height / inner.width + 40;
        container.style.height = Math.round(Math.max(240, Math.min(560, height))) + "px";
        canvas.resized();
      }
      window.CpeDiagram.fit(viewer, null);
      container.setAttribute("data-ready", "1");
    }).catch(function (err) { window.CpeDiagram.fail(container, err); });
  });

  var block = document.getElementById("sim-data");
  if (!block || !window.Chart) { return; }
  var data = JSON.parse(block.textContent);
  var done = 0, expected = 0;

  function datasets(pair) {
    return ["a", "b"].map(function (side) {
      return { label: side.toUpperCase() + " · " + data.series[side], data: pair[side],
               backgroundColor: COLORS[side], borderColor: COLORS[side], borderRadius: 3 };
    });
  }

  function draw(id, pair, options) {
    var canvas = document.getElementById(id);
    if (!canvas || !pair) { return; }
    expected += 1;
    options = options || {};
    new window.Chart(canvas, {
      type: "bar",
      data: { labels: pair.labels, datasets: datasets(pair) },
      options: {
        indexAxis: options.horizontal ? "y" : "x",
        responsive: true, maintainAspectRatio: false,
        animation: { onComplete: function () { done += 1; if (done >= expected) { block.setAttribute("data-ready", "1"); } } },
        plugins: { legend: { position: "bottom" } },
        scales: {
          x: { beginAtZero: true, title: { display: !!options.xTitle, text: options.xTitle || "" },
               ticks: options.horizontal ? { precision: 0 } : { autoSkip: !!options.autoSkip, maxRotation: 40 } },
          y: { beginAtZero: true, title: { display: !!options.yTitle, text: options.yTitle || "" },
               ticks: options.horizontal ? { autoSkip: false } : { precision: 0 } }
        }
      }
    });
  }

  var steps = document.querySelector(".chart-steps");
  if (steps && data.pasos) { steps.style.height = Math.max(240, 26 * data.pasos.labels.length + 80) + "px"; }
  draw("chart-resultados", data.resultados, { yTitle: data.texts.casos });
  draw("chart-segmentos", data.segmentos, { yTitle: data.texts.casos });
  draw("chart-duracion", data.duracion, { yTitle: data.texts.dias });
  draw("chart-carga", data.carga, { yTitle: data.texts.tareas, xTitle: data.texts.ejecutivo, autoSkip: true });
  draw("chart-pasos", data.pasos, { horizontal: true, xTitle: data.texts.casos });
})();
