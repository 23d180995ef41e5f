// Firm pages. No inline scripts: the content security policy forbids them.
(function () {
  "use strict";
  // Checkboxes in filter forms submit like the selects do (see app.js).
  document.querySelectorAll("form[data-autosubmit] input[type=checkbox]").forEach(function (box) {
    box.addEventListener("change", function () { box.form.requestSubmit(); });
  });
})();
