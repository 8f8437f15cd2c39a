// Service worker: keeps the app shell (HTML, JS, wasm, CSS, icons) so the app starts with no network.
// It never touches /api or /sync: documents and sync state live in the app and IndexedDB only.
const VERSION = '__VERSION__';
const PRECACHE = __PRECACHE__;
const CACHE = 'danvan-shell-' + VERSION;

self.addEventListener('install', (event) => {
  // A new version installs completely before it takes over; the data in IndexedDB is not ours to
  // touch, so taking over at once loses nothing: the open page keeps its running code until reload.
  event.waitUntil(caches.open(CACHE).then((c) => c.addAll(PRECACHE)).then(() => self.skipWaiting()));
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
  if (req.mode === 'navigate') {
    // Cache first: the shell opens instantly in a hamlet with no signal; updates arrive via a new sw.js.
    event.respondWith(caches.open(CACHE).then((c) => c.match('/')).then((r) => r || fetch(req)));
    return;
  }
  event.respondWith(caches.open(CACHE).then((c) => c.match(req)).then((r) => r || fetch(req)));
});
