// The field day, end to end: a real danvan-server process and headless Chromium.
//
// A phone logs in online, loses the server (killed), reloads from the service worker, records notes
// offline, and syncs them when the server is back; the aggregating desk and a second phone of the same
// commune see them. Then the same with the browser's own offline emulation.
//
//   DANVAN_SERVER_BIN=../target/debug/danvan-server DANVAN_DIST=../target/dist \
//   CHROMIUM=/usr/bin/chromium node --test browser.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { chromiumPath, launchChromium, pageErrors, printPageLogs, saveScreenshots, watchPage } from './lib/browser.mjs';
import {
  DEMO_PASSWORD,
  distDir,
  freePort,
  printServerOutput,
  removeDir,
  startServer,
  tempDataDir,
} from './lib/server.mjs';
import { vnToday } from './lib/ids.mjs';
import { PHONE, DESK, BADGE, NOTE_ITEM, TASK_ITEM, showTab, waitAppReady, badgeState, waitBadge, loginUi, waitTasks, ensureServiceWorker } from './lib/app.mjs';

const COMMUNE = 'xa-ka-don';
const TEST_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 120_000);

function log(msg) {
  process.stdout.write(`# ${new Date().toISOString().slice(11, 23)} ${msg}\n`);
}

async function listedTitles(page) {
  return await page
    .$$eval(NOTE_ITEM, (els) => els.map((e) => e.textContent))
    .catch(() => []);
}

/** Wait until every title appears in some `[data-testid=note-item]`. */
async function waitNotesListed(page, titles, timeout = 10_000) {
  await showTab(page, 'notes');
  try {
    await page.waitForFunction(
      ([sel, titles]) => {
        const texts = [...document.querySelectorAll(sel)].map((e) => e.textContent);
        return titles.every((t) => texts.some((x) => x.includes(t)));
      },
      [NOTE_ITEM, titles],
      { timeout, polling: 200 },
    );
  } catch (err) {
    throw new Error(
      `notes ${JSON.stringify(titles)} not all listed within ${timeout} ms; listed: ${JSON.stringify(await listedTitles(page))}`,
      { cause: err },
    );
  }
}

/** Fill and submit the note form once; wait until the note is listed. */
async function createNote(page, { title, content, date = vnToday() }) {
  await showTab(page, 'new');
  await page.waitForSelector('body[data-draft-ready]', { state: 'attached', timeout: 10_000 });
  await page.fill('#note-date', date);
  await page.fill('#note-title', title);
  await page.fill('#note-content', content);
  // Link the first task offered.
  const task = page.locator('[data-testid=note-tasks] input[type=checkbox]').first();
  if ((await task.count()) > 0) await task.check();
  await page.click('button[data-testid=save-note]');
  await waitNotesListed(page, [title], 5_000);
}

/**
 * Wait until the desk's row for `commune` shows `data-notes="n"`, without reloading: the desk must
 * refresh by itself (live read model).
 */
async function waitDeskNotes(page, commune, n, timeout = 10_000) {
  const sel = `[data-testid=commune-row][data-commune-id=${commune}][data-notes="${n}"]`;
  try {
    await page.waitForSelector(sel, { state: 'attached', timeout });
  } catch (err) {
    const now = await page
      .$$eval('[data-testid=commune-row]', (rows) => rows.map((r) => `${r.getAttribute('data-commune-id')}=${r.getAttribute('data-notes')}`))
      .catch(() => []);
    throw new Error(`desk row ${commune} did not show data-notes="${n}" within ${timeout} ms; rows: ${now.join(' ')}`, { cause: err });
  }
}

test('offline field day: notes recorded without the server reach the desk and other phones', { timeout: TEST_TIMEOUT_MS }, async () => {
  // Say plainly what is missing rather than time out on a blank page.
  assert.ok(
    existsSync(chromiumPath()),
    `no Chromium at ${chromiumPath()}: install it (Debian: apt-get install chromium) or set CHROMIUM`,
  );
  assert.ok(
    existsSync(path.join(distDir(), 'index.html')),
    `no built app at ${distDir()}/index.html: build it (cargo xtask dist) or set DANVAN_DIST`,
  );
  const dataDir = await tempDataDir('danvan-browser-');
  const port = await freePort();
  const run = randomBytes(3).toString('hex');
  const pages = {};
  let server;
  let browser;
  try {
    server = await startServer({ dataDir, port, demo: true });
    const url = server.url;
    log(`server at ${url}`);
    browser = await launchChromium();

    // --- phone 1: online login, tasks, service worker -------------------------------------------
    const phoneCtx = await browser.newContext(PHONE);
    const phone = (pages.phone = await phoneCtx.newPage());
    watchPage(phone, 'phone');
    await phone.goto(url);
    await waitAppReady(phone);
    await loginUi(phone, 'kadon');
    await waitTasks(phone);
    await ensureServiceWorker(phone);
    await waitTasks(phone);
    // Each task says its deadline status in words (never colour alone). Ka Đơn has no progress yet,
    // so a task is either not started or, past a deadline the demo editor set, overdue.
    const statuses = await phone.$$eval('[data-testid=task-status]', (els) => els.map((e) => e.textContent.trim()));
    assert.ok(
      statuses.length > 0 &&
        statuses.every((t) => /^(Chưa bắt đầu|Quá hạn)( · sắp đến hạn)?$/.test(t)) &&
        statuses.some((t) => t.startsWith('Chưa bắt đầu')),
      `task statuses: ${statuses.join(' | ')}`,
    );
    log('phone logged in, tasks shown, service worker in control');

    // --- the server dies; the app starts from the service worker --------------------------------
    await server.kill();
    log('server killed (SIGKILL)');
    await phone.reload();
    await waitAppReady(phone);
    await waitBadge(phone, { online: 'false' }, 15_000);
    await waitTasks(phone, 10_000);
    log('phone reloaded from the service worker, badge offline');

    const first = [1, 2, 3].map((i) => `Họp bon e2e ${run} #${i}`);
    for (const [i, title] of first.entries()) {
      await createNote(phone, { title, content: `Ghi chép ngoại tuyến ${i + 1}\n45 người tham dự.` });
    }
    await waitBadge(phone, { unsynced: '3' }, 5_000);
    await phone.reload();
    await waitAppReady(phone);
    await waitNotesListed(phone, first, 10_000);
    await waitBadge(phone, { unsynced: '3', online: 'false' }, 10_000);
    log('3 notes recorded offline, still there after reload, badge unsynced=3');

    // --- the server is back (same port, same data) ----------------------------------------------
    server = await startServer({ dataDir, port, demo: true });
    assert.equal(server.url, url, 'restarted server has the same origin');
    log('server restarted');
    await waitBadge(phone, { unsynced: '0' }, 10_000);
    await waitBadge(phone, { online: 'true' }, 5_000);
    log('phone synced: badge unsynced=0');

    // --- the aggregating desk sees them ---------------------------------------------------------
    const deskCtx = await browser.newContext(DESK);
    const desk = (pages.desk = await deskCtx.newPage());
    watchPage(desk, 'desk');
    await desk.goto(url);
    await waitAppReady(desk);
    await loginUi(desk, 'huyen');
    await waitDeskNotes(desk, COMMUNE, 3, 10_000);
    log('desk shows 3 notes for xa-ka-don');

    // --- another phone of the same commune sees them --------------------------------------------
    const phone2Ctx = await browser.newContext(PHONE);
    const phone2 = (pages.phone2 = await phone2Ctx.newPage());
    watchPage(phone2, 'phone2');
    await phone2.goto(url);
    await waitAppReady(phone2);
    await loginUi(phone2, 'kadon2');
    await waitNotesListed(phone2, first, 10_000);
    log('second phone (kadon2) lists the 3 notes');

    // --- again, with the browser's network emulation --------------------------------------------
    await phoneCtx.setOffline(true);
    await phone.reload(); // only possible through the service worker
    await waitAppReady(phone);
    await waitNotesListed(phone, first, 10_000);
    await waitBadge(phone, { online: 'false' }, 10_000);
    const second = [4, 5].map((i) => `Tuyên truyền e2e ${run} #${i}`);
    for (const [i, title] of second.entries()) {
      await createNote(phone, { title, content: `Ghi chép khi mất mạng ${i + 1}` });
    }
    await waitBadge(phone, { unsynced: '2', online: 'false' }, 5_000);
    log('offline emulation: 2 notes recorded, badge unsynced=2');
    await phoneCtx.setOffline(false);
    await waitBadge(phone, { unsynced: '0' }, 10_000);
    log('back online: badge unsynced=0');
    await waitDeskNotes(desk, COMMUNE, 5, 10_000);
    log('desk shows 5 notes for xa-ka-don');
    await waitNotesListed(phone2, [...first, ...second], 10_000);
    log('second phone lists all 5 notes');

    // --- "safe" comes over the socket: the server pushes its durable heads ----------------------
    // With every durable-heads answer over HTTP refused, a note written offline still turns safe
    // once back online, and an idle phone does not ask every round (it asked every 1.5 s before).
    let asked = 0;
    await phoneCtx.route('**/api/durable-heads', (route) => {
      asked += 1;
      return route.fulfill({ status: 503, body: 'test: no durable heads over HTTP' });
    });
    await phoneCtx.setOffline(true);
    await waitBadge(phone, { online: 'false' }, 10_000);
    const third = `Thăm hộ e2e ${run} #6`;
    await createNote(phone, { title: third, content: 'Ghi chép, xác nhận qua kênh đồng bộ' });
    await waitBadge(phone, { unsynced: '1', online: 'false' }, 5_000);
    await phoneCtx.setOffline(false);
    await waitBadge(phone, { unsynced: '0', online: 'true' }, 10_000);
    log(`note 6 confirmed by the server's push (HTTP durable heads refused ${asked} times)`);
    const askedBefore = asked;
    await phone.waitForTimeout(9_000);
    assert.ok(asked - askedBefore <= 1, `an idle phone asked for durable heads ${asked - askedBefore} times in 9 s`);
    log(`idle for 9 s: ${asked - askedBefore} durable-heads requests`);
    await phoneCtx.unroute('**/api/durable-heads');
    // A panic in the app aborts its wasm: whatever was checked above, the page is dead.
    assert.deepEqual(pageErrors(), [], 'uncaught errors on the pages');
  } catch (err) {
    await saveScreenshots(pages, 'browser');
    printPageLogs();
    printServerOutput();
    throw err;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop('SIGTERM').catch(() => {});
    await removeDir(dataDir);
  }
});
