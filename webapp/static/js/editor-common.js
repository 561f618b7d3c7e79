// Helpers shared by the analysts' editors (modeler.js, dmn-editor.js, form-editor.js).
// `el` builds DOM nodes from text only (nothing typed is ever parsed as HTML); `postJson` sends
// JSON with the page's CSRF token and gives back the JSON answer, or `fallback` if there is none.
(function () {
  "use strict";
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) {
      if (k === "text") { node.textContent = attrs[k]; } else { node.setAttribute(k, attrs[k]); }
    });
    (children || []).forEach(function (c) { if (c) { node.appendChild(c); } });
    return node;
  }
  function postJson(url, body, csrf, fallback) {
    return fetch(url, { method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf }, body: JSON.stringify(body) })
      .then(function (r) {
        return r.json().catch(function () {
          if (fallback === undefined) { throw new Error("respuesta no JSON (" + r.status + ")"); }
          return fallback;
        });
      });
  }
  window.CPEEditor = { el: el, postJson: postJson };
})();
