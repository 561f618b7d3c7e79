// The bpmn-js viewer of the app: `window.CpeDiagram` opens a diagram in a container and offers
// the helpers the pages share (markers, focusing a wide diagram, showing a failure); the process
// heatmap (heatmap.js) builds on it. On the case page it renders the case's process version and
// highlights the path taken, the current step(s) and a failed step, from /casos/<id>/recorrido.json.
(function () {
  "use strict";
  if (!window.BpmnJS) { return; }

  function open(container, xmlUrl) {
    var viewer = new window.BpmnJS({ container: container });
    return fetch(xmlUrl, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) { throw new Error("HTTP " + r.status); }
      return r.text();
    }).then(function (xml) {
      return viewer.importXML(xml);
    }).then(function () { return viewer; });
  }

  function mark(viewer, ids, marker) {
    var canvas = viewer.get("canvas"), registry = viewer.get("elementRegistry");
    ids.forEach(function (id) {
      if (registry.get(id)) { canvas.addMarker(id, marker); }
    });
  }

  // Fit the diagram; if that makes it too small to read, show the neighbourhood of `focusId`.
  function fit(viewer, focusId) {
    var canvas = viewer.get("canvas");
    var focus = focusId && viewer.get("elementRegistry").get(focusId);
    canvas.zoom("fit-viewport");
    if (focus && canvas.zoom() < 0.6) {
      var outer = canvas.viewbox().outer;
      var width = outer.width / 0.75, height = outer.height / 0.75;
      var cx = focus.x + (focus.width || 0) / 2, cy = focus.y + (focus.height || 0) / 2;
      canvas.viewbox({ x: cx - width * 0.4, y: cy - height / 2, width: width, height: height });
    }
  }

  function fail(container, err) {
    container.setAttribute("data-error", String(err && err.message || err));
    container.textContent = container.getAttribute("data-error-text");
  }

  window.CpeDiagram = { open: open, mark: mark, fit: fit, fail: fail };

  var container = document.getElementById("case-diagram");
  if (!container) { return; }
  var base = container.getAttribute("data-base");
  var path = fetch(base + "/recorrido.json", { credentials: "same-origin" }).then(function (r) { return r.json(); });

  Promise.all([open(container, base + "/diagrama.bpmn"), path]).then(function (results) {
    var viewer = results[0], steps = results[1];
    var registry = viewer.get("elementRegistry");
    var done = steps.done.slice();
    // a sequence flow is "taken" when both of its ends were reached
    var reached = new Set(done.concat(steps.current));
    registry.filter(function (e) { return e.type === "bpmn:SequenceFlow"; }).forEach(function (flow) {
      if (reached.has(flow.source.id) && reached.has(flow.target.id)) { done.push(flow.id); }
    });
    mark(viewer, done, "cpe-done");
    mark(viewer, steps.current, "cpe-current");
    mark(viewer, steps.failed, "cpe-failed");
    // Wide diagrams: show the neighbourhood of where the case stands (drag and zoom to see the rest).
    fit(viewer, steps.failed[0] || steps.current[0] || steps.done[steps.done.length - 1]);
    container.setAttribute("data-ready", "1");
  }).catch(function (err) { fail(container, err); });
})();
