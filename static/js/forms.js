/* Progressive enhancement for every POST form: one submit only, and visible progress.
 *
 * On submit the form is marked busy (aria-busy), its submit buttons are disabled and the clicked
 * one shows its data-busy-label (or the page's generic "Working…"), so a slow action (publishing,
 * drafting, uploading) cannot be sent twice and the person sees that something happens. The
 * server keeps its own guard (idempotency keys): this only spares the second request. Without
 * JavaScript the forms work as before. Coming back with the browser's back button re-enables.
 */
(function () {
  "use strict";
  var generic = document.body.getAttribute("data-busy-text") || "…";

  function buttons(form) {
    return Array.prototype.filter.call(form.elements, function (element) {
      return element.type === "submit";
    });
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || (form.method || "").toLowerCase() !== "post") { return; }
    if (form.getAttribute("aria-busy") === "true") { event.preventDefault(); return; }
    form.setAttribute("aria-busy", "true");
    var clicked = event.submitter || buttons(form)[0];
    // Disable after this turn: a disabled submitter would drop its name/value from the request.
    window.setTimeout(function () {
      buttons(form).forEach(function (button) {
        button.disabled = true;
        if (button === clicked) {
          button.setAttribute("data-idle-label", button.textContent);
          button.textContent = button.getAttribute("data-busy-label") || generic;
        }
      });
    }, 0);
  });

  window.addEventListener("pageshow", function () {
    Array.prototype.forEach.call(document.querySelectorAll("form[aria-busy='true']"), function (form) {
      form.removeAttribute("aria-busy");
      buttons(form).forEach(function (button) {
        button.disabled = false;
        var idle = button.getAttribute("data-idle-label");
        if (idle !== null) { button.textContent = idle; button.removeAttribute("data-idle-label"); }
      });
    });
  });
})();
