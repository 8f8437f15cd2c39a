// Starts the bundle this page names (<meta name="danvan-app">, written by `cargo xtask dist`), and
// keeps the browser's install offer and a waiting new version for the app. A file rather than an
// inline script: the Content-Security-Policy allows our own script files and nothing inline.

// The install offer and a waiting new version are kept on `window` for the app, which may start
// after they happen; 'danvan-pwa' tells it when they change. Listen before anything is awaited.
const changed = () => window.dispatchEvent(new Event('danvan-pwa'));
window.addEventListener('beforeinstallprompt', (e) => { e.preventDefault(); window.danvanInstallEvent = e; changed(); });
window.addEventListener('appinstalled', () => { window.danvanInstallEvent = null; changed(); });

// The service worker only serves the app shell; it never sees sync state (see sw.js). A new
// version waits until the user taps "Cập nhật" (the draft being typed is in IndexedDB anyway).
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/sw.js').then((reg) => {
    const waiting = () => {
      if (reg.waiting && navigator.serviceWorker.controller) { window.danvanWaiting = reg.waiting; changed(); }
    };
    waiting();
    reg.addEventListener('updatefound', () => {
      const w = reg.installing;
      if (w) w.addEventListener('statechange', () => { if (w.state === 'installed') waiting(); });
    });
    // Look for a new version when the app comes back to the front (at most every 10 minutes).
    let last = Date.now();
    document.addEventListener('visibilitychange', () => {
      if (!document.hidden && Date.now() - last > 600000) { last = Date.now(); reg.update().catch(() => {}); }
    });
  }).catch((e) => console.warn('service worker', e));
}

const app = document.querySelector('meta[name="danvan-app"]');
const { default: init } = await import(app.content);
await init({ module_or_path: app.dataset.wasm });
