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
  // Maintenance countdown: counts the server's seconds down (the server's clock, not the phone's), and at
  // zero loads the page again, which is then the service itself once the window is over.
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function remaining(seconds) {
    var d = Math.floor(seconds / 86400), h = Math.floor(seconds % 86400 / 3600);
    var m = Math.floor(seconds % 3600 / 60), s = seconds % 60;
    return "あと" + (d ? d + "日" : "") + (d || h ? h + "時間" : "") + pad(m) + "分" + pad(s) + "秒";
  }
  function startCountdowns(root) {
    root.querySelectorAll("[data-countdown]:not([data-counting])").forEach(function (el) {
      var end = Date.now() + Number(el.getAttribute("data-seconds")) * 1000, loaded = Date.now();
      el.setAttribute("data-counting", "");
      var timer = window.setInterval(tick, 1000);
      function tick() {
        if (!el.isConnected) { window.clearInterval(timer); return; }
        var left = Math.max(0, Math.ceil((end - Date.now()) / 1000));
        el.textContent = left ? remaining(left) : "まもなく再開します";
        if (!left && Date.now() - loaded > 5000) { window.clearInterval(timer); window.location.reload(); }
      }
      tick();
    });
  }
  document.addEventListener("DOMContentLoaded", function () { startCountdowns(document); });
  document.addEventListener("htmx:after:settle", function () { startCountdowns(document); });

  window.addEventListener("pageshow", function () {
    document.querySelectorAll('button[type="submit"]:disabled').forEach(function (button) { button.disabled = false; });
  });

  // A form that htmx sends as a GET query (the simulator's keystrokes) never puts the CSRF token in a URL.
  document.addEventListener("htmx:config:request", function (event) {
    var request = event.detail && event.detail.ctx && event.detail.ctx.request;
    if (request && request.method === "GET" && request.body && request.body.delete) request.body.delete("_csrf_token");
  });

  // Live forms (the simulator): after a swap, mark each input whose error message is showing.
  document.addEventListener("htmx:after:swap", function () {
    document.querySelectorAll("p.field-error[id^='err-']").forEach(function (message) {
      var input = document.getElementById(message.id.slice(4));
      if (!input) return;
      if (message.textContent.trim()) input.setAttribute("aria-invalid", "true");
      else input.removeAttribute("aria-invalid");
    });
  });
})();
