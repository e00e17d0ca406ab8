// The sign-up form: suggest the short name from the firm's name (as signup.services.slug_suggest
// does on the server) until the visitor edits it, and show the address it gives.
(function () {
  "use strict";
  var form = document.querySelector("form[data-signup]");
  if (!form) return;
  var name = form.querySelector("[name=firm_name]");
  var slug = form.querySelector("[name=slug]");
  var preview = form.querySelector("[data-slug-preview]");
  if (!name || !slug || !preview) return;
  var placeholder = preview.getAttribute("data-placeholder") || preview.textContent;
  var edited = slug.value !== "";

  function suggest(text) {
    return text
      .normalize("NFKD")
      .replace(/[^\x00-\x7f]/g, "")
      .toLowerCase()
      .replace(/[^a-z0-9]+/g, "-")
      .replace(/^-+|-+$/g, "")
      .slice(0, 40)
      .replace(/-+$/, "");
  }

  function show() {
    preview.textContent = slug.value.trim().toLowerCase() || placeholder;
  }

  name.addEventListener("input", function () {
    if (!edited) {
      slug.value = suggest(name.value);
      show();
    }
  });
  slug.addEventListener("input", function () {
    edited = slug.value !== "";
    show();
  });
  show();
})();
