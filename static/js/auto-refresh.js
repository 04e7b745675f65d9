// Reloads a page that asks for it (an element with data-refresh-seconds), unless the reader is
// busy with its form or the tab is hidden; then it tries again a little later.
(function () {
  "use strict";
  var box = document.querySelector("[data-refresh-seconds]");
  if (!box) {
    return;
  }
  var seconds = Number(box.getAttribute("data-refresh-seconds"));
  if (!(seconds >= 5)) {
    return;
  }

  function busy() {
    var active = document.activeElement;
    return document.hidden || (active && active.form !== undefined && active.form !== null);
  }

  function tick() {
    if (busy()) {
      window.setTimeout(tick, 5000);
    } else {
      window.location.reload();
    }
  }

  window.setTimeout(tick, seconds * 1000);
})();
