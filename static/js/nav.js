/* The top bar's menu button on narrow screens (progressive enhancement).
 *
 * Below 48rem the main navigation and the tools (language, sign out) fold behind a "Menu"
 * button (aria-expanded, aria-controls); the CSS hides them only when this script has run (the
 * .has-menu class), so without JavaScript the button stays hidden and everything shows, wrapped
 * in the bar. Escape closes the open menu and puts focus back on the button. A bar without
 * links gets no button.
 */
(function () {
  "use strict";
  var button = document.querySelector(".topbar__menu");
  var panel = document.getElementById("topbar-menu");
  var nav = document.getElementById("main-nav");
  if (!button || !panel || !nav || !nav.querySelector("a")) { return; }

  function open(yes) {
    button.setAttribute("aria-expanded", yes ? "true" : "false");
    panel.classList.toggle("topbar__panel--open", yes);
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
