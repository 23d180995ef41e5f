// The kanban board (培育看板). No inline scripts: the content security policy forbids them.
// Dropping a card on another column fetches the move dialog for that stage. A move the programme
// forbids puts the card back with the reason; otherwise the dialog asks what the stage's gate
// needs and posts through htmx, whose answer swaps in the moved card and the new counts.
// Cancelling the dialog puts the card back where it was.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || typeof Sortable === "undefined") { return; }
  var dialogElement = document.getElementById("board-dialog");
  var dialogContent = document.getElementById("board-dialog-content");
  var dialog = bootstrap.Modal.getOrCreateInstance(dialogElement);
  var chosen = null;   // where the card being dragged came from
  var pending = null;  // the dropped card waiting for its dialog: {item, from, next, moved}

  function showMessage(text, kind) {
    var alert = document.createElement("div");
    alert.className = "alert alert-" + kind + " alert-dismissible fade show";
    alert.setAttribute("role", "alert");
    alert.textContent = text;
    var close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("data-bs-dismiss", "alert");
    close.setAttribute("aria-label", "关闭");
    alert.appendChild(close);
    document.getElementById("board-messages").replaceChildren(alert);
  }

  function putBack(drop) {
    var next = drop.next && drop.next.parentNode === drop.from ? drop.next : null;
    drop.from.insertBefore(drop.item, next);
  }

  function parse(html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    return holder.content;
  }

  function errorMessage(text) {
    try {
      var data = JSON.parse(text);
      if (data && data.message) { return data.message; }
    } catch (e) { /* not JSON: keep the generic message */ }
    return "操作失败，请稍后重试。";
  }

  function cancel(drop, message) {
    pending = null;
    putBack(drop);
    showMessage(message, "danger");
  }

  function openDialog(drop, url) {
    pending = drop;
    fetch(url, { headers: { "HX-Request": "true" }, credentials: "same-origin" })
      .then(function (response) {
        return response.text().then(function (text) { return { ok: response.ok, text: text }; });
      })
      .then(function (answer) {
        if (!answer.ok) { return cancel(drop, errorMessage(answer.text)); }
        var refused = parse(answer.text).querySelector("[data-refused]");
        if (refused) { return cancel(drop, refused.textContent.trim()); }
        dialogContent.innerHTML = answer.text;
        htmx.process(dialogContent);
        dialog.show();
      })
      .catch(function () { cancel(drop, "网络连接失败，请稍后重试。"); });
  }

  board.querySelectorAll(".board-list").forEach(function (list) {
    Sortable.create(list, {
      group: "board-" + board.getAttribute("data-programme"),
      sort: false,
      draggable: ".board-card-movable",
      filter: "input",
      preventOnFilter: false,
      // Mouse events rather than native drag and drop: the same on every browser and in tests.
      forceFallback: true,
      fallbackTolerance: 3,
      ghostClass: "board-ghost",
      chosenClass: "board-chosen",
      dragClass: "board-drag",
      onChoose: function (event) {
        chosen = { from: event.from, next: event.item.nextElementSibling };
      },
      onEnd: function (event) {
        if (event.to === event.from || !chosen) { return; }
        var drop = { item: event.item, from: chosen.from, next: chosen.next, moved: false };
        var url = new URL(event.item.getAttribute("data-move-url"), window.location.href);
        url.searchParams.set("target", event.to.getAttribute("data-stage"));
        openDialog(drop, url.toString());
      }
    });
  });

  dialogContent.addEventListener("htmx:afterSwap", function () {
    countSelected();
    if (pending && dialogContent.querySelector("[data-moved]")) {
      pending.moved = true;
      dialog.hide();
    }
  });

  dialogElement.addEventListener("hidden.bs.modal", function () {
    if (pending && !pending.moved) { putBack(pending); }
    pending = null;
    dialogContent.replaceChildren();
  });

  // Bulk move: count the ticked cards; the button waits for at least one.
  var selected = document.getElementById("board-selected");
  var submit = document.getElementById("board-bulk-submit");
  function countSelected() {
    var count = board.querySelectorAll("input.board-select:checked").length;
    if (selected) { selected.textContent = String(count); }
    if (submit) { submit.disabled = count === 0; }
  }
  board.addEventListener("change", function (event) {
    if (event.target.classList.contains("board-select")) { countSelected(); }
  });
  countSelected();
})();
