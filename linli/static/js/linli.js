/* Site-wide behaviour, loaded on every page (deferred). No inline scripts anywhere: the strict CSP
 * allows only our own files. */
(function () {
  "use strict";

  // htmx requests carry Django's CSRF token from <meta name="csrf-token"> (cookies stay HttpOnly-able).
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta && meta.content) {
      event.detail.headers["X-CSRFToken"] = meta.content;
    }
  });
})();
