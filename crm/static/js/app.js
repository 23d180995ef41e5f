// Shared behaviour for every page. No inline scripts: the content security policy forbids them.
(function () {
  "use strict";
  var token = document.querySelector('meta[name="csrf-token"]');

  // htmx requests carry the CSRF token as a header, which Flask-WTF accepts.
  document.body.addEventListener("htmx:configRequest", function (event) {
    if (token) {
      event.detail.headers["X-CSRFToken"] = token.getAttribute("content");
    }
  });

  // Show server error messages returned to htmx requests instead of failing silently.
  document.body.addEventListener("htmx:responseError", function (event) {
    var message = "操作失败，请稍后重试。";
    try {
      var data = JSON.parse(event.detail.xhr.responseText);
      if (data && data.message) { message = data.message; }
    } catch (e) { /* not JSON: keep the generic message */ }
    window.alert(message);
  });

  // Forms and buttons with data-confirm ask before they submit.
  document.addEventListener("submit", function (event) {
    var message = event.target.getAttribute("data-confirm");
    if (message && !window.confirm(message)) {
      event.preventDefault();
    }
  });

  // A select with data-reveal shows only the fields (data-need) its chosen option lists in data-needs.
  document.querySelectorAll("select[data-reveal]").forEach(function (select) {
    function update() {
      var option = select.options[select.selectedIndex];
      var needs = ((option && option.getAttribute("data-needs")) || "").split(" ");
      select.form.querySelectorAll("[data-need]").forEach(function (element) {
        element.hidden = needs.indexOf(element.getAttribute("data-need")) < 0;
      });
    }
    select.addEventListener("change", update);
    update();
  });

  // A checkbox with data-check-all="name" ticks or clears every checkbox of its form named so.
  document.querySelectorAll("input[data-check-all]").forEach(function (box) {
    box.addEventListener("change", function () {
      var name = box.getAttribute("data-check-all");
      box.form.querySelectorAll('input[type="checkbox"][name="' + name + '"]').forEach(function (other) {
        other.checked = box.checked;
      });
    });
  });

  // A readonly field with data-select-on-focus selects its whole text (a link to copy by hand).
  document.querySelectorAll("[data-select-on-focus]").forEach(function (input) {
    input.addEventListener("focus", function () { input.select(); });
  });

  // A button with data-copy="#id" copies that field's value and says so (data-copied).
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.querySelector(button.getAttribute("data-copy"));
      if (!input) { return; }
      input.focus();
      input.select();
      function done() {
        button.textContent = button.getAttribute("data-copied") || "OK";
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(input.value).then(done, function () {
          if (document.execCommand("copy")) { done(); }
        });
      } else if (document.execCommand("copy")) {
        done();
      }
    });
  });

  // Filter forms submit when a select changes.
  document.querySelectorAll("form[data-autosubmit] select").forEach(function (select) {
    select.addEventListener("change", function () { select.form.requestSubmit(); });
  });
})();
