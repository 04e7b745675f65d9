// Draws every chart of the page with plotly.js (served locally from the plotly package).
// <div class="chart" data-figure="ID"> reads its figure from <script type="application/json" id="ID">.
(function () {
  "use strict";
  if (!window.Plotly) {
    return;
  }
  var config = {
    responsive: true,
    displaylogo: false,
    modeBarButtonsToRemove: ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"]
  };
  document.querySelectorAll("[data-figure]").forEach(function (el) {
    var source = document.getElementById(el.getAttribute("data-figure"));
    if (!source) {
      return;
    }
    var figure = JSON.parse(source.textContent);
    window.Plotly.newPlot(el, figure.data, figure.layout, config).then(function () {
      el.setAttribute("data-drawn", "true");
    });
  });
})();
