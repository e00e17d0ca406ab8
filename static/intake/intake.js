// Enhancement only: every intake page works without this file (Tor Browser's safest level).
// On the receipt page, warn before leaving until "I have saved my key" is ticked.
(function () {
  "use strict";
  var form = document.querySelector("[data-key-saved]");
  if (!form) { return; }
  var box = form.querySelector("input[type=checkbox]");
  function warn(event) {
    if (box && box.checked) { return undefined; }
    event.preventDefault();
    event.returnValue = "";
    return "";
  }
  window.addEventListener("beforeunload", warn);
  form.addEventListener("submit", function () { window.removeEventListener("beforeunload", warn); });
})();
