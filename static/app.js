// Small progressive enhancements; no inline scripts (CSP).
(function () {
  "use strict";
  // Disable a plain form's submit buttons while its request is in flight (no double submits).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (event.defaultPrevented) return; // htmx handles this submit (and disables via hx-disabled-elt)
    window.setTimeout(function () {
      form.querySelectorAll("button[type=submit], input[type=submit]").forEach(function (b) {
        b.disabled = true;
        b.setAttribute("aria-busy", "true");
      });
    }, 0);
  });
  // The header's language switch changes as soon as a language is picked (its button is
  // for browsers without JavaScript).
  document.documentElement.classList.add("js");
  document.addEventListener("change", function (event) {
    var select = event.target.closest("select[data-autosubmit]");
    if (select && select.form) select.form.requestSubmit();
  });
  // Confirm dangerous actions marked with data-confirm.
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-confirm]");
    if (el && !window.confirm(el.getAttribute("data-confirm"))) event.preventDefault();
  });
  // Tell the user when an htmx request fails instead of doing nothing.
  document.addEventListener("htmx:responseError", function (event) {
    var status = event.detail.xhr.status;
    if (status === 401) return; // HX-Redirect takes over
    var box = document.createElement("p");
    box.className = "flash flash--error toast";
    box.setAttribute("role", "alert");
    // The words come from <body data-error-…> (templates/base.html), in the page's language.
    var words = document.body.dataset;
    box.textContent = status === 404 ? words.error404
      : status === 409 ? words.error409
      : status === 429 ? words.error429
      : (words.errorOther || "").replace("{status}", String(status));
    document.body.appendChild(box);
    window.setTimeout(function () { box.remove(); }, 6000);
  });
})();
