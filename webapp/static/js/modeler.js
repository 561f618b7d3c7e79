// The analysts' BPMN editor: bpmn-js Modeler (npm) with a side panel for what this project's
// diagrams use — forms of user tasks, service-task operators and their parameters (picked from
// the engine's registry), called decisions, conditions, timers, scripts, lanes as roles — plus
// validation shown on the diagram and deploy with a message. Everything it writes is plain
// BPMN 2.0 with the SpiffWorkflow extensions, so files stay portable to SpiffArena.
(function () {
  "use strict";
  var app = document.getElementById("modeler-app");
  if (!app || !window.BpmnJS) { return; }
  var T = JSON.parse(document.getElementById("modeler-i18n").innerHTML);
  var panel = document.getElementById("modeler-panel");
  var result = document.getElementById("modeler-result");
  var csrf = app.getAttribute("data-csrf");
  var catalog = { operators: [], forms: [], decisions: [], roles: [] };
  var modeler, moddle, modeling, registry, canvas, problemIds = [];

  // -- small DOM helpers (text only: nothing typed is ever parsed as HTML) -----------------
  var el = window.CPEEditor.el;
  function field(label, input, help) {
    return el("div", { "class": "field" }, [el("label", { text: label }), input,
      help ? el("p", { "class": "help", text: help }) : null]);
  }
  function textInput(value, onChange, attrs) {
    var input = el("input", Object.assign({ type: "text" }, attrs || {}));
    input.value = value || "";
    input.addEventListener("change", function () { onChange(input.value.trim()); });
    return input;
  }
  function textArea(value, onChange) {
    var input = el("textarea", { rows: "4" });
    input.value = value || "";
    input.addEventListener("change", function () { onChange(input.value); });
    return input;
  }
  function select(options, value, onChange, blank) {
    var input = el("select");
    if (blank !== undefined) { input.appendChild(el("option", { value: "", text: blank })); }
    options.forEach(function (o) {
      var option = el("option", { value: o, text: o });
      if (o === value) { option.selected = true; }
      input.appendChild(option);
    });
    if (value && options.indexOf(value) < 0) {
      var unknown = el("option", { value: value, text: value + " (?)" });
      unknown.selected = true;
      input.appendChild(unknown);
    }
    input.addEventListener("change", function () { onChange(input.value); });
    return input;
  }

  // -- the SpiffWorkflow extensions --------------------------------------------------------
  function extensions(bo, create) {
    if (!bo.extensionElements && create) {
      bo.extensionElements = moddle.create("bpmn:ExtensionElements", { values: [] });
      bo.extensionElements.$parent = bo;
    }
    return bo.extensionElements;
  }
  function findExt(bo, type) {
    var ext = extensions(bo, false);
    return ext && (ext.values || []).filter(function (v) { return v.$type === type; })[0];
  }
  function ensureExt(bo, type, attrs) {
    var found = findExt(bo, type);
    if (!found) {
      var ext = extensions(bo, true);
      found = moddle.create(type, attrs || {});
      found.$parent = ext;
      ext.values = (ext.values || []).concat([found]);
    }
    return found;
  }
  function removeExt(bo, type) {
    var ext = extensions(bo, false);
    if (ext) { ext.values = (ext.values || []).filter(function (v) { return v.$type !== type; }); }
  }
  function commit(element) {
    // one command on the stack, so the change is undoable and the diagram knows it changed
    modeling.updateProperties(element, { extensionElements: element.businessObject.extensionElements });
  }
  function getProperty(bo, name) {
    var props = findExt(bo, "spiffworkflow:Properties");
    var prop = props && (props.properties || []).filter(function (p) { return p.name === name; })[0];
    return prop ? prop.value : "";
  }
  function setProperty(element, name, value) {
    var bo = element.businessObject;
    var props = ensureExt(bo, "spiffworkflow:Properties");
    var list = (props.properties || []).filter(function (p) { return p.name !== name; });
    if (value) {
      var prop = moddle.create("spiffworkflow:Property", { name: name, value: value });
      prop.$parent = props;
      list.push(prop);
    }
    props.properties = list;
    if (!list.length) { removeExt(bo, "spiffworkflow:Properties"); }
    commit(element);
  }
  function formFile(key) { return key ? key + ".json" : ""; }
  function formKey(file) { return (file || "").replace(/\.json$/, ""); }

  // -- panel sections per element type ----------------------------------------------------
  function formSection(element, label) {
    return field(label, select(catalog.forms, formKey(getProperty(element.businessObject, "formJsonSchemaFilename")),
      function (v) { setProperty(element, "formJsonSchemaFilename", formFile(v)); }, T.none));
  }
  function userTaskSection(element) {
    var bo = element.businessObject;
    return [formSection(element, T.form),
      field(T.assignee, textInput(getProperty(bo, "asignadoA"), function (v) { setProperty(element, "asignadoA", v); })),
      field(T.due, textInput(getProperty(bo, "plazo"), function (v) { setProperty(element, "plazo", v); }))];
  }
  function serviceTaskSection(element) {
    var bo = element.businessObject;
    var op = findExt(bo, "spiffworkflow:ServiceTaskOperator");
    var opId = op ? op.id : "";
    var spec = catalog.operators.filter(function (o) { return o.id === opId; })[0];
    var nodes = [field(T.operator, select(catalog.operators.map(function (o) { return o.id; }), opId, function (v) {
      removeExt(bo, "spiffworkflow:ServiceTaskOperator");
      if (v) {
        var created = ensureExt(bo, "spiffworkflow:ServiceTaskOperator", { id: v, resultVariable: op && op.resultVariable || "" });
        created.parameters = moddle.create("spiffworkflow:Parameters", { parameter: [] });
        created.parameters.$parent = created;
      }
      commit(element);
      render(element);
    }, T.none), spec ? spec.description : "")];
    if (op) {
      nodes.push(field(T.result, textInput(op.resultVariable, function (v) { op.resultVariable = v; commit(element); })));
      var values = {};
      ((op.parameters && op.parameters.parameter) || []).forEach(function (p) { values[p.id] = p.value; });
      var box = el("fieldset", { "class": "group" }, [el("legend", { text: T.params })]);
      (spec ? spec.params : Object.keys(values)).forEach(function (name) {
        var optional = spec && spec.optional.indexOf(name) >= 0;
        box.appendChild(field(name + (optional ? " (" + T.optional + ")" : ""), textInput(values[name], function (v) {
          if (!op.parameters) {
            op.parameters = moddle.create("spiffworkflow:Parameters", { parameter: [] });
            op.parameters.$parent = op;
          }
          var list = (op.parameters.parameter || []).filter(function (p) { return p.id !== name; });
          if (v) {
            var param = moddle.create("spiffworkflow:Parameter", { id: name, type: "any", value: v });
            param.$parent = op.parameters;
            list.push(param);
          }
          op.parameters.parameter = list;
          commit(element);
        }, { "data-param": name })));
      });
      nodes.push(box);
    }
    nodes.push(el("fieldset", { "class": "group" }, [el("legend", { text: T.failures })].concat(
      [["reintentos", T.retries], ["espera_reintento", T.retryWait], ["tiempo_limite", T.timeLimit]].map(function (p) {
        return field(p[1], textInput(getProperty(bo, p[0]), function (v) { setProperty(element, p[0], v); },
          { "data-property": p[0] }));
      }))));
    return nodes;
  }
  function ruleTaskSection(element) {
    var bo = element.businessObject;
    var called = findExt(bo, "spiffworkflow:CalledDecisionId");
    return [field(T.decision, select(catalog.decisions, called ? called.value : "", function (v) {
      removeExt(bo, "spiffworkflow:CalledDecisionId");
      if (v) { ensureExt(bo, "spiffworkflow:CalledDecisionId", { value: v }); }
      commit(element);
    }, T.none))];
  }
  function expression(body) { return body ? moddle.create("bpmn:FormalExpression", { body: body }) : undefined; }
  function flowSection(element) {
    var bo = element.businessObject, source = bo.sourceRef;
    if (!source || !/Gateway$/.test(source.$type) || source.$type === "bpmn:ParallelGateway") { return []; }
    if (source.default === bo) { return [el("p", { "class": "help", text: T["default"] })]; }
    return [field(T.condition, textInput(bo.conditionExpression && bo.conditionExpression.body, function (v) {
      modeling.updateProperties(element, { conditionExpression: expression(v) });
    }))];
  }
  function timerSection(element) {
    var bo = element.businessObject;
    var timer = (bo.eventDefinitions || []).filter(function (d) { return d.$type === "bpmn:TimerEventDefinition"; })[0];
    if (!timer) { return []; }
    var kinds = { timeDuration: T.duration, timeDate: T.date, timeCycle: T.cycle };
    var kind = Object.keys(kinds).filter(function (k) { return timer[k]; })[0] || "timeDuration";
    var current = timer[kind] ? timer[kind].body : "";
    function update(newKind, body) {
      var props = { timeDuration: undefined, timeDate: undefined, timeCycle: undefined };
      props[newKind] = expression(body);
      modeling.updateModdleProperties(element, timer, props);
    }
    var kindSelect = select(Object.keys(kinds), kind, function (v) { update(v, current); render(element); });
    Array.prototype.forEach.call(kindSelect.options, function (o) { o.textContent = kinds[o.value]; });
    return [el("fieldset", { "class": "group" }, [el("legend", { text: T.timer }), field(T.timer, kindSelect),
      field(T.expression, textInput(current, function (v) { update(kind, v); }))])];
  }
  function scriptSection(element) {
    return [field(T.script, textArea(element.businessObject.script, function (v) {
      modeling.updateProperties(element, { script: v });
    }))];
  }
  function laneSection(element) {
    return [field(T.role, select(catalog.roles, element.businessObject.id, function (v) {
      if (v) { modeling.updateProperties(element, { id: v }); render(element); }
    }))];
  }

  function render(element) {
    var root = canvas.getRootElement();
    if (!root || !root.businessObject) { return; }  // still importing
    panel.textContent = "";
    if (!element || element === root) {
      var process = root.businessObject.processRef || root.businessObject;
      panel.appendChild(el("h2", { text: T.process }));
      panel.appendChild(field(T.id, textInput(process.id, function (v) {
        if (v) { modeling.updateModdleProperties(root, process, { id: v }); }
      }, { "data-prop": "process-id" })));
      panel.appendChild(field(T.name, textInput(process.name, function (v) {
        modeling.updateModdleProperties(root, process, { name: v });
      })));
      panel.appendChild(el("p", { "class": "help", text: T.nothing }));
      return;
    }
    var bo = element.businessObject, type = bo.$type.replace("bpmn:", "");
    panel.appendChild(el("h2", { text: (T.types || {})[type] || type }));
    panel.appendChild(el("p", { "class": "muted small", text: T.id + ": " + bo.id }));
    if (type !== "Lane" && element.type !== "label") {
      panel.appendChild(field(T.name, textInput(bo.name, function (v) { modeling.updateLabel(element, v); },
        { "data-prop": "name" })));
    }
    var sections = [];
    if (type === "UserTask") { sections = userTaskSection(element); }
    else if (type === "ServiceTask") { sections = serviceTaskSection(element); }
    else if (type === "BusinessRuleTask") { sections = ruleTaskSection(element); }
    else if (type === "SequenceFlow") { sections = flowSection(element); }
    else if (type === "ScriptTask") { sections = scriptSection(element); }
    else if (type === "Lane") { sections = laneSection(element).concat([field(T.name, textInput(bo.name, function (v) {
      modeling.updateLabel(element, v); }))]); }
    else if (type === "StartEvent") { sections = [formSection(element, T.startForm)].concat(timerSection(element)); }
    else if (/Event$/.test(type)) { sections = timerSection(element); }
    sections.forEach(function (node) { panel.appendChild(node); });
  }

  // -- validate, deploy, download -----------------------------------------------------------
  function showProblems(problems) {
    problemIds.forEach(function (m) { if (registry.get(m[0])) { canvas.removeMarker(m[0], m[1]); } });
    problemIds = [];
    result.textContent = "";
    var errors = problems.filter(function (p) { return p.severity !== "warning"; });
    var warnings = problems.filter(function (p) { return p.severity === "warning"; });
    if (errors.length) { result.appendChild(problemBox(errors, "cpe-problem", "flash flash-error", T.problems)); }
    if (warnings.length) { result.appendChild(problemBox(warnings, "cpe-warning", "flash flash-warning", T.warnings)); }
  }
  // warnings (severity "warning") are told apart: they do not stop a deploy
  function problemBox(problems, marker, boxClass, title) {
    var list = el("ul");
    problems.forEach(function (p) {
      var item = el("li", { text: p.text });
      if (p.element_id && registry.get(p.element_id)) {
        canvas.addMarker(p.element_id, marker);
        problemIds.push([p.element_id, marker]);
        item.classList.add("clickable");
        item.addEventListener("click", function () {
          modeler.get("selection").select(registry.get(p.element_id));
        });
      }
      list.appendChild(item);
    });
    return el("div", { "class": boxClass }, [el("strong", { text: title }), list]);
  }
  function post(url, body) { return window.CPEEditor.postJson(url, body, csrf); }
  function currentXml() { return modeler.saveXML({ format: true }).then(function (r) { return r.xml; }); }
  function filename() {
    var root = canvas.getRootElement().businessObject;
    var process = root.processRef || root;
    return (process.id || "proceso") + ".bpmn";
  }
  document.getElementById("btn-validate").addEventListener("click", function () {
    currentXml().then(function (xml) { return post(app.getAttribute("data-validate"), { xml: xml, filename: filename() }); })
      .then(function (r) {
        showProblems(r.problems || []);
        if (r.ok) { result.appendChild(el("div", { "class": "flash flash-success", text: T.valid })); }
        app.setAttribute("data-validated", r.ok ? "ok" : "problems");
      }).catch(function () { result.textContent = T.error; });
  });
  document.getElementById("btn-deploy").addEventListener("click", function () {
    var message = document.getElementById("deploy-message").value.trim();
    currentXml().then(function (xml) {
      return post(app.getAttribute("data-deploy"), { xml: xml, filename: filename(), message: message });
    }).then(function (r) {
      showProblems((r.problems || []).concat(r.warnings || []));
      if (r.ok) {
        var list = el("ul");
        r.results.forEach(function (x) {
          list.appendChild(el("li", { text: x.key + " v" + x.version + " — " + (x.created ? T.newVersion : T.unchanged) }));
        });
        var box = el("div", { "class": "flash flash-success" }, [el("strong", { text: T.deployed }), list]);
        if (r.url) { box.appendChild(el("a", { href: r.url, "class": "button", text: T.open })); }
        result.appendChild(box);
        app.setAttribute("data-deployed", "1");
      }
    }).catch(function () { result.textContent = T.error; });
  });
  document.getElementById("btn-download").addEventListener("click", function () {
    currentXml().then(function (xml) {
      var link = el("a", { href: URL.createObjectURL(new Blob([xml], { type: "application/xml" })), download: filename() });
      document.body.appendChild(link);
      link.click();
      link.remove();
    });
  });

  // -- start ---------------------------------------------------------------------------------
  Promise.all([
    fetch(app.getAttribute("data-catalog"), { credentials: "same-origin" }).then(function (r) { return r.json(); }),
    fetch(app.getAttribute("data-moddle"), { credentials: "same-origin" }).then(function (r) { return r.json(); }),
    app.getAttribute("data-source") ? fetch(app.getAttribute("data-source"), { credentials: "same-origin" })
      .then(function (r) { return r.text(); }) : Promise.resolve(null)
  ]).then(function (loaded) {
    catalog = loaded[0];
    modeler = new window.BpmnJS({ container: "#modeler-canvas", moddleExtensions: { spiffworkflow: loaded[1] } });
    app.bpmnModeler = modeler;  // for browser tests and the developer console
    moddle = modeler.get("moddle");
    modeling = modeler.get("modeling");
    registry = modeler.get("elementRegistry");
    canvas = modeler.get("canvas");
    modeler.on("selection.changed", function (e) { render(e.newSelection.length === 1 ? e.newSelection[0] : null); });
    return (loaded[2] ? modeler.importXML(loaded[2]) : modeler.createDiagram()).then(function () {
      canvas.zoom("fit-viewport");
      if (canvas.zoom() < 0.6) {  // a wide diagram: start readable, at its left edge
        var box = canvas.viewbox(), outer = box.outer;
        canvas.viewbox({ x: box.inner.x - 20, y: box.inner.y - 20, width: outer.width / 0.8, height: outer.height / 0.8 });
      }
      render(null);
      app.setAttribute("data-ready", "1");
    });
  }).catch(function (err) {
    panel.textContent = T.loadError + " " + (err && err.message || "");
  });
})();
