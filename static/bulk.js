// The campaign's enrollment list (form[data-bulk]): "select all on this page", a live
// "3 selected" count, and the question htmx asks (hx-confirm) before it posts the action,
// kept up to date with the selection. Without this script the form still works: the
// server answers a confirmation page. The words come from the page, in the reader's language.
(function () {
  "use strict";
  var lang = document.documentElement.lang || "en";
  var plurals = new Intl.PluralRules(lang);
  function rows(form) { return form.querySelectorAll("input[name=enrollment_ids]"); }

  function update(form) {
    var boxes = rows(form), n = 0;
    boxes.forEach(function (box) { if (box.checked) n += 1; });
    var all = form.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && n === boxes.length;
      all.indeterminate = n > 0 && n < boxes.length;
    }
    var form_ = form.dataset, category = plurals.select(n);
    // The page gives each sentence once per plural category of its language
    // (data-selected-one/-few/-many/-other…), with {n} where the count goes.
    function say(name) {
      var key = name + category.charAt(0).toUpperCase() + category.slice(1);
      return (form_[key] || form_[name + "Other"] || "").replace("{n}", n.toLocaleString(lang));
    }
    var count = form.querySelector("[data-bulk-count]");
    if (count) {
      count.hidden = false;
      count.textContent = say("selected");
    }
    var apply = form.querySelector("[data-bulk-apply]");
    if (apply) apply.disabled = n === 0;
    var action = form.querySelector("select[name=action]");
    if (action) form.setAttribute("hx-confirm", say(action.value === "drop" ? "askDrop" : "askComplete"));
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
