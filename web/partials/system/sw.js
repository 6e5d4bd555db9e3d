// kaiin service worker, release {{ release }}.
// Policy: member pages and htmx partials are never cached (they hold personal data). Versioned static
// assets are cache-first; navigations go to the network and fall back to the public /offline page.
const CACHE = "kaiin-{{ release }}";
const PRECACHE = {{ (precache + ["/offline"]) | tojson }};

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((key) => key !== CACHE).map((key) => caches.delete(key))))
      .then(() => self.clients.claim())
  );
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.mode === "navigate") {
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
    return;
  }
  if (url.pathname.startsWith("/static/") && url.searchParams.has("v")) {
    event.respondWith(caches.match(request).then((hit) => hit || fetch(request)));
  }
});
