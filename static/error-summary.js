// The error summary (templates/_macros.html, form_errors): when a page or an htmx swap shows
// one, bring it to the top of the viewport with focus (autofocus alone only scrolls it into
// view somewhere); when one of its links is followed, put focus in that field with its label
// in view (the browser alone would only scroll). Without JavaScript autofocus and the links
// still work. No inline scripts (CSP).
(function () {
  "use strict";
  var SUMMARY = "[data-error-summary]";

  function reveal(root) {
    var box = root.matches && root.matches(SUMMARY) ? root : root.querySelector && root.querySelector(SUMMARY);
    if (!box) return;
    box.scrollIntoView({ block: "start" });
    box.focus({ preventScroll: true });
  }

  document.addEventListener("DOMContentLoaded", function () { reveal(document); });
  // After a form is swapped in (a 422 re-render); live-validation answers carry no summary.
  document.addEventListener("htmx:afterSettle", function (event) { reveal(event.target); });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest(SUMMARY + " a[href^='#']");
    if (!link) return;
    var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) return;
    var control = target.matches("input, select, textarea")
      ? target : target.querySelector("input:not([type=hidden]):not([disabled]), select, textarea");
    event.preventDefault();
    var context = target.closest("fieldset, .field") || target;
    context.scrollIntoView({ block: "start" });
    (control || target).focus({ preventScroll: true });
    if (window.history && window.history.replaceState) window.history.replaceState(null, "", link.hash);
  });
})();
