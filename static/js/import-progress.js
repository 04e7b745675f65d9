// /bets/import: a progress bar while the file uploads, then while the server imports it; the
// server's page replaces this one. Without JavaScript the form posts as usual.
(function () {
  "use strict";
  var form = document.getElementById("import-form");
  var box = document.getElementById("import-progress-box");
  var bar = document.getElementById("import-progress");
  if (!form || !box || !bar || !window.XMLHttpRequest || !window.FormData) return;
  var label = box.querySelector("label");
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var request = new XMLHttpRequest();
    request.open("POST", form.action);
    box.hidden = false;
    request.upload.addEventListener("progress", function (e) {
      if (e.lengthComputable) bar.value = Math.round((e.loaded / e.total) * 100);
    });
    request.upload.addEventListener("load", function () {
      label.textContent = "Matching and importing";
      bar.removeAttribute("value"); // indeterminate while the server works
    });
    request.addEventListener("load", function () {
      document.open();
      document.write(request.responseText);
      document.close();
    });
    request.addEventListener("error", function () {
      label.textContent = "The upload failed: try again";
    });
    form.querySelector("button[type=submit]").disabled = true;
    request.send(new FormData(form));
  });
})();
