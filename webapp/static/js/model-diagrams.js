// Draws each .model-diagram with bpmn-js and marks the elements listed in its
// data-added / data-removed / data-changed attributes (version comparison).
(function () {
  "use strict";
  if (!window.BpmnJS) { return; }

  // Wide diagrams: show the changed elements at a readable size (drag and zoom for the rest).
  function focus(canvas, elements) {
    var xs = [], ys = [];
    elements.forEach(function (e) {
      (e.waypoints || [e]).forEach(function (p) {
        xs.push(p.x); xs.push(p.x + (p.width || 0)); ys.push(p.y); ys.push(p.y + (p.height || 0));
      });
    });
    var outer = canvas.viewbox().outer, pad = 120;
    var width = Math.max(Math.max.apply(null, xs) - Math.min.apply(null, xs) + 2 * pad, outer.width / 0.9);
    var height = width * outer.height / outer.width;
    var cx = (Math.max.apply(null, xs) + Math.min.apply(null, xs)) / 2;
    var cy = (Math.max.apply(null, ys) + Math.min.apply(null, ys)) / 2;
    canvas.viewbox({ x: cx - width / 2, y: cy - height / 2, width: width, height: height });
  }
  document.querySelectorAll(".model-diagram").forEach(function (container) {
    var viewer = new window.BpmnJS({ container: container });
    fetch(container.getAttribute("data-src"), { credentials: "same-origin" })
      .then(function (r) { return r.text(); })
      .then(function (xml) { return viewer.importXML(xml); })
      .then(function () {
        var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry"), marked = [];
        ["added", "removed", "changed"].forEach(function (kind) {
          (container.getAttribute("data-" + kind) || "").split(" ").forEach(function (id) {
            var element = id && registry.get(id);
            if (element) { canvas.addMarker(id, "cpe-" + kind); marked.push(element); }
          });
        });
        canvas.zoom("fit-viewport");
        if (marked.length && canvas.zoom() < 0.7) { focus(canvas, marked); }
        container.setAttribute("data-ready", "1");
      })
      .catch(function (err) {
        container.setAttribute("data-error", String(err && err.message || err));
        container.textContent = container.getAttribute("data-error-text");
      });
  });
})();
