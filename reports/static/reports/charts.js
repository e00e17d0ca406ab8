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
      // No mode bar at all: its buttons sat invisible in the Tab order and one of them sent the
      // chart to plotly's cloud. The table beside the chart is the way to read exact numbers.
      window.Plotly.newPlot(element, figure.data, figure.layout, {
        displayModeBar: false,
        displaylogo: false,
        showLink: false,
        showSendToCloud: false,
        showEditInChartStudio: false,
        responsive: true
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
