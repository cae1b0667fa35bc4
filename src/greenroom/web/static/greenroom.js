// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  var root = document.documentElement;
  root.classList.add("js");

  document.addEventListener("DOMContentLoaded", function () {
    // "/" focuses the header search, as on most developer tools.
    var search = document.getElementById("global-search");
    document.addEventListener("keydown", function (event) {
      var tag = (event.target.tagName || "").toLowerCase();
      if (event.key === "/" && search && tag !== "input" && tag !== "textarea" && tag !== "select") {
        event.preventDefault();
        search.focus();
      }
      if (event.key === "Escape") closeMenu();
    });

    // The sidebar as a menu on narrow screens.
    var toggle = document.querySelector(".nav-toggle");
    var sidebar = document.getElementById("sidebar");
    function closeMenu() {
      if (!sidebar || !sidebar.classList.contains("open")) return;
      sidebar.classList.remove("open");
      toggle.setAttribute("aria-expanded", "false");
      toggle.focus();
    }
    if (toggle && sidebar) {
      toggle.hidden = false;
      toggle.addEventListener("click", function () {
        var open = sidebar.classList.toggle("open");
        toggle.setAttribute("aria-expanded", open ? "true" : "false");
        if (open) { var first = sidebar.querySelector("a"); if (first) first.focus(); }
      });
      sidebar.addEventListener("click", function (event) { if (event.target === sidebar) closeMenu(); });
    }

    // Theme: switch at once, and remember it server-side (the form posts the same cookie).
    var themeButton = document.querySelector("[data-theme-toggle]");
    if (themeButton) {
      themeButton.addEventListener("click", function (event) {
        event.preventDefault();
        var next = themeButton.value;
        root.setAttribute("data-theme", next);
        document.cookie = "greenroom-theme=" + next + "; path=/; max-age=31536000; samesite=lax";
        var after = { system: "dark", dark: "light", light: "system" }[next];
        themeButton.value = after;
        themeButton.title = "Theme: " + next;
        var label = themeButton.querySelector(".visually-hidden");
        if (label) label.textContent = "Switch theme (now " + next + ")";
      });
    }

    // On narrow screens the filters start folded, so the results come first.
    if (window.matchMedia("(max-width: 960px)").matches) {
      document.querySelectorAll("details[data-collapse-narrow]").forEach(function (d) { d.open = false; });
    }

    // Facet checkboxes and selects apply as soon as they change.
    document.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.addEventListener("change", function (event) {
        if (event.target.matches("input[type=checkbox], input[type=radio], select")) form.requestSubmit();
      });
      var apply = form.querySelector("[data-apply]");
      if (apply) apply.classList.add("visually-hidden");
    });

    // Stars toggle in place.
    document.querySelectorAll("form[data-star]").forEach(function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button");
        var starred = button.getAttribute("aria-pressed") === "true";
        var body = new URLSearchParams(new FormData(form));
        body.set("starred", starred ? "0" : "1");
        fetch(form.action, { method: "POST", body: body, headers: { "Accept": "application/json" } })
          .then(function (response) { return response.ok ? response.json() : Promise.reject(response); })
          .then(function (data) {
            button.setAttribute("aria-pressed", data.starred ? "true" : "false");
            button.querySelector("use").setAttribute("href", data.starred ? "#i-star-filled" : "#i-star");
            button.querySelector(".visually-hidden").textContent = data.starred ? "Remove star" : "Add star";
            form.querySelector("input[name=starred]").value = data.starred ? "0" : "1";
          })
          .catch(function () { form.submit(); });
      });
    });
  });
})();
