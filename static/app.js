// kaiin behaviour. No inline scripts or handlers anywhere (strict CSP): everything lives here.
(function () {
  "use strict";

  // Install the service worker (offline page, precached static assets; never member data).
  if ("serviceWorker" in navigator && window.isSecureContext) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () {});
    });
  }

  // A double tap must not send a form twice: disable its submit buttons while the request runs.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || event.defaultPrevented) return;
    window.setTimeout(function () {
      form.querySelectorAll('button[type="submit"]').forEach(function (button) { button.disabled = true; });
    }, 0);
  });
  document.addEventListener("htmx:finally:request", function (event) {
    var form = event.target && event.target.closest ? event.target.closest("form") : null;
    if (form) form.querySelectorAll('button[type="submit"]').forEach(function (button) { button.disabled = false; });
  });
  window.addEventListener("pageshow", function () {
    document.querySelectorAll('button[type="submit"]:disabled').forEach(function (button) { button.disabled = false; });
  });
})();
