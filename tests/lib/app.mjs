// Helpers every browser test uses: app start, login, the sync badge, the service worker, tabs.
//
// The app's member screens are tabs (`#nhiem-vu`, `#ghi-chep`, `#ghi-moi`, `#dong-bo`), kept in the
// address so a reload stays on the same one. Tests open the one they need.

import { DEMO_PASSWORD } from './server.mjs';

export const PHONE = { viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
export const DESK = { viewport: { width: 1366, height: 900 } };
export const BADGE = '[data-testid=sync-badge]';
export const NOTE_ITEM = '[data-testid=note-item]';
export const TASK_ITEM = '[data-testid=task-item]';

function log(msg) {
  process.stdout.write(`# ${new Date().toISOString().slice(11, 23)} ${msg}\n`);
}

/** Open a member tab: `tasks`, `notes`, `new` or `sync` (no-op on screens without tabs). */
export async function showTab(page, name, timeout = 20_000) {
  const sel = `[data-testid=nav-${name}]`;
  await page.waitForSelector('body[data-app-ready]', { state: 'attached', timeout });
  if ((await page.locator(sel).count()) === 0) {
    // The tabs appear once the session is known; give the app a moment.
    await page.waitForSelector(sel, { timeout: 5_000 }).catch(() => {});
  }
  if ((await page.locator(sel).count()) > 0) {
    await page.click(sel);
    await page.waitForSelector(`${sel}[aria-current=page]`, { timeout: 5_000 });
  }
}

export async function waitAppReady(page, timeout = 20_000) {
  await page.waitForSelector('body[data-app-ready]', { state: 'attached', timeout });
}

export async function badgeState(page) {
  return await page
    .evaluate((sel) => {
      const b = document.querySelector(sel);
      return b
        ? { online: b.getAttribute('data-online'), unsynced: b.getAttribute('data-unsynced'), text: b.textContent.trim() }
        : null;
    }, BADGE)
    .catch((err) => `(page not readable: ${err.message})`);
}

/** Wait until the sync badge has the given attributes (only those given are checked). */
export async function waitBadge(page, want, timeout = 10_000) {
  try {
    await page.waitForFunction(
      ([sel, want]) => {
        const b = document.querySelector(sel);
        if (!b) return false;
        if (want.online !== undefined && b.getAttribute('data-online') !== want.online) return false;
        if (want.unsynced !== undefined && b.getAttribute('data-unsynced') !== want.unsynced) return false;
        return true;
      },
      [BADGE, want],
      { timeout, polling: 100 },
    );
  } catch (err) {
    throw new Error(
      `sync badge did not reach ${JSON.stringify(want)} within ${timeout} ms; it is ${JSON.stringify(await badgeState(page))}`,
      { cause: err },
    );
  }
}

export async function loginUi(page, username) {
  await page.fill('#username', username);
  await page.fill('#password', DEMO_PASSWORD);
  await page.click('button[data-testid=login]');
}

export async function waitTasks(page, timeout = 20_000) {
  await showTab(page, 'tasks', timeout);
  await page.waitForFunction((sel) => document.querySelectorAll(sel).length > 0, TASK_ITEM, { timeout, polling: 100 });
}

/** Make sure the page is controlled by the service worker (reload once if it is not yet). */
export async function ensureServiceWorker(page) {
  const controlled = await page.evaluate(async () => {
    if (!('serviceWorker' in navigator)) throw new Error('no navigator.serviceWorker');
    const timeout = new Promise((_, reject) =>
      setTimeout(() => reject(new Error('no active service worker after 15 s')), 15_000),
    );
    await Promise.race([navigator.serviceWorker.ready, timeout]);
    return !!navigator.serviceWorker.controller;
  });
  if (!controlled) {
    log('service worker active but not controlling the page: reloading once');
    await page.reload();
    await waitAppReady(page);
  }
  await page.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 10_000 });
}
