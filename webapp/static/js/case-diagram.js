// Renders the case's process version with bpmn-js and highlights the path taken,
// the current step(s) and a failed step. Data comes from /casos/<id>/recorrido.json.
(function () {
  "use strict";
  var container = document.getElementById("case-diagram");
  if (!container || !window.BpmnJS) { return; }
  var base = container.getAttribute("data-base");
  var viewer = new window.BpmnJS({ container: container });

  function mark(canvas, registry, ids, marker) {
    ids.forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, marker); }
    });
  }

  Promise.all([
    fetch(base + "/diagrama.bpmn", { credentials: "same-origin" }).then(function (r) { return r.text(); }),
    fetch(base + "/recorrido.json", { credentials: "same-origin" }).then(function (r) { return r.json(); })
  ]).then(function (results) {
    return viewer.importXML(results[0]).then(function () { return results[1]; });
  }).then(function (path) {
    var canvas = viewer.get("canvas");
    var registry = viewer.get("elementRegistry");
    var done = path.done.slice();
    // a sequence flow is "taken" when both of its ends were reached
    var reached = new Set(done.concat(path.current));
    registry.filter(function (e) { return e.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
      if (reached.has(flow.source.id) && reached.has(flow.target.id)) { done.push(flow.id); }
    });
    mark(canvas, registry, done, "cpe-done");
    mark(canvas, registry, path.current, "cpe-current");
    mark(canvas, registry, path.failed, "cpe-failed");
    // Wide diagrams: show the neighbourhood of where the case stands (drag and zoom to see the rest).
    var focusId = path.failed[0] || path.current[0] || path.done[path.done.length - 1];
    var focus = focusId && registry.get(focusId);
    canvas.zoom("fit-viewport");
    if (focus && canvas.zoom() < 0.6) {
      var outer = canvas.viewbox().outer;
      var width = outer.width / 0.75, height = outer.height / 0.75;
      var cx = focus.x + (focus.width || 0) / 2, cy = focus.y + (focus.height || 0) / 2;
      canvas.viewbox({ x: cx - width * 0.4, y: cy - height / 2, width: width, height: height });
    }
    container.setAttribute("data-ready", "1");
  }).catch(function (err) {
    container.setAttribute("data-error", String(err && err.message || err));
    container.textContent = container.getAttribute("data-error-text");
  });
})();
