// Plans, progress and the org tree, end to end: a real danvan-server process and headless Chromium.
//
// 1. A commune's unit records its progress on a task while the server is down; it survives a reload
//    and reaches the aggregating level's matrix once the server is back.
// 2. An editor imports, publishes and assigns a new plan; a commune's phone receives the task with
//    its deadline and lead unit.
// 3. An administrator adds a hamlet on one device; another device sees it through the server; a
//    member never sees the org screen.
//
//   DANVAN_SERVER_BIN=../target/debug/danvan-server DANVAN_DIST=../target/dist \
//   CHROMIUM=/usr/bin/chromium node --test plan_org.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PHONE, DESK, BADGE, TASK_ITEM, showTab, waitAppReady, badgeState, waitBadge, loginUi, waitTasks, ensureServiceWorker } from './lib/app.mjs';
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
import { quarterOf, vnToday } from './lib/ids.mjs';

const COMMUNE = 'xa-ka-don';
const DEMO_PLAN = 'kh-ct18-2022';
const TEST_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 120_000);

function log(msg) {
  process.stdout.write(`# ${new Date().toISOString().slice(11, 23)} ${msg}\n`);
}

/** `YYYY-MM-DD` plus `days` calendar days. */
function addDays(iso, days) {
  const [y, m, d] = iso.split('-').map(Number);
  return new Date(Date.UTC(y, m - 1, d + days)).toISOString().slice(0, 10);
}

/** `YYYY-MM-DD` → `DD/MM/YYYY`, as the app shows dates. */
function displayDate(iso) {
  const [y, m, d] = iso.split('-');
  return `${d}/${m}/${y}`;
}

/** The current quarter in Asia/Ho_Chi_Minh as the app words it: `quý 4/2026`. */
function quarterWords() {
  const [y, q] = quarterOf(vnToday()).split('-Q');
  return `quý ${q}/${Number(y)}`;
}

function reEscape(s) {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Wait until `locator`'s text (trimmed) matches `re`; the error says what the text was instead.
 * Strict: a locator matching several elements is an error.
 */
async function waitText(locator, re, { timeout = 10_000, what = 'element' } = {}) {
  const deadline = Date.now() + timeout;
  let last = '(not found)';
  for (;;) {
    try {
      if ((await locator.count()) === 1) {
        last = (await locator.textContent({ timeout: 1_000 })).trim();
        if (re.test(last)) return last;
      } else {
        last = `(${await locator.count()} elements)`;
      }
    } catch (err) {
      last = `(unreadable: ${err.message.split('\n')[0]})`;
    }
    if (Date.now() >= deadline) {
      throw new Error(`${what}: text did not match ${re} within ${timeout} ms; it is ${JSON.stringify(last)}`);
    }
    await new Promise((r) => setTimeout(r, 150));
  }
}

/** Open a fresh browser context and page under `name` (logged and screenshotted on failure). */
async function openPage(ctx, name, options) {
  const context = await ctx.browser.newContext(options);
  const page = await context.newPage();
  watchPage(page, `${ctx.prefix}-${name}`);
  ctx.pages[name] = page;
  return { context, page };
}

/** Open the app, log in, and wait for the first screen of that role. */
async function signIn(ctx, name, username, options) {
  const { context, page } = await openPage(ctx, name, options);
  await page.goto(ctx.server.url);
  await waitAppReady(page);
  await loginUi(page, username);
  return { context, page };
}

/**
 * One scenario: a demo server on a fresh data dir and a browser; on failure screenshots, page logs
 * and server output; always cleaned up.
 */
async function scenario(prefix, body) {
  // Say plainly what is missing rather than time out on a blank page.
  assert.ok(
    existsSync(chromiumPath()),
    `no Chromium at ${chromiumPath()}: install it (Debian: apt-get install chromium) or set CHROMIUM`,
  );
  assert.ok(
    existsSync(path.join(distDir(), 'index.html')),
    `no built app at ${distDir()}/index.html: build it (cargo xtask dist) or set DANVAN_DIST`,
  );
  const ctx = { prefix, pages: {}, server: null, browser: null };
  ctx.dataDir = await tempDataDir(`danvan-${prefix}-`);
  ctx.port = await freePort();
  try {
    ctx.server = await startServer({ dataDir: ctx.dataDir, port: ctx.port, demo: true });
    log(`server at ${ctx.server.url}`);
    ctx.browser = await launchChromium();
    const seen = new Set(pageErrors());
    await body(ctx);
    // A panic in the app aborts its wasm: whatever the scenario checked, the page is dead.
    assert.deepEqual(pageErrors().filter((e) => !seen.has(e)), [], 'uncaught errors on the pages');
  } catch (err) {
    await saveScreenshots(ctx.pages, prefix);
    printPageLogs();
    printServerOutput();
    throw err;
  } finally {
    if (ctx.browser) await ctx.browser.close().catch(() => {});
    if (ctx.server) await ctx.server.stop('SIGTERM').catch(() => {});
    await removeDir(ctx.dataDir);
  }
}

// ---------------------------------------------------------------------------------------------------

// The demo editor's deadlines are relative to the current quarter (server/src/seed.rs): II.4.3's
// (45 days in) has passed in the second half of a quarter, II.4.7's (100 days in) is always after the
// quarter's end. II.4.7 is therefore the task whose status is "in progress, within the deadline" on
// any day the test runs.
const PROGRESS_TASK = 't-ii-4-7';
const PROGRESS_UNIT = 'hoi-phu-nu';

test('a unit records progress offline and the desk sees it', { timeout: TEST_TIMEOUT_MS }, async () => {
  await scenario('progress', async (ctx) => {
    const run = randomBytes(3).toString('hex');
    const remark = `Đã họp 3 thôn, e2e ${run}`;
    const T = PROGRESS_TASK;
    const itemSel = `${TASK_ITEM}[data-task-id=${T}]`;

    // --- phone online: tasks, service worker ------------------------------------------------------
    const { page: phone } = await signIn(ctx, 'phone', 'kadon', PHONE);
    await waitTasks(phone);
    await ensureServiceWorker(phone);
    await waitTasks(phone);
    const item = phone.locator(itemSel);
    assert.equal(await item.count(), 1, `exactly one task item ${T} on kadon's phone`);
    // Ka Đơn starts with no progress (demo communes with accounts start empty).
    await waitText(item.locator('[data-testid=task-status]'), /^Chưa bắt đầu$/, { what: `${T} chip before` });
    // A quarterly duty says whether this quarter's report is in.
    await waitText(
      phone.locator(`${TASK_ITEM}[data-task-id=t-ii-2] [data-testid=task-period]`),
      new RegExp(`^Hằng quý · ${reEscape(quarterWords())}: chưa báo cáo$`),
      { what: 't-ii-2 period chip' },
    );
    log('phone logged in, tasks shown, service worker in control');

    // --- the server dies; the app starts from the service worker ----------------------------------
    await ctx.server.kill();
    log('server killed (SIGKILL)');
    await phone.reload();
    await waitAppReady(phone);
    await waitBadge(phone, { online: 'false' }, 15_000);
    await waitTasks(phone, 10_000);
    log('phone reloaded from the service worker, badge offline');

    // --- Hội Phụ nữ records 40 % ------------------------------------------------------------------
    await item.locator('button.task-head').click();
    const detail = item.locator('[data-testid=task-detail]');
    await detail.waitFor({ state: 'visible', timeout: 5_000 });
    const unitSelect = phone.locator(`#p-${T}-unit`);
    const kinds = await unitSelect.locator('option').evaluateAll((os) => os.map((o) => o.value));
    assert.ok(kinds.includes(PROGRESS_UNIT), `unit choices of ${T}: ${kinds.join(', ')}`);
    await unitSelect.selectOption(PROGRESS_UNIT);
    await phone.fill(`#p-${T}-pct`, '40');
    await phone.fill(`#p-${T}-remark`, remark);
    assert.equal(await phone.isChecked(`#p-${T}-done`), false, 'the done box starts unticked');
    await item.locator('button[data-testid=save-progress]').click();

    const row = detail.locator(`[data-testid=unit-progress][data-unit=${PROGRESS_UNIT}]`);
    await waitText(row, new RegExp(`^Hội Liên hiệp Phụ nữ: 40%.*kadon.*${reEscape(remark)}$`, 's'), {
      what: 'unit-progress row',
    });
    await waitText(item.locator('[data-testid=task-status]'), /^Đang thực hiện trong hạn · 40%( · sắp đến hạn)?$/, {
      what: `${T} chip after saving`,
    });
    await waitBadge(phone, { online: 'false' }, 2_000);
    const pending = await badgeState(phone);
    assert.ok(Number(pending.unsynced) >= 1, `badge counts the offline change: ${JSON.stringify(pending)}`);
    log(`progress saved offline; badge ${JSON.stringify(pending)}`);

    // --- reload while offline: still there --------------------------------------------------------
    await phone.reload();
    await waitAppReady(phone);
    await waitTasks(phone, 10_000);
    await waitText(item.locator('[data-testid=task-status]'), /^Đang thực hiện trong hạn · 40%( · sắp đến hạn)?$/, {
      what: `${T} chip after an offline reload`,
    });
    await item.locator('button.task-head').click();
    await waitText(row, new RegExp(`^Hội Liên hiệp Phụ nữ: 40%.*${reEscape(remark)}$`, 's'), {
      what: 'unit-progress row after an offline reload',
    });
    await waitBadge(phone, { online: 'false', unsynced: pending.unsynced }, 5_000);
    log('after an offline reload the progress is still there, still unsynced');

    // --- the server is back (same port, same data) ------------------------------------------------
    const url = ctx.server.url;
    ctx.server = await startServer({ dataDir: ctx.dataDir, port: ctx.port, demo: true });
    assert.equal(ctx.server.url, url, 'restarted server has the same origin');
    log('server restarted');
    await waitBadge(phone, { unsynced: '0' }, 15_000);
    await waitBadge(phone, { online: 'true' }, 5_000);
    log('phone synced: badge unsynced=0');

    // --- the aggregating level (viewer) sees it ---------------------------------------------------
    const { page: desk } = await signIn(ctx, 'desk', 'huyen', DESK);
    await desk.waitForSelector('button[data-testid=tab-overview]', { timeout: 15_000 });
    assert.equal(await desk.locator('[data-testid=tab-plans]').count(), 0, 'a viewer has no plans tab');
    assert.equal(await desk.locator('[data-testid=tab-org]').count(), 0, 'a viewer has no org tab');
    await desk.waitForSelector(`[data-testid=commune-row][data-commune-id=${COMMUNE}]`, { timeout: 15_000 });
    const matrix = desk.locator('table[data-testid=matrix]');
    await matrix.first().waitFor({ state: 'visible', timeout: 15_000 });
    assert.equal(await matrix.count(), 1, 'one plan, one matrix');
    const cell = (c, t) => matrix.locator(`td[data-testid=matrix-cell][data-commune-id=${c}][data-task-id=${t}]`);

    const ours = cell(COMMUNE, T);
    await desk
      .waitForSelector(
        `td[data-testid=matrix-cell][data-commune-id=${COMMUNE}][data-task-id=${T}][data-status=InProgress]`,
        { state: 'attached', timeout: 15_000 },
      )
      .catch(async (err) => {
        throw new Error(
          `matrix cell ${COMMUNE} × ${T} is not InProgress: status=${await ours.getAttribute('data-status').catch(() => '?')} text=${JSON.stringify(await ours.textContent().catch(() => '?'))}`,
          { cause: err },
        );
      });
    // The status words and percent, then when the unit recorded it (dd/mm).
    await waitText(ours, /^Đang làm 40%\d\d\/\d\d$/, { what: `matrix cell ${COMMUNE} × ${T}` });
    log(`desk matrix: ${COMMUNE} × ${T} InProgress 40%`);

    // Demo communes' reports: Tu Tra finished the quarterly II.2 report.
    const tuTra = cell('xa-tu-tra', 't-ii-2');
    await desk.waitForFunction(
      (sel) => ['DoneOnTime', 'DoneLate'].includes(document.querySelector(sel)?.getAttribute('data-status')),
      `table[data-testid=matrix] td[data-testid=matrix-cell][data-commune-id=xa-tu-tra][data-task-id=t-ii-2]`,
      { timeout: 15_000, polling: 200 },
    ).catch(async (err) => {
      throw new Error(`xa-tu-tra × t-ii-2 is not done: ${await tuTra.getAttribute('data-status').catch(() => '?')}`, { cause: err });
    });
    await waitText(tuTra, /^Xong (đúng|quá) hạn(\d\d\/\d\d)?$/, { what: 'xa-tu-tra × t-ii-2' });
    // Ka Đơn did not report II.2.
    assert.equal(await cell(COMMUNE, 't-ii-2').getAttribute('data-status'), 'NotStarted');

    // II.2 is quarterly: its row counts the communes that reported this quarter, which are exactly
    // those whose cell shows some progress (every demo record is dated in the current quarter).
    const ii2Row = matrix.locator('tr', { has: desk.locator('td[data-testid=matrix-cell][data-task-id=t-ii-2]') });
    assert.equal(await ii2Row.count(), 1, 'one matrix row for t-ii-2');
    const completeness = ii2Row.locator('[data-testid=completeness]');
    const text = await waitText(
      completeness,
      new RegExp(`^Hằng quý · ${reEscape(quarterWords())}: \\d+/8 xã đã báo cáo$`),
      { what: 't-ii-2 completeness' },
    );
    const reported = Number(text.match(/(\d+)\/8/)[1]);
    const statuses = await ii2Row
      .locator('td[data-testid=matrix-cell]')
      .evaluateAll((tds) => tds.map((td) => td.getAttribute('data-status')));
    assert.equal(statuses.length, 8, `t-ii-2 targets the 8 demo communes: ${statuses.join(' ')}`);
    const withProgress = statuses.filter((s) => s !== 'NotStarted').length;
    assert.ok(reported >= 1, `someone reported t-ii-2: ${text}`);
    assert.equal(reported, withProgress, `completeness "${text}" vs cell statuses ${statuses.join(' ')}`);
    log(`desk: xa-tu-tra × t-ii-2 done; "${text}"`);
  });
});

// ---------------------------------------------------------------------------------------------------

const NEW_PLAN_TEXT = [
  'KẾ HOẠCH',
  'Triển khai tháng cao điểm dân vận khéo',
  'I. MỤC ĐÍCH, YÊU CẦU',
  '1. Mục đích',
  'Nâng cao chất lượng công tác dân vận ở cơ sở.',
  'II. NỘI DUNG',
  '1. Tổ chức hội nghị tuyên truyền ở các thôn.',
  '2. Định kỳ hàng quý báo cáo kết quả.',
  'III. TỔ CHỨC THỰC HIỆN',
  '1. Giao Hội Nông dân huyện chủ trì, phối hợp với Hội Liên hiệp Phụ nữ huyện triển khai.',
].join('\n');

// "Sắp đến hạn" is the last 7 days up to and including the deadline day (shared/src/status.rs:
// end of the deadline day minus now ≤ 7 × 24 h). A deadline 6 days from today is in that window
// whatever the time of day; 7 days from today only enters it tomorrow.
const DUE_IN_DAYS = 6;

test('an editor imports, publishes and assigns a plan; a phone receives it', { timeout: TEST_TIMEOUT_MS }, async () => {
  await scenario('plan', async (ctx) => {
    // --- the editor imports and reviews -----------------------------------------------------------
    const { page: editor } = await signIn(ctx, 'editor', 'bientap', DESK);
    await editor.click('button[data-testid=tab-plans]', { timeout: 15_000 });
    assert.equal(await editor.locator('[data-testid=tab-org]').count(), 0, 'an editor has no org tab');
    const importer = editor.locator('section[data-testid=plan-import]');
    await importer.waitFor({ state: 'visible', timeout: 10_000 });
    // The demo plan is already there, editable.
    await editor.waitForSelector(`section[data-testid=plan-tasks][data-plan-id=${DEMO_PLAN}]`, { timeout: 15_000 });
    await editor.fill('#plan-text', NEW_PLAN_TEXT);
    await editor.click('button[data-testid=plan-preview]');
    const draft = editor.locator('[data-testid=plan-draft]');
    await draft.waitFor({ state: 'visible', timeout: 10_000 }).catch(async (err) => {
      const msg = await editor.locator('[data-testid=plan-message]').textContent().catch(() => null);
      throw new Error(`no draft shown; message: ${JSON.stringify(msg)}`, { cause: err });
    });
    const draftTasks = await draft.locator('[data-testid=draft-task]').allTextContents();
    assert.ok(draftTasks.length >= 3, `draft tasks: ${JSON.stringify(draftTasks)}`);
    assert.ok(
      draftTasks.some((t) => t.includes('Tổ chức hội nghị tuyên truyền ở các thôn')),
      `draft tasks: ${JSON.stringify(draftTasks)}`,
    );
    assert.ok(
      draftTasks.some((t) => t.includes('Định kỳ hàng quý') && t.includes('Hằng quý')),
      `the quarterly duty is recognised: ${JSON.stringify(draftTasks)}`,
    );
    assert.equal(await draft.locator('[data-testid=draft-unclassified]').count(), 0, 'nothing unclassified');
    log(`draft: ${draftTasks.length} tasks`);

    // --- publish as a new plan --------------------------------------------------------------------
    assert.equal(await editor.inputValue('#plan-target'), '', 'the default target is a new plan');
    await editor.click('button[data-testid=plan-publish]');
    const message = await waitText(
      editor.locator('[data-testid=plan-message]'),
      /^Đã xuất bản \(lần 1\): (\d+) nhiệm vụ, \1 mới, 0 sửa đổi, 0 bỏ khỏi kế hoạch\.$/,
      { what: 'publish message', timeout: 15_000 },
    );
    assert.ok(Number(message.match(/: (\d+) nhiệm vụ/)[1]) >= 3, message);
    log(`published: ${message}`);

    const newPlanId = await editor
      .waitForFunction(
        ([demo]) =>
          [...document.querySelectorAll('section[data-testid=plan-tasks]')]
            .map((s) => s.getAttribute('data-plan-id'))
            .find((id) => id && id.startsWith('kh-') && id !== demo) || null,
        [DEMO_PLAN],
        { timeout: 15_000, polling: 200 },
      )
      .then((h) => h.jsonValue());
    log(`new plan ${newPlanId}`);
    const section = editor.locator(`section[data-testid=plan-tasks][data-plan-id=${newPlanId}]`);
    await waitText(section.locator('h2'), /dân vận khéo/, { what: 'new plan title' });

    // --- assign II.1: deadline and lead unit ------------------------------------------------------
    const T = 't-ii-1';
    const due = addDays(vnToday(), DUE_IN_DAYS);
    const taskEditor = section.locator(`li[data-testid=task-editor][data-task-id=${T}]`);
    await taskEditor.waitFor({ state: 'visible', timeout: 10_000 });
    await waitText(taskEditor.locator('button.task-head'), /Tổ chức hội nghị tuyên truyền ở các thôn/, { what: 'II.1 editor' });
    await taskEditor.locator('button.task-head').click();
    await taskEditor.locator(`#e-${T}-deadline`).fill(due);
    await taskEditor.locator(`#e-${T}-lead-mttq`).check();
    assert.equal(await taskEditor.locator(`#e-${T}-rec`).inputValue(), '', 'II.1 is not recurring');
    await taskEditor.locator('button[data-testid=save-task]').click();
    // The item is redrawn from the document: its summary shows what was saved.
    await waitText(
      section.locator(`li[data-testid=task-editor][data-task-id=${T}] .meta`),
      new RegExp(`^Chủ trì: Ủy ban MTTQ · Hạn ${reEscape(displayDate(due))}$`),
      { what: 'II.1 summary after saving' },
    );
    await waitBadge(editor, { unsynced: '0', online: 'true' }, 15_000);
    log(`II.1: deadline ${due}, lead mttq; editor synced`);

    // --- a commune's phone receives it ------------------------------------------------------------
    const { page: phone } = await signIn(ctx, 'phone', 'kadon', PHONE);
    await waitTasks(phone);
    const item = phone.locator(TASK_ITEM, { hasText: 'Tổ chức hội nghị tuyên truyền' });
    await item.first().waitFor({ state: 'attached', timeout: 15_000 });
    assert.equal(await item.count(), 1, 'one task item of the new plan titled "Tổ chức hội nghị tuyên truyền"');
    assert.equal(await item.getAttribute('data-task-id'), T);
    await waitText(item.locator('[data-testid=task-status]'), /^Chưa bắt đầu · sắp đến hạn$/, {
      what: 'new II.1 chip on the phone',
      timeout: 15_000,
    });
    // The quarterly duty of the new plan is there too, unreported.
    const ii2 = phone.locator(TASK_ITEM, { hasText: 'Định kỳ hàng quý báo cáo kết quả' });
    assert.equal(await ii2.count(), 1, 'the new plan\'s quarterly task is listed');
    await waitText(ii2.locator('[data-testid=task-period]'), new RegExp(`^Hằng quý · ${reEscape(quarterWords())}: chưa báo cáo$`), {
      what: 'new II.2 period chip',
    });
    await item.locator('button.task-head').click();
    const detail = item.locator('[data-testid=task-detail]');
    await detail.waitFor({ state: 'visible', timeout: 5_000 });
    await waitText(detail.locator('p.meta').first(), new RegExp(`^Chủ trì: Ủy ban MTTQ\\. Hạn: ${reEscape(displayDate(due))}$`), {
      what: 'new II.1 detail',
    });
    log('kadon sees the new II.1: due soon, led by Ủy ban MTTQ');
  });
});

// ---------------------------------------------------------------------------------------------------

test('an administrator adds a hamlet and it reaches another device', { timeout: TEST_TIMEOUT_MS }, async () => {
  await scenario('org', async (ctx) => {
    const NEW_ID = `${COMMUNE}-thon-da-tong`;
    const nodeSel = `li[data-testid=org-node][data-node-id=${NEW_ID}]`;

    async function openOrg(page) {
      await page.click('button[data-testid=tab-org]', { timeout: 15_000 });
      await page.waitForSelector('section[data-testid=org-admin]', { timeout: 10_000 });
      await page.waitForSelector(`li[data-testid=org-node][data-node-id=${COMMUNE}][data-level=commune]`, {
        timeout: 15_000,
      });
    }

    // --- admin adds a hamlet ----------------------------------------------------------------------
    const { page: admin } = await signIn(ctx, 'admin', 'admin', DESK);
    await openOrg(admin);
    await admin.waitForSelector('li[data-testid=org-node][data-node-id=huyen-demo][data-level=root]', { timeout: 5_000 });
    assert.equal(await admin.locator(nodeSel).count(), 0, 'the hamlet does not exist yet');
    const commune = admin.locator(`li[data-testid=org-node][data-node-id=${COMMUNE}]`);
    const form = commune.locator('form[data-testid=add-hamlet]').first();
    await form.locator(`#add-hamlet-${COMMUNE}`).fill('Thôn Đạ Tông');
    await form.locator('button[type=submit]').click();
    await waitText(admin.locator('[data-testid=org-message]'), /^Đã thêm\.$/, { what: 'org message' });
    const added = admin.locator(nodeSel);
    await added.waitFor({ state: 'attached', timeout: 5_000 });
    assert.equal(await added.getAttribute('data-level'), 'hamlet');
    // It sits under Ka Đơn, named as typed.
    assert.equal(await commune.locator(nodeSel).count(), 1, 'the hamlet is under xa-ka-don');
    await waitText(added.locator('.node-row strong').first(), /^Thôn Đạ Tông$/, { what: 'new hamlet name' });
    await waitBadge(admin, { unsynced: '0', online: 'true' }, 15_000);
    log(`admin added ${NEW_ID}; synced`);

    // --- another device sees it through the server ------------------------------------------------
    const { page: admin2 } = await signIn(ctx, 'admin2', 'admin', DESK);
    await openOrg(admin2);
    await admin2.waitForSelector(`li[data-testid=org-node][data-node-id=${COMMUNE}] ${nodeSel}[data-level=hamlet]`, {
      state: 'attached',
      timeout: 15_000,
    });
    await waitText(admin2.locator(`${nodeSel} .node-row strong`).first(), /^Thôn Đạ Tông$/, { what: 'hamlet on device 2' });
    log('second device lists the hamlet');

    // --- a change landing from elsewhere keeps what the second device is typing -------------------
    const typing = admin2.locator(`#add-hamlet-${COMMUNE}`);
    await typing.fill('Thôn đang gõ');
    const SECOND = `${COMMUNE}-bon-r-chai`;
    await form.locator(`#add-hamlet-${COMMUNE}`).fill('Bon R Chai');
    await form.locator('button[type=submit]').click();
    await admin2.waitForSelector(`li[data-testid=org-node][data-node-id=${SECOND}]`, { state: 'attached', timeout: 15_000 });
    assert.equal(await typing.inputValue(), 'Thôn đang gõ', 'the half-typed name survives the sync');
    log('a sync landing on device 2 keeps its half-typed name');

    // --- a member never sees the org screen -------------------------------------------------------
    const { page: phone } = await signIn(ctx, 'phone', 'kadon', PHONE);
    await waitTasks(phone);
    await waitBadge(phone, { online: 'true' }, 15_000);
    assert.equal(await phone.locator('[data-testid=tab-org]').count(), 0, 'a member has no org tab');
    assert.equal(await phone.locator('[data-testid=tab-plans]').count(), 0, 'a member has no plans tab');
    assert.equal(await phone.locator('section[data-testid=org-admin]').count(), 0, 'a member has no org screen');
    log('kadon has no org tab');
  });
});
