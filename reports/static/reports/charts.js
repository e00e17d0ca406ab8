/* Draws every chart of the page from the figure JSON the server rendered (already suppressed).
   The table beside each chart carries the same numbers for screen readers and without script. */
(function () {
  "use strict";
  function draw() {
    if (!window.Plotly) { return; }
    document.querySelectorAll("[data-figure]").forEach(function (element) {
      var source = document.getElementById(element.getAttribute("data-figure"));
      if (!source) { return; }
      var figure = JSON.parse(JSON.parse(source.textContent));
      if (figure.empty) {
        // Every value is hidden: say so rather than draw empty axes; the table shows the marks.
        var note = document.createElement("p");
        note.className = "chart-empty";
        note.textContent = element.getAttribute("data-empty") || "";
        element.replaceWith(note);
        return;
      }
      window.Plotly.newPlot(element, figure.data, figure.layout, {
        displaylogo: false,
        responsive: true,
        modeBarButtonsToRemove: ["sendDataToCloud", "lasso2d", "select2d"]
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
