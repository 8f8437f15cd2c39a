// Service worker: keeps the app shell (HTML, JS, wasm, CSS, icons) so the app starts with no network.
// It never touches /api or /sync: documents and sync state live in the app and IndexedDB only.
const VERSION = '__VERSION__';
const PRECACHE = __PRECACHE__;
const CACHE = 'danvan-shell-' + VERSION;

self.addEventListener('install', (event) => {
  // A new version installs completely, then waits: the page announces it and the user decides when
  // to switch (the first version, with no page to disturb, activates at once).
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(PRECACHE)));
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'SKIP_WAITING') self.skipWaiting();
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith('danvan-shell-') && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  const url = new URL(req.url);
  if (req.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/api/') || url.pathname === '/sync' || url.pathname === '/healthz') return;
  const office = url.pathname === '/office' || url.pathname.startsWith('/office/') || url.pathname.startsWith('/office-') || url.pathname.startsWith('/office_bg-');
  if (office) {
    // The office bundle is not precached (phones never need it): network first, kept for offline.
    const key = req.mode === 'navigate' ? '/office/' : req;
    event.respondWith(
      fetch(req)
        .then((r) => {
          if (r.ok) { const copy = r.clone(); caches.open(CACHE).then((c) => c.put(key, copy)); }
          return r;
        })
        .catch(() => caches.open(CACHE).then((c) => c.match(key)).then((r) => r || Response.error())),
    );
    return;
  }
  if (req.mode === 'navigate') {
    // Cache first: the shell opens instantly in a hamlet with no signal; updates arrive via a new sw.js.
    // A page of its own (the password page) is served as itself; every other path is the app.
    event.respondWith(caches.open(CACHE).then((c) => c.match(url.pathname).then((r) => r || c.match('/'))).then((r) => r || fetch(req)));
    return;
  }
  event.respondWith(caches.open(CACHE).then((c) => c.match(req)).then((r) => r || fetch(req)));
});
