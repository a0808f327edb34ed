// CSV import: show upload progress while htmx posts the file (no inline scripts: CSP).
// The words come from the page (#import-progress data-text-*), in the reader's language.
(function () {
  "use strict";
  function importForm(event) {
    var el = event.target;
    return el && el.closest ? el.closest("form[data-import-form]") : null;
  }
  function parts() {
    return {
      box: document.getElementById("import-progress"),
      bar: document.getElementById("import-progress-bar"),
      text: document.getElementById("import-progress-text")
    };
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (!importForm(event)) return;
    var p = parts();
    if (!p.box) return;
    p.box.hidden = false;
    p.box.removeAttribute("data-phase");
    p.bar.max = 100;
    p.bar.value = 0;
    p.text.textContent = p.box.dataset.textUploading;
  });
  document.addEventListener("htmx:xhr:progress", function (event) {
    if (!importForm(event)) return;
    var p = parts();
    if (!p.box || p.box.getAttribute("data-phase") === "checking") return;
    var d = event.detail;
    if (d.lengthComputable && d.total > 0) {
      p.bar.max = d.total;
      p.bar.value = d.loaded;
      p.text.textContent = p.box.dataset.textProgress.replace("{percent}", Math.round((d.loaded / d.total) * 100));
      if (d.loaded >= d.total) {
        // Uploaded; the server now checks every row. Indeterminate until the dry run arrives.
        p.box.setAttribute("data-phase", "checking");
        p.bar.removeAttribute("value");
        p.text.textContent = p.box.dataset.textChecking;
      }
    }
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    if (!importForm(event)) return;
    var p = parts();
    if (p.box) p.box.hidden = true;
  });
})();
