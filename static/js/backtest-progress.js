// Follows a running backtest: polls its progress endpoint every second, moves the <progress> bar,
// and reloads the page when the run has finished (or failed) to show the results.
(function () {
  "use strict";
  var box = document.querySelector("[data-progress-url]");
  if (!box) {
    return;
  }
  var url = box.getAttribute("data-progress-url");
  var bar = box.querySelector("progress");
  var note = box.querySelector("[data-progress-note]");
  var failures = 0;

  function show(state) {
    var share = Math.max(0, Math.min(1, Number(state.progress) || 0));
    bar.value = share;
    bar.textContent = Math.round(share * 100) + "%";
    if (note) {
      note.textContent = Math.round(share * 100) + "%" + (state.note ? " · " + state.note : "");
    }
  }

  function poll() {
    fetch(url, { headers: { Accept: "application/json" }, cache: "no-store", credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("HTTP " + response.status);
        }
        return response.json();
      })
      .then(function (state) {
        failures = 0;
        show(state);
        if (state.done) {
          box.setAttribute("data-done", "true");
          window.location.reload();
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () {
        failures += 1;
        if (note && failures > 3) {
          note.textContent = "Lost contact with the server; retrying…";
        }
        window.setTimeout(poll, Math.min(10000, 1000 * failures));
      });
  }

  window.setTimeout(poll, 1000);
})();
