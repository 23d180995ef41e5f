// The column settings of a government layout (设置列). No inline scripts: the content security
// policy forbids them. Without JavaScript the arrows post the form and the page comes back in the
// new order; here they move the row at once, and the rows can be dragged by their handle. The
// hidden "order" input of each row moves with it, so 保存 posts the order shown.
(function () {
  "use strict";
  var body = document.getElementById("layout-columns");
  if (!body) { return; }
  var notice = document.getElementById("layout-unsaved");

  function refresh() {
    var rows = body.querySelectorAll("tr");
    rows.forEach(function (row, index) {
      row.querySelector('[data-move="up"]').disabled = index === 0;
      row.querySelector('[data-move="down"]').disabled = index === rows.length - 1;
    });
    if (notice) { notice.hidden = false; }
  }

  body.addEventListener("click", function (event) {
    var button = event.target.closest("button[data-move]");
    if (!button) { return; }
    event.preventDefault();
    var row = button.closest("tr");
    if (button.getAttribute("data-move") === "up" && row.previousElementSibling) {
      body.insertBefore(row, row.previousElementSibling);
    } else if (button.getAttribute("data-move") === "down" && row.nextElementSibling) {
      body.insertBefore(row.nextElementSibling, row);
    }
    refresh();
    if (!button.disabled) { button.focus(); }
  });

  if (typeof Sortable !== "undefined") {
    Sortable.create(body, {
      handle: ".layout-handle",
      animation: 150,
      // Mouse events rather than native drag and drop: the same on every browser and in tests.
      forceFallback: true,
      onEnd: refresh
    });
  }
})();
