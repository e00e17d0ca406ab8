/* The top bar's menu button on narrow screens (progressive enhancement).
 *
 * Below 48rem the main navigation folds behind a "Menu" button (aria-expanded, aria-controls);
 * the CSS hides the links only when this script has run (the .has-menu class), so without
 * JavaScript the button stays hidden and every link shows, wrapped in the bar. Escape closes
 * the open menu and puts focus back on the button. A bar without links gets no button.
 */
(function () {
  "use strict";
  var button = document.querySelector(".topbar__menu");
  var nav = document.getElementById("main-nav");
  if (!button || !nav || !nav.querySelector("a")) { return; }

  function open(yes) {
    button.setAttribute("aria-expanded", yes ? "true" : "false");
    nav.classList.toggle("topbar__nav--open", yes);
  }

  button.hidden = false;
  document.documentElement.classList.add("has-menu");
  button.addEventListener("click", function () {
    open(button.getAttribute("aria-expanded") !== "true");
  });
  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
      open(false);
      button.focus();
    }
  });
})();
