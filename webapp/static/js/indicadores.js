// The indicators dashboard's charts (Chart.js). The numbers come from the page's
// <script type="application/json" id="indicadores-datos"> block (no inline script: strict CSP).
(function () {
  "use strict";
  var block = document.getElementById("indicadores-datos");
  if (!block || !window.Chart) { return; }
  var data = JSON.parse(block.textContent);
  var Chart = window.Chart;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#1c2430";
  Chart.defaults.animation = false;
  var BLUE = "#15508f";
  var COLOURS = {
    registradas: "#9aa7b5", ingresadas: "#0b3a6b", rojo: "#c62828", amarillo: "#f2b705", verde: "#2e7d32",
    rojo_oscuro: "#6d1313", exportadoras: "#15508f", exportadora: "#15508f", derivada: "#9aa7b5",
    desercion: "#c62828", abandono: "#e57373", en_curso: "#f2b705"
  };
  var integer = { beginAtZero: true, ticks: { precision: 0 } };

  function make(id, config) {
    var canvas = document.getElementById(id);
    if (!canvas) { return null; }
    config.options = Object.assign({ responsive: true, maintainAspectRatio: false }, config.options || {});
    canvas.parentNode.classList.add("ind-chart-ready");
    return new Chart(canvas, config);
  }

  make("chart-embudo", {
    type: "bar",
    data: { labels: data.embudo.labels, datasets: [{ data: data.embudo.values,
      backgroundColor: data.embudo.keys.map(function (k) { return COLOURS[k] || BLUE; }) }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: integer } }
  });
  make("chart-meses", {
    type: "bar",
    data: { labels: data.meses.labels, datasets: [{ data: data.meses.values, backgroundColor: BLUE }] },
    options: { plugins: { legend: { display: false } }, scales: { y: integer } }
  });
  make("chart-transiciones", {
    type: "bar",
    data: { labels: data.transiciones.labels, datasets: [{ data: data.transiciones.values, backgroundColor: "#2e7d32" }] },
    options: { indexAxis: "y", plugins: { legend: { display: false } }, scales: { x: integer } }
  });
  var load = document.getElementById("chart-carga");
  if (load) {
    var cap = data.carga.tope;
    make("chart-carga", {
      type: "bar",
      data: { labels: data.carga.labels, datasets: [
        { type: "bar", label: load.getAttribute("data-load-label") || "", data: data.carga.values,
          backgroundColor: data.carga.values.map(function (v) { return v > cap ? "#c62828" : BLUE; }) },
        { type: "line", label: (load.getAttribute("data-cap-label") || "") + " " + cap,
          data: data.carga.labels.map(function () { return cap; }), borderColor: "#c62828", borderDash: [6, 4],
          pointRadius: 0, borderWidth: 2 }
      ] },
      options: { scales: { y: { beginAtZero: true, suggestedMax: cap + 5, ticks: { precision: 0 } } },
        plugins: { legend: { labels: { filter: function (item) { return item.text; } } } } }
    });
  }
  make("chart-regiones", {
    type: "bar",
    data: { labels: data.regiones.labels, datasets: data.regiones.datasets.map(function (d) {
      return { label: d.label, data: d.values, backgroundColor: COLOURS[d.key] || BLUE };
    }) },
    options: { scales: { x: { stacked: true }, y: Object.assign({ stacked: true }, integer) } }
  });
  document.body.setAttribute("data-charts-ready", "1");
})();
