/* Polls a report batch's progress once a second until it is done. */
(function () {
  "use strict";
  var box = document.querySelector("[data-batch-status]");
  if (!box) { return; }
  var bar = box.querySelector("progress");
  var text = box.querySelector("[data-batch-text]");
  var label = box.querySelector("[data-batch-label]");
  function poll() {
    fetch(box.getAttribute("data-batch-status"), {credentials: "same-origin"})
      .then(function (response) { return response.json(); })
      .then(function (batch) {
        bar.max = Math.max(batch.total, 1);
        bar.value = batch.done + batch.failed;
        text.textContent = batch.text;
        if (label && batch.label) { label.textContent = batch.label; }
        if (batch.status !== "done") { window.setTimeout(poll, 1000); }
        else { box.setAttribute("data-finished", "true"); }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  poll();
})();
