// Attendance on a tablet: keeps the "n of m present" counter current while companies are
// ticked, and flags the save bar until the changes are saved. The form works without it.
(function () {
  "use strict";
  var form = document.getElementById("attendance-form");
  if (!form) { return; }
  var counter = form.querySelector("[data-present]");
  var bar = form.querySelector(".attendance-bar");
  var boxes = form.querySelectorAll('input[name="presente"]');

  form.addEventListener("change", function () {
    var present = 0;
    boxes.forEach(function (box) { if (box.checked) { present += 1; } });
    if (counter) { counter.textContent = String(present); }
    if (bar) { bar.classList.add("unsaved"); }
  });
})();
