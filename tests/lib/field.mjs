// Helpers for the member's phone app (the field bundle) in end-to-end tests: scenario set-up with
// failure diagnostics, login, the sync badge, the note form, photos (test JPEGs made in the browser,
// JPEG dimensions, blob reads from the server), IndexedDB reads and accessibility checks.

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { cp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { chromiumPath, launchChromium, pageErrors, printPageLogs, saveScreenshots, watchPage } from './browser.mjs';
import { PHONE, BADGE, NOTE_ITEM, TASK_ITEM, showTab, waitAppReady, badgeState, waitBadge, loginUi, waitTasks, ensureServiceWorker } from './app.mjs';
export { PHONE, BADGE, NOTE_ITEM, TASK_ITEM, waitAppReady, badgeState, waitBadge, loginUi, waitTasks, ensureServiceWorker };
import {
  DEMO_PASSWORD,
  distDir,
  freePort,
  printServerOutput,
  removeDir,
  startServer,
  tempDataDir,
} from './server.mjs';

export const FORM = 'form[data-testid=note-form]';
export const FORM_PHOTO = `${FORM} figure[data-testid=photo]`;
export const NOTES_COUNT = '[data-testid=notes-count]';

export function log(msg) {
  process.stdout.write(`# ${new Date().toISOString().slice(11, 23)} ${msg}\n`);
}

export function sha256hex(buf) {
  return createHash('sha256').update(buf).digest('hex');
}

// --- scenario ----------------------------------------------------------------------------------------

/**
 * Start `danvan-server` on `port` serving the PWA from `dist` (default: $DANVAN_DIST or ../target/dist).
 * lib/server.mjs reads the dist directory from the environment when it builds the command line, which
 * it does synchronously when a port is given: the variable is swapped only for that call.
 */
export async function startServerWith({ dataDir, port, dist, demo = true }) {
  if (!dist) return await startServer({ dataDir, port, demo });
  assert.ok(port, 'startServerWith: a port is required with a dist directory');
  const before = process.env.DANVAN_DIST;
  process.env.DANVAN_DIST = dist;
  let started;
  try {
    started = startServer({ dataDir, port, demo });
  } finally {
    if (before === undefined) delete process.env.DANVAN_DIST;
    else process.env.DANVAN_DIST = before;
  }
  return await started;
}

/**
 * One scenario: a demo server on a fresh data dir (and port), a browser, a scratch dir for files; on
 * failure screenshots, page logs and server output; always cleaned up. `options.copyDist`: serve a copy
 * of the built app (ctx.dist) that the test may modify.
 */
export async function scenario(prefix, body, options = {}) {
  assert.ok(
    existsSync(chromiumPath()),
    `no Chromium at ${chromiumPath()}: install it (Debian: apt-get install chromium) or set CHROMIUM`,
  );
  assert.ok(
    existsSync(path.join(distDir(), 'index.html')),
    `no built app at ${distDir()}/index.html: build it (cargo xtask dist) or set DANVAN_DIST`,
  );
  const ctx = { prefix, pages: {}, server: null, browser: null, dist: null };
  ctx.dataDir = await tempDataDir(`danvan-${prefix}-`);
  ctx.scratch = await tempDataDir(`danvan-${prefix}-files-`);
  ctx.port = await freePort();
  const started = Date.now();
  try {
    if (options.copyDist) {
      ctx.dist = path.join(ctx.scratch, 'dist');
      await cp(distDir(), ctx.dist, { recursive: true });
    }
    ctx.start = () => startServerWith({ dataDir: ctx.dataDir, port: ctx.port, dist: ctx.dist });
    ctx.server = await ctx.start();
    log(`[${prefix}] server at ${ctx.server.url}${ctx.dist ? ` serving ${ctx.dist}` : ''}`);
    ctx.browser = await launchChromium();
    const seen = new Set(pageErrors());
    await body(ctx);
    // A panic in the app aborts its wasm: whatever the scenario checked, the page is dead.
    const errors = pageErrors().filter((e) => !seen.has(e));
    assert.deepEqual(errors, [], 'uncaught errors on the pages');
    log(`[${prefix}] passed in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (err) {
    log(`[${prefix}] FAILED after ${((Date.now() - started) / 1000).toFixed(1)} s`);
    await saveScreenshots(ctx.pages, prefix);
    printPageLogs();
    printServerOutput();
    throw err;
  } finally {
    if (ctx.browser) await ctx.browser.close().catch(() => {});
    if (ctx.server) await ctx.server.stop('SIGTERM').catch(() => {});
    await removeDir(ctx.dataDir);
    await removeDir(ctx.scratch);
  }
}

/** A fresh phone (browser context + page) named `name`, logged and screenshotted on failure. */
export async function openPhone(ctx, name, extra = {}) {
  const context = await ctx.browser.newContext({ ...PHONE, ...extra });
  const page = await context.newPage();
  watchPage(page, `${ctx.prefix}-${name}`);
  ctx.pages[name] = page;
  return { context, page };
}





/** Open the app, log in as `username`, wait for the tasks; optionally for the service worker too. */
export async function signInPhone(ctx, name, username, { sw = true, extra = {} } = {}) {
  const { context, page } = await openPhone(ctx, name, extra);
  await page.goto(ctx.server.url);
  await waitAppReady(page);
  await loginUi(page, username);
  await waitTasks(page);
  if (sw) {
    await ensureServiceWorker(page);
    await waitTasks(page);
  }
  return { context, page };
}

// --- sync badge --------------------------------------------------------------------------------------



// --- notes -------------------------------------------------------------------------------------------

/** Open the new-note tab and wait until the saved draft (if any) is restored. */
export async function openNoteForm(page) {
  await showTab(page, 'new');
  await page.waitForSelector('body[data-draft-ready]', { state: 'attached', timeout: 10_000 });
  await page.waitForSelector(FORM, { timeout: 5_000 });
}

/** Wait until a select offers `value` (options come from the org and plan documents). */
async function waitOption(page, selectSel, value, timeout = 10_000) {
  await page
    .waitForSelector(`${selectSel} option[value="${value}"]`, { state: 'attached', timeout })
    .catch(async (err) => {
      const have = await page.$$eval(`${selectSel} option`, (os) => os.map((o) => o.value)).catch(() => []);
      throw new Error(`${selectSel} offers no option "${value}" within ${timeout} ms; options: ${have.join(', ')}`, {
        cause: err,
      });
    });
}

/**
 * Fill the note form with what `note` gives: {date, title, type, hamlet, unit, tasks: [id],
 * total, women, ethnic, religious, content, results, petitions: [{text, status}]}.
 */
export async function fillNote(page, note) {
  if (note.date !== undefined) await page.fill('#note-date', note.date);
  if (note.title !== undefined) await page.fill('#note-title', note.title);
  if (note.type !== undefined) {
    await waitOption(page, '#note-type', note.type);
    await page.selectOption('#note-type', note.type);
  }
  if (note.hamlet !== undefined) {
    await waitOption(page, '#note-hamlet', note.hamlet);
    await page.selectOption('#note-hamlet', note.hamlet);
  }
  if (note.unit !== undefined) {
    await waitOption(page, '#note-unit', note.unit);
    await page.selectOption('#note-unit', note.unit);
  }
  for (const t of note.tasks ?? []) {
    const box = page.locator(`#note-task-${t}`);
    await box.waitFor({ state: 'attached', timeout: 10_000 });
    await box.check();
  }
  for (const f of ['total', 'women', 'ethnic', 'religious']) {
    if (note[f] !== undefined) await page.fill(`#note-${f}`, String(note[f]));
  }
  if (note.content !== undefined) await page.fill('#note-content', note.content);
  if (note.results !== undefined) await page.fill('#note-results', note.results);
  for (const [i, p] of (note.petitions ?? []).entries()) {
    await page.click('[data-testid=add-petition]');
    await page.waitForSelector(`#petition-${i}-text`, { timeout: 5_000 });
    await page.fill(`#petition-${i}-text`, p.text);
    if (p.status) await page.selectOption(`#petition-${i}-status`, p.status);
  }
}

/** What the note form shows now (same shape as `fillNote`'s argument, plus gps text and photo shas). */
export async function readNoteForm(page) {
  return await page.evaluate((form) => {
    const f = document.querySelector(form);
    if (!f) return null;
    const v = (id) => document.getElementById(id)?.value ?? null;
    const tasks = [...f.querySelectorAll('[data-testid=note-tasks] input[type=checkbox]')]
      .filter((e) => e.checked)
      .map((e) => e.id.replace(/^note-task-/, ''))
      .sort();
    const petitions = [];
    for (let i = 0; document.getElementById(`petition-${i}-text`); i++) {
      petitions.push({ text: v(`petition-${i}-text`), status: v(`petition-${i}-status`) });
    }
    return {
      date: v('note-date'),
      title: v('note-title'),
      type: v('note-type'),
      hamlet: v('note-hamlet'),
      unit: v('note-unit'),
      tasks,
      total: v('note-total'),
      women: v('note-women'),
      ethnic: v('note-ethnic'),
      religious: v('note-religious'),
      content: v('note-content'),
      results: v('note-results'),
      petitions,
      gps: f.querySelector('[data-testid=gps]')?.textContent.trim() ?? null,
      photos: [...f.querySelectorAll('figure[data-testid=photo]')].map((e) => e.getAttribute('data-sha')),
    };
  }, FORM);
}

/** Poll until the form shows `want` (deep-equal); then fail with the difference. */
export async function waitNoteForm(page, want, timeout = 10_000) {
  const deadline = Date.now() + timeout;
  let got;
  for (;;) {
    got = await readNoteForm(page).catch(() => null);
    try {
      assert.deepStrictEqual(got, want);
      return got;
    } catch (err) {
      if (Date.now() >= deadline) {
        throw new Error(`the note form does not show what was typed (after ${timeout} ms):\n${err.message}`);
      }
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Failures recorded while a scenario goes on (so one app bug does not hide the next), asserted at the
 * end with `assertNone()`.
 */
export class Deferred {
  constructor() {
    this.failures = [];
  }
  fail(msg) {
    log(`DEFERRED FAILURE: ${msg}`);
    this.failures.push(msg);
  }
  /** Run `fn`; an error it throws is recorded (prefixed with `what`) instead of ending the scenario. */
  async check(what, fn) {
    try {
      return await fn();
    } catch (err) {
      this.fail(`${what}: ${err.message}`);
      return undefined;
    }
  }
  assertNone() {
    assert.equal(this.failures.length, 0, `${this.failures.length} failure(s) recorded:\n- ${this.failures.join('\n- ')}`);
  }
}

/**
 * Save the form and wait for "Đã lưu trên máy." or the notes tab, then for the note in the list.
 * The contract says the app shows the notes tab after saving: with `deferred`, that is checked (a
 * failure is recorded there); without, the test opens the notes tab itself when the app did not.
 */
export async function saveNote(page, title, { timeout = 10_000, deferred = null } = {}) {
  await page.click('button[data-testid=save-note]');
  const saved = await page
    .waitForFunction(
      () =>
        document.querySelector('[data-testid=nav-notes][aria-current=page]') ||
        document.querySelector('[data-testid=note-message].ok'),
      null,
      { timeout, polling: 100 },
    )
    .then(() => true)
    .catch(() => false);
  if (!saved) {
    const msg = await page.locator('[data-testid=note-message]').textContent().catch(() => null);
    throw new Error(`saving "${title}" failed: no "saved" message and no notes tab within ${timeout} ms; message: ${JSON.stringify(msg)}`);
  }
  if (deferred) {
    await page.waitForSelector('[data-testid=nav-notes][aria-current=page]', { timeout: 3_000 }).catch(async () => {
      const state = await page.evaluate(() => ({
        hash: location.hash,
        current: document.querySelector('nav.bottom [aria-current=page]')?.getAttribute('data-testid') ?? null,
        message: document.querySelector('[data-testid=note-message]')?.textContent.trim() ?? null,
        formShown: !!document.querySelector('form[data-testid=note-form]'),
      }));
      deferred.fail(`after saving "${title}" the app did not show the notes tab (contract: "After saving, the app shows the notes tab"): ${JSON.stringify(state)}`);
    });
  }
  await waitNotesListed(page, [title], timeout);
}

export async function createNote(page, note) {
  await openNoteForm(page);
  await fillNote(page, note);
  await saveNote(page, note.title);
}

export async function listedTitles(page) {
  return await page
    .$$eval(`${NOTE_ITEM} .title`, (els) => els.map((e) => e.textContent.trim()))
    .catch(() => []);
}

/**
 * Open a member tab unless it is already open. (Tapping the open tab again re-creates its screen: the
 * search and filters start over, and headless Chromium then reports no box for the "only mine"
 * checkbox inside the re-created closed <details>, so Playwright cannot tick it.)
 */
export async function openTab(page, name, timeout = 20_000) {
  if ((await page.locator(`[data-testid=nav-${name}][aria-current=page]`).count()) === 0) await showTab(page, name, timeout);
}

/** Wait until every title appears in some note item (opens the notes tab). */
export async function waitNotesListed(page, titles, timeout = 10_000) {
  await openTab(page, 'notes');
  try {
    await page.waitForFunction(
      ([sel, titles]) => {
        const texts = [...document.querySelectorAll(sel)].map((e) => e.textContent.trim());
        return titles.every((t) => texts.includes(t));
      },
      [`${NOTE_ITEM} .title`, titles],
      { timeout, polling: 200 },
    );
  } catch (err) {
    throw new Error(
      `notes ${JSON.stringify(titles)} not all listed within ${timeout} ms; listed: ${JSON.stringify(await listedTitles(page))}`,
      { cause: err },
    );
  }
}

/**
 * Wait until the notes list shows exactly `titles` (in any order): the count's data-count and the
 * items agree. Returns the note IDs in list order.
 */
export async function waitNotesExactly(page, titles, { timeout = 10_000, what = 'notes list' } = {}) {
  const want = [...titles].sort();
  // Open the notes tab unless it is open (opening it again would reset the search and filters).
  await openTab(page, 'notes');
  const state = () =>
    page
      .evaluate(
        ([countSel, itemSel]) => ({
          count: document.querySelector(countSel)?.getAttribute('data-count') ?? null,
          titles: [...document.querySelectorAll(`${itemSel} .title`)].map((e) => e.textContent.trim()).sort(),
          ids: [...document.querySelectorAll(itemSel)].map((e) => e.getAttribute('data-note-id')),
        }),
        [NOTES_COUNT, NOTE_ITEM],
      )
      .catch((err) => ({ error: err.message }));
  const deadline = Date.now() + timeout;
  let s;
  for (;;) {
    s = await state();
    if (s.count === String(want.length) && JSON.stringify(s.titles) === JSON.stringify(want)) return s.ids;
    if (Date.now() >= deadline) {
      throw new Error(`${what}: expected exactly ${JSON.stringify(want)} (data-count=${want.length}) within ${timeout} ms; got ${JSON.stringify(s)}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

// --- IndexedDB (the app's own database, read-only) --------------------------------------------------

/** The app's meta record `key` (a string), or null. */
export async function idbMeta(page, key) {
  return await page.evaluate(
    (key) =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('danvan');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('meta')) return resolve(null);
          const r = db.transaction('meta', 'readonly').objectStore('meta').get(key);
          r.onsuccess = () => {
            db.close();
            resolve(r.result === undefined ? null : r.result);
          };
          r.onerror = () => reject(r.error);
        };
      }),
    key,
  );
}

/** The photos stored on the device: {sha: {size, uploaded, bytes (length of data)}}. */
export async function idbPhotos(page) {
  return await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('danvan');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains('blobs')) return resolve({});
          const out = {};
          const t = db.transaction('blobs', 'readonly');
          const c = t.objectStore('blobs').openCursor();
          c.onsuccess = () => {
            const cur = c.result;
            if (!cur) return;
            out[cur.key] = { size: cur.value.size, uploaded: !!cur.value.uploaded, bytes: cur.value.data?.length ?? null };
            cur.continue();
          };
          t.oncomplete = () => {
            db.close();
            resolve(out);
          };
          t.onerror = () => reject(t.error);
        };
      }),
  );
}

// --- photos ------------------------------------------------------------------------------------------

/**
 * A real JPEG made by the browser's canvas: a gradient, `shapes` translucent discs and per-pixel noise
 * of amplitude `noise` (deterministic from `seed`), at JPEG quality `quality`. Returns a Buffer.
 */
export async function makeJpeg(page, { width, height, seed = 1, noise = 0, shapes = 60, quality = 0.92 }) {
  const b64 = await page.evaluate(
    async ({ w, h, seed, noise, shapes, quality }) => {
      let s = seed >>> 0 || 1;
      const rnd = () => {
        s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
        return s / 4294967296;
      };
      const c = document.createElement('canvas');
      c.width = w;
      c.height = h;
      const g = c.getContext('2d');
      const grad = g.createLinearGradient(0, 0, w, h);
      grad.addColorStop(0, `hsl(${rnd() * 360},60%,60%)`);
      grad.addColorStop(1, `hsl(${rnd() * 360},60%,40%)`);
      g.fillStyle = grad;
      g.fillRect(0, 0, w, h);
      for (let i = 0; i < shapes; i++) {
        g.fillStyle = `hsla(${rnd() * 360},70%,${30 + rnd() * 50}%,0.7)`;
        g.beginPath();
        g.arc(rnd() * w, rnd() * h, 20 + (rnd() * w) / 6, 0, Math.PI * 2);
        g.fill();
      }
      if (noise > 0) {
        const img = g.getImageData(0, 0, w, h);
        const d = img.data;
        for (let i = 0; i < d.length; i += 4) {
          const n = (rnd() - 0.5) * noise;
          d[i] += n;
          d[i + 1] += n;
          d[i + 2] += n;
        }
        g.putImageData(img, 0, 0);
      }
      const blob = await new Promise((r) => c.toBlob(r, 'image/jpeg', quality));
      const bytes = new Uint8Array(await blob.arrayBuffer());
      let bin = '';
      for (let i = 0; i < bytes.length; i += 0x8000) bin += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
      return btoa(bin);
    },
    { w: width, h: height, seed, noise, shapes, quality },
  );
  const buf = Buffer.from(b64, 'base64');
  const dims = jpegDimensions(buf);
  assert.deepEqual(dims, { width, height }, 'the generated test JPEG has the requested size');
  return buf;
}

/** Make test JPEGs in a throwaway page of `browser`. */
export async function makeJpegs(browser, specs) {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    const out = [];
    for (const spec of specs) out.push(await makeJpeg(page, spec));
    return out;
  } finally {
    await context.close().catch(() => {});
  }
}

/** Width and height from a JPEG's SOFn marker (baseline, progressive, ...); throws if there is none. */
export function jpegDimensions(buf) {
  if (buf.length < 4 || buf[0] !== 0xff || buf[1] !== 0xd8) throw new Error('not a JPEG (no SOI marker)');
  let i = 2;
  while (i < buf.length) {
    if (buf[i] !== 0xff) throw new Error(`JPEG: expected a marker at byte ${i}`);
    while (buf[i] === 0xff) i++; // fill bytes
    const marker = buf[i++];
    if (marker === 0xd9 || marker === 0xda) break; // EOI, or SOS before any SOF
    if ((marker >= 0xd0 && marker <= 0xd7) || marker === 0x01) continue; // no length
    const len = buf.readUInt16BE(i);
    const isSof = marker >= 0xc0 && marker <= 0xcf && ![0xc4, 0xc8, 0xcc].includes(marker);
    if (isSof) return { height: buf.readUInt16BE(i + 3), width: buf.readUInt16BE(i + 5) };
    i += len;
  }
  throw new Error('JPEG: no SOF marker before the image data');
}

// --- server API --------------------------------------------------------------------------------------

/** GET /api/blobs/SHA with a bearer token: {status, headers, bytes}. */
export async function getBlob(url, token, sha) {
  const res = await fetch(`${url}/api/blobs/${sha}`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, headers: res.headers, bytes: Buffer.from(await res.arrayBuffer()) };
}

/** GET /api/blobs/SHA/status: the parsed JSON (throws on a non-200 answer). */
export async function blobStatus(url, token, sha) {
  const res = await fetch(`${url}/api/blobs/${sha}/status`, { headers: { authorization: `Bearer ${token}` } });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET /api/blobs/${sha}/status: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

// --- accessibility -----------------------------------------------------------------------------------

const require = createRequire(import.meta.url);

/** Form controls (not hidden inputs) without a <label> or aria-label/aria-labelledby, or with an empty one. */
export async function unlabelledControls(page) {
  return await page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll('input, select, textarea')) {
      if (el.type === 'hidden') continue;
      const labels = [...(el.labels ?? [])].map((l) => l.textContent.trim()).filter(Boolean);
      const aria = (el.getAttribute('aria-label') ?? '').trim();
      const by = (el.getAttribute('aria-labelledby') ?? '')
        .split(/\s+/)
        .filter(Boolean)
        .map((id) => document.getElementById(id)?.textContent.trim())
        .filter(Boolean);
      if (labels.length === 0 && !aria && by.length === 0) {
        bad.push(`${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}[type=${el.type}] ${el.outerHTML.slice(0, 120)}`);
      }
    }
    return bad;
  });
}

/**
 * Press Tab from the top of the page (at most `maxPresses` times) and check that every visible, enabled
 * button, link, form control and summary receives the focus. Returns {expected, reached, missed,
 * presses, obscured (focused elements whose centre something else covered), order}.
 */
export async function tabWalk(page, maxPresses = 200) {
  const expected = await page.evaluate(() => {
    const sel = 'a[href], button, input:not([type=hidden]), select, textarea, summary, [tabindex]:not([tabindex="-1"])';
    const out = [];
    let n = 0;
    for (const el of document.querySelectorAll(sel)) {
      if (el.disabled) continue;
      const visible = el.checkVisibility
        ? el.checkVisibility({ checkOpacity: false, checkVisibilityCSS: true })
        : el.getClientRects().length > 0;
      if (!visible) continue;
      const key = `k${n++}`;
      el.setAttribute('data-tabwalk', key);
      const label = (el.getAttribute('aria-label') || el.textContent || el.id || el.getAttribute('href') || '').trim().slice(0, 40);
      out.push({ key, what: `${el.tagName.toLowerCase()}${el.id ? `#${el.id}` : ''}${el.getAttribute('data-testid') ? `[data-testid=${el.getAttribute('data-testid')}]` : ''} "${label}"` });
    }
    document.activeElement?.blur?.();
    window.scrollTo(0, 0);
    return out;
  });
  const want = new Map(expected.map((e) => [e.key, e.what]));
  const reached = new Set();
  const order = [];
  const obscured = [];
  let presses = 0;
  while (presses < maxPresses && reached.size < want.size) {
    await page.keyboard.press('Tab');
    presses++;
    const { key, hidden } = await page.evaluate(() => {
      const el = document.activeElement;
      const key = el?.getAttribute?.('data-tabwalk') ?? null;
      // Is the focused element covered by something else (a sticky header or bar)? Probe its centre
      // and four points 10 % inside its corners.
      let hidden = null;
      if (key) {
        const r = el.getBoundingClientRect();
        const points = [[0.5, 0.5], [0.1, 0.1], [0.9, 0.1], [0.1, 0.9], [0.9, 0.9]];
        const covers = [];
        for (const [fx, fy] of points) {
          const x = r.left + r.width * fx;
          const y = r.top + r.height * fy;
          const top = document.elementFromPoint(x, y);
          const ok = top && (top === el || el.contains(top) || top.contains(el) || (el.labels && [...el.labels].some((l) => l.contains(top))));
          if (!ok) covers.push(top ? `${top.tagName.toLowerCase()}${top.className ? `.${top.className}` : ''}` : 'off screen');
        }
        if (covers.length) {
          hidden = `${covers.length === points.length ? 'entirely' : `${covers.length}/${points.length} probes`} under ${[...new Set(covers)].join(', ')} (top ${Math.round(r.top)}, bottom ${Math.round(r.bottom)} of ${innerHeight})`;
        }
      }
      return { key, hidden };
    });
    if (key && !reached.has(key)) {
      reached.add(key);
      order.push(key);
      if (hidden) obscured.push(`${want.get(key)}: ${hidden}`);
    }
  }
  await page.evaluate(() => document.querySelectorAll('[data-tabwalk]').forEach((e) => e.removeAttribute('data-tabwalk')));
  const missed = [...want.entries()].filter(([k]) => !reached.has(k)).map(([, w]) => w);
  return { expected: expected.length, reached: reached.size, missed, presses, obscured, order: order.map((k) => want.get(k)) };
}

/**
 * Run axe-core's WCAG 2 A/AA rules with the page scrolled to the top and to the bottom (sticky bars
 * cover different elements, and axe cannot judge the contrast of covered text): violations of either
 * run (deduplicated), checks left undecided by both.
 */
export async function runAxeScrolled(page) {
  await page.evaluate(() => window.scrollTo(0, 0));
  const top = await runAxe(page);
  await page.evaluate(() => window.scrollTo(0, document.documentElement.scrollHeight));
  const bottom = await runAxe(page);
  await page.evaluate(() => window.scrollTo(0, 0));
  const byId = new Map();
  for (const v of [...top.violations, ...bottom.violations]) {
    const have = byId.get(v.id);
    if (!have) byId.set(v.id, { ...v, nodes: [...v.nodes] });
    else for (const n of v.nodes) if (!have.nodes.some((m) => m.target === n.target)) have.nodes.push(n);
  }
  const undecidedBoth = top.incomplete.filter((x) => bottom.incomplete.includes(x));
  return { violations: [...byId.values()], incomplete: undecidedBoth, passes: Math.min(top.passes, bottom.passes) };
}

/** Inject axe-core (once per document) and run the WCAG 2 A/AA rules on the whole page. */
export async function runAxe(page) {
  const has = await page.evaluate(() => typeof window.axe !== 'undefined');
  // Evaluated rather than added as a <script>: the app's Content-Security-Policy refuses inline
  // script (as it should), and evaluation through the DevTools protocol is not subject to it.
  if (!has) await page.evaluate(readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8'));
  return await page.evaluate(async () => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa'] } });
    const violations = r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), impact: n.impact, summary: n.failureSummary, html: n.html.slice(0, 160) })),
    }));
    // Checks axe could not decide (e.g. contrast over a sticky bar): reported, not failed.
    const incomplete = r.incomplete.flatMap((v) =>
      v.nodes.map((n) => `${v.id} ${n.target.join(' ')}: ${(n.any[0]?.message ?? n.failureSummary ?? '').replace(/\s+/g, ' ').slice(0, 140)}`),
    );
    return { violations, incomplete, passes: r.passes.length };
  });
}

export function formatViolations(violations) {
  return violations
    .map(
      (v) =>
        `- ${v.id} (${v.impact}): ${v.help}\n` +
        v.nodes.map((n) => `    ${n.target} [${n.impact}] ${n.html}\n      ${(n.summary ?? '').replace(/\n/g, '\n      ')}`).join('\n'),
    )
    .join('\n');
}
