// The analysts' form editor: a JSON textarea (line numbers, cursor position, two-space
// indentation with Tab, Enter keeps the indentation, "Dar formato") and a live preview rendered
// by the server with the same macro as the task pages. Typing is debounced; stale answers are
// dropped; the preview never stores anything. Deploy sends the JSON with a message.
(function () {
  "use strict";
  var app = document.getElementById("form-editor");
  if (!app) { return; }
  var T = JSON.parse(document.getElementById("editor-i18n").innerHTML);
  var csrf = app.getAttribute("data-csrf");
  var area = document.getElementById("form-json");
  var gutter = document.getElementById("form-gutter");
  var cursor = document.getElementById("form-cursor");
  var problemsBox = document.getElementById("form-problems");
  var preview = document.getElementById("form-preview");
  var state = document.getElementById("preview-state");
  var result = document.getElementById("editor-result");
  var timer = null, sequence = 0, lines = 0, saved = area.value;

  var el = window.CPEEditor.el;
  function post(url, body) {
    return window.CPEEditor.postJson(url, body, csrf, { ok: false, problems: [{ text: T.error }] });
  }

  // -- editor ergonomics ----------------------------------------------------------------------
  function updateGutter() {
    var count = area.value.split("\n").length;
    if (count !== lines) {
      var numbers = [];
      for (var i = 1; i <= count; i++) { numbers.push(i); }
      gutter.textContent = numbers.join("\n");
      lines = count;
    }
    gutter.scrollTop = area.scrollTop;
  }
  function position(offset) {
    var before = area.value.slice(0, offset).split("\n");
    return { line: before.length, column: before[before.length - 1].length + 1 };
  }
  function updateCursor() {
    var p = position(area.selectionStart);
    cursor.textContent = T.line + " " + p.line + ", " + T.column + " " + p.column;
  }
  function goTo(line, column) {
    var rows = area.value.split("\n"), offset = 0;
    for (var i = 0; i < Math.min(line - 1, rows.length); i++) { offset += rows[i].length + 1; }
    offset += Math.max((column || 1) - 1, 0);
    area.focus();
    area.setSelectionRange(offset, offset);
    var lineHeight = parseFloat(getComputedStyle(area).lineHeight) || 18;
    area.scrollTop = Math.max(0, (line - 5) * lineHeight);
    updateCursor();
    updateGutter();
  }
  function insert(text) {
    // execCommand keeps the browser's undo history; fall back to setRangeText
    if (!document.execCommand || !document.execCommand("insertText", false, text)) {
      area.setRangeText(text, area.selectionStart, area.selectionEnd, "end");
    }
  }
  area.addEventListener("keydown", function (e) {
    if (e.key === "Tab" && !e.ctrlKey && !e.altKey && !e.metaKey) {
      var start = area.selectionStart, lineStart = area.value.lastIndexOf("\n", start - 1) + 1;
      if (e.shiftKey) {
        if (area.value.slice(lineStart, lineStart + 2) === "  ") {
          area.setSelectionRange(lineStart, lineStart + 2);
          insert("");
          area.setSelectionRange(Math.max(lineStart, start - 2), Math.max(lineStart, start - 2));
        }
      } else {
        insert("  ");
      }
      e.preventDefault();
    } else if (e.key === "Enter" && !e.shiftKey && !e.ctrlKey && !e.altKey) {
      var pos = area.selectionStart, from = area.value.lastIndexOf("\n", pos - 1) + 1;
      var indent = /^\s*/.exec(area.value.slice(from, pos))[0];
      var prev = area.value.slice(0, pos).trimEnd().slice(-1);
      if (prev === "{" || prev === "[") { indent += "  "; }
      insert("\n" + indent);
      e.preventDefault();
    }
  });
  area.addEventListener("scroll", function () { gutter.scrollTop = area.scrollTop; });
  ["keyup", "click", "select"].forEach(function (ev) { area.addEventListener(ev, updateCursor); });
  document.getElementById("btn-format").addEventListener("click", function () {
    try {
      var formatted = JSON.stringify(JSON.parse(area.value), null, 2) + "\n";
      area.focus();
      area.select();
      insert(formatted);
      area.setSelectionRange(0, 0);
      area.scrollTop = 0;
    } catch (err) {
      refresh();  // the server explains where the JSON is broken
    }
  });

  // -- problems and preview ---------------------------------------------------------------------
  function showProblems(box, problems) {
    box.textContent = "";
    if (!problems || !problems.length) { return; }
    var list = el("ul");
    problems.forEach(function (p) {
      var item = el("li", { text: p.text });
      if (p.line) {
        var link = el("button", { type: "button", "class": "linklike", text: T.goTo });
        link.addEventListener("click", function () { goTo(p.line, p.column); });
        item.appendChild(document.createTextNode(" "));
        item.appendChild(link);
      }
      list.appendChild(item);
    });
    box.appendChild(el("div", { "class": "flash flash-error", role: "alert" }, [el("strong", { text: T.problems }), list]));
  }
  function setState(name, text) {
    state.setAttribute("data-state", name);
    state.textContent = text;
    app.setAttribute("data-preview-state", name);
  }
  function refresh() {
    var mine = ++sequence;
    setState("loading", T.updating);
    post(app.getAttribute("data-preview"), { json: area.value }).then(function (r) {
      if (mine !== sequence) { return; }  // the analyst kept typing: a newer answer is on its way
      if (r.ok) {
        preview.innerHTML = r.html;  // rendered and escaped by the server's templates
        showProblems(problemsBox, []);
        setState("ok", T.valid);
      } else {
        showProblems(problemsBox, r.problems);
        preview.classList.add("stale");
        setState("invalid", T.invalid);
        return;
      }
      preview.classList.remove("stale");
    }).catch(function () {
      if (mine === sequence) { setState("invalid", T.error); }
    });
  }
  area.addEventListener("input", function () {
    updateGutter();
    updateCursor();
    clearTimeout(timer);
    setState("loading", T.updating);
    timer = setTimeout(refresh, 350);
  });
  preview.addEventListener("submit", function (e) { e.preventDefault(); });

  // -- deploy -------------------------------------------------------------------------------------
  document.getElementById("btn-deploy").addEventListener("click", function () {
    var button = this;
    button.disabled = true;
    result.textContent = "";
    post(app.getAttribute("data-deploy"), {
      json: area.value, key: document.getElementById("form-key").value.trim(),
      message: document.getElementById("deploy-message").value.trim(), "new": app.hasAttribute("data-new")
    }).then(function (r) {
      button.disabled = false;
      if (!r.ok) { showProblems(result, r.problems); return; }
      var list = el("ul");
      r.results.forEach(function (x) {
        list.appendChild(el("li", { text: x.key + " v" + x.version + " — " + (x.created ? T.newVersion : T.unchanged) }));
      });
      var box = el("div", { "class": "flash " + (r.created ? "flash-success" : "flash-info") }, [el("strong", { text: T.deployed }), list]);
      if (r.url) { box.appendChild(el("a", { href: r.url, "class": "button", text: T.open })); }
      result.appendChild(box);
      app.setAttribute("data-deployed", r.created ? "created" : "unchanged");
      saved = area.value;
      if (r.created) {  // from now on this editor edits that form
        app.removeAttribute("data-new");
        document.getElementById("form-key").readOnly = true;
      }
    }).catch(function () { button.disabled = false; result.textContent = T.error; });
  });

  window.addEventListener("beforeunload", function (e) {
    if (area.value !== saved) { e.preventDefault(); e.returnValue = ""; }  // unsaved edits: the browser asks
  });
  updateGutter();
  updateCursor();
  refresh();
})();
