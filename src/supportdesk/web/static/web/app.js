// supportdesk: the little behaviour pages need beyond plain HTML and htmx.
// Loaded as a file (the Content-Security-Policy allows no inline script).
(function () {
  "use strict";
  // Tell the server the browser's time zone, used when the person chose none.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("sd_tz=" + encodeURIComponent(zone)) === -1) {
      document.cookie = "sd_tz=" + encodeURIComponent(zone) + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (e) { /* old browser: the server falls back to the team's zone */ }

  document.addEventListener("DOMContentLoaded", function () {
    document.documentElement.classList.add("js");
    // Selects marked data-autosubmit submit their form on change (the language switch).
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    // Buttons marked data-confirm ask first.
    document.addEventListener("click", function (event) {
      var button = event.target.closest("[data-confirm]");
      if (button && !window.confirm(button.getAttribute("data-confirm"))) {
        event.preventDefault();
      }
    });
  });
})();
