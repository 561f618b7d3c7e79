// The analysts' decision editor: dmn-js Modeler (npm) opened on the decision table, a side panel
// for the decision's id and name with a cheat sheet of the cell syntax the engine runs, server-side
// validation (XSD, hit policy, every cell through the expression sandbox) marked on the table,
// and deploy with a message through the same path as an uploaded file.
(function () {
  "use strict";
  var app = document.getElementById("dmn-app");
  if (!app || !window.DmnJS) { return; }
  var T = JSON.parse(document.getElementById("editor-i18n").innerHTML);
  var csrf = app.getAttribute("data-csrf");
  var result = document.getElementById("editor-result");
  var idInput = document.getElementById("decision-id");
  var nameInput = document.getElementById("decision-name");
  var words = T.dmn || {};
  function translate(template, replacements) {  // dmn-js labels in the page's language
    var values = replacements || {};
    return (words[template] || template).replace(/{([^}]+)}/g, function (match, key) {
      return values[key] !== undefined ? values[key] : match;
    });
  }
  var translation = { additionalModules: [{ translate: ["value", translate] }] };  // per view: dmn-js
  var modeler = new window.DmnJS({ container: "#dmn-canvas", drd: translation, decisionTable: translation,
    literalExpression: translation, boxedExpression: translation });
  app.dmnModeler = modeler;  // for browser tests and the developer console
  var problemCells = [];

  var el = window.CPEEditor.el;
  function post(url, body) {
    return window.CPEEditor.postJson(url, body, csrf, { ok: false, problems: [{ text: T.error }] });
  }
  function decision() {
    var defs = modeler.getDefinitions();
    return defs && (defs.drgElement || []).filter(function (e) { return e.$type === "dmn:Decision"; })[0];
  }
  function openTable() {
    var d = decision();
    var view = modeler.getViews().filter(function (v) { return v.type === "decisionTable" && (!d || v.element === d); })[0];
    if (!view) { throw new Error(T.noTable); }
    return modeler.open(view);
  }
  function filename() {
    var d = decision();
    return app.getAttribute("data-filename") || ((d && d.id) || "decision") + ".dmn";
  }
  function currentXml() { return modeler.saveXML({ format: true }).then(function (r) { return r.xml; }); }

  idInput.addEventListener("change", function () {
    var value = idInput.value.trim();
    var viewer = modeler.getActiveViewer();
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) { idInput.value = decision().id; return; }
    if (viewer && viewer.get && viewer.get("sheet", false)) { viewer.get("modeling").editDecisionTableId(value); }
    else { decision().id = value; }
  });
  nameInput.addEventListener("change", function () {
    var d = decision(), viewer = modeler.getActiveViewer();
    var value = nameInput.value.trim();
    if (!value) { nameInput.value = d.name || ""; return; }
    // through the table's own command, so its header shows it and undo works
    if (viewer && viewer.get && viewer.get("sheet", false)) {
      viewer.get("modeling").editDecisionTableName(value);
    } else {
      d.name = value;
    }
  });

  function clearMarks() {
    problemCells.forEach(function (node) { node.classList.remove("cpe-problem-cell"); });
    problemCells = [];
  }
  function describe(p) {
    if (p.message && p.line !== undefined) {
      var where = p.element || "";
      return (p.line ? T.line + " " + p.line + " · " : "") + (where ? where + ": " : "") + p.message;
    }
    return p.text;
  }
  function showProblems(problems) {
    clearMarks();
    result.textContent = "";
    if (!problems || !problems.length) { return; }
    var list = el("ul");
    problems.forEach(function (p) {
      var cells = p.element_id ? document.querySelectorAll("#dmn-canvas [data-element-id='" + CSS.escape(p.element_id) + "']") : [];
      // a cell marked on the table needs no XML line number
      var item = el("li", { text: cells.length ? p.message : describe(p) });
      Array.prototype.forEach.call(cells, function (cell) { cell.classList.add("cpe-problem-cell"); problemCells.push(cell); });
      if (cells.length) {
        item.classList.add("clickable");
        item.addEventListener("click", function () { cells[0].scrollIntoView({ block: "center", inline: "center" }); });
      }
      list.appendChild(item);
    });
    result.appendChild(el("div", { "class": "flash flash-error", role: "alert" }, [el("strong", { text: T.problems }), list]));
  }

  document.getElementById("btn-validate").addEventListener("click", function () {
    currentXml().then(function (xml) { return post(app.getAttribute("data-validate"), { xml: xml, filename: filename() }); })
      .then(function (r) {
        showProblems(r.problems);
        if (r.ok) { result.appendChild(el("div", { "class": "flash flash-success", text: T.valid })); }
        app.setAttribute("data-validated", r.ok ? "ok" : "problems");
      }).catch(function () { result.textContent = T.error; });
  });
  document.getElementById("btn-deploy").addEventListener("click", function () {
    var button = this;
    button.disabled = true;
    var message = document.getElementById("deploy-message").value.trim();
    currentXml().then(function (xml) {
      return post(app.getAttribute("data-deploy"), { xml: xml, filename: filename(), message: message,
        "new": app.hasAttribute("data-new") });
    }).then(function (r) {
      button.disabled = false;
      showProblems(r.problems);
      if (!r.ok) { return; }
      var list = el("ul");
      r.results.forEach(function (x) {
        list.appendChild(el("li", { text: x.key + " v" + x.version + " — " + (x.created ? T.newVersion : T.unchanged) }));
      });
      var box = el("div", { "class": "flash " + (r.created ? "flash-success" : "flash-info") }, [el("strong", { text: T.deployed }), list]);
      if (r.url) { box.appendChild(el("a", { href: r.url, "class": "button", text: T.open })); }
      result.appendChild(box);
      app.setAttribute("data-deployed", r.created ? "created" : "unchanged");
      if (r.created && app.hasAttribute("data-new")) {  // from now on this editor edits that decision
        app.removeAttribute("data-new");
        app.setAttribute("data-filename", filename());
        idInput.readOnly = true;
      }
    }).catch(function () { button.disabled = false; result.textContent = T.error; });
  });
  document.getElementById("btn-download").addEventListener("click", function () {
    currentXml().then(function (xml) {
      var link = el("a", { href: URL.createObjectURL(new Blob([xml], { type: "application/xml" })), download: filename() });
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  });

  fetch(app.getAttribute("data-source"), { credentials: "same-origin" })
    .then(function (r) { return r.text(); })
    .then(function (xml) { return modeler.importXML(xml); })
    .then(openTable)
    .then(function () {
      var d = decision();
      idInput.value = d.id;
      nameInput.value = d.name || "";
      modeler.on("views.changed", function () {
        var current = decision();
        if (current) { nameInput.value = current.name || ""; }
      });
      app.setAttribute("data-ready", "1");
    })
    .catch(function (err) {
      result.appendChild(el("div", { "class": "flash flash-error", text: T.loadError + " " + (err && err.message || "") }));
    });
})();
