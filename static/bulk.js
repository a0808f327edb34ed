// The campaign's enrollment list (form[data-bulk]): "select all on this page", a live
// "3 selected" count, and the question htmx asks (hx-confirm) before it posts the action,
// kept up to date with the selection. Without this script the form still works: the
// server answers a confirmation page. The words come from the page (data-one/-other).
(function () {
  "use strict";
  function rows(form) { return form.querySelectorAll("input[name=enrollment_ids]"); }

  function update(form) {
    var boxes = rows(form), n = 0;
    boxes.forEach(function (box) { if (box.checked) n += 1; });
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
    var count = form.querySelector("[data-bulk-count]");
    if (count) {
      count.hidden = false;
      count.textContent = n + " selected";
    }
    var apply = form.querySelector("[data-bulk-apply]");
    if (apply) apply.disabled = n === 0;
    var action = form.querySelector("select[name=action]");
    if (action) {
      var verb = action.options[action.selectedIndex].text;
      var noun = n === 1 ? form.dataset.one : form.dataset.other;
      var note = action.value === "drop" ? form.dataset.noteDrop : form.dataset.noteComplete;
      form.setAttribute("hx-confirm", verb + " " + n + " " + noun + "? " + note);
    }
  }

  document.addEventListener("change", function (event) {
    var form = event.target.closest("form[data-bulk]");
    if (!form) return;
    if (event.target.matches("[data-select-all]")) {
      rows(form).forEach(function (box) { box.checked = event.target.checked; });
    }
    update(form);
  });
  function init() { document.querySelectorAll("form[data-bulk]").forEach(update); }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init); // the list was filtered or paged
})();
