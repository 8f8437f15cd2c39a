// The screenshots in docs/screenshots/: a real danvan-server (fresh data dir, demo data) and headless
// Chromium, the app in Vietnamese. Each screen is waited for through the DOM hooks of
// docs/contract.md; a screen that does not render its expected element fails the run (exit 1, with a
// full-page screenshot, the page's log and the server output under tests/artifacts/).
//
//   DANVAN_SERVER_BIN=../target/debug/danvan-server DANVAN_DIST=../target/dist \
//   CHROMIUM=/usr/bin/chromium node screenshots.mjs [--out DIR]
//
// (`cargo xtask screenshots` builds both and runs this.) Phone screens are 360×640 CSS px at
// deviceScaleFactor 2, i.e. 720×1280 PNGs; `desk-wide.png` is the office at 1280×900 (1×).
// The dates shown follow the clock; everything else is fixed.

import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { launchChromium, chromiumPath, printPageLogs, saveScreenshots, watchPage } from './lib/browser.mjs';
import {
  DEMO_PASSWORD,
  login as apiLogin,
  distDir,
  printServerOutput,
  removeDir,
  repoRoot,
  startServer,
  tempDataDir,
} from './lib/server.mjs';
import { vnToday } from './lib/ids.mjs';
import { showTab } from './lib/app.mjs';

const COMMUNE = 'xa-ka-don';
const CONTEXT = { locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh', colorScheme: 'light', reducedMotion: 'reduce' };
const PHONE = { ...CONTEXT, viewport: { width: 360, height: 640 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 };
const WIDE = { ...CONTEXT, viewport: { width: 1280, height: 900 }, deviceScaleFactor: 1 };
const TASK_ITEM = '[data-testid=task-item]';
/** The task whose progress the screenshots show: II.4.7 (its demo deadline is after the quarter). */
const PROGRESS_TASK = 't-ii-4-7';

function parseArgs(argv) {
  const out = { dir: process.env.SCREENSHOTS_DIR || path.join(repoRoot, 'docs', 'screenshots') };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') out.dir = path.resolve(argv[++i]);
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log('usage: node screenshots.mjs [--out DIR]   (default: docs/screenshots)');
      process.exit(0);
    } else throw new Error(`unknown argument ${argv[i]}`);
  }
  return out;
}

function log(msg) {
  process.stdout.write(`# ${new Date().toISOString().slice(11, 23)} ${msg}\n`);
}

/** Wait for `selector` (visible unless `state` says otherwise), naming the screen on failure. */
async function expect(page, selector, what, { timeout = 20_000, state = 'visible' } = {}) {
  try {
    return await page.waitForSelector(selector, { state, timeout });
  } catch (err) {
    throw new Error(`${what}: ${selector} did not render within ${timeout} ms`, { cause: err });
  }
}

async function expectCount(page, selector, min, what, timeout = 20_000) {
  try {
    await page.waitForFunction(([s, n]) => document.querySelectorAll(s).length >= n, [selector, min], {
      timeout,
      polling: 100,
    });
  } catch (err) {
    const n = await page.locator(selector).count().catch(() => '?');
    throw new Error(`${what}: expected ≥ ${min} × ${selector}, found ${n}`, { cause: err });
  }
}

async function waitBadge(page, want, timeout = 15_000) {
  await page.waitForFunction(
    (want) => {
      const b = document.querySelector('[data-testid=sync-badge]');
      return !!b && Object.entries(want).every(([k, v]) => b.getAttribute(`data-${k}`) === v);
    },
    want,
    { timeout, polling: 100 },
  );
}

/**
 * Settle the page for a deterministic picture: no focus ring or caret, fonts loaded, two frames
 * painted, then write `name`.png (viewport only, so every phone picture is 720×1280).
 */
/** A .docx's first page as LibreOffice lays it out (PDF, then PNG at 80 dpi via poppler). */
async function renderFirstPage(docx, pngPath) {
  const work = await mkdtemp(path.join(os.tmpdir(), 'danvan-report-'));
  try {
    const file = path.join(work, 'report.docx');
    await writeFile(file, docx);
    const run = (cmd, args) => {
      const r = spawnSync(cmd, args, { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr || r.error}`);
    };
    run('soffice', [`-env:UserInstallation=file://${work}/profile`, '--headless', '--convert-to', 'pdf', '--outdir', work, file]);
    run('pdftoppm', ['-png', '-r', '80', '-f', '1', '-l', '1', '-singlefile', path.join(work, 'report.pdf'), pngPath.replace(/\.png$/, '')]);
  } finally {
    await removeDir(work);
  }
}

async function shoot(page, dir, name) {
  await page.evaluate(async () => {
    document.activeElement?.blur?.();
    await document.fonts?.ready;
    await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
  });
  const file = path.join(dir, `${name}.png`);
  await page.screenshot({ path: file, animations: 'disabled', caret: 'hide', scale: 'device' });
  log(`wrote ${path.relative(process.cwd(), file)}`);
}

/** Scroll so that `selector`'s (or its `closest` ancestor's) top sits `margin` CSS px below the sticky header. */
async function scrollToTop(page, selector, margin = 12, closest = null) {
  await page.evaluate(
    ([sel, margin, closest]) => {
      let el = document.querySelector(sel);
      if (el && closest) el = el.closest(closest) || el;
      if (!el) throw new Error(`nothing to scroll to: ${sel}`);
      const header = document.querySelector('header.top');
      const top = header && getComputedStyle(header).position === 'sticky' ? header.getBoundingClientRect().height : 0;
      window.scrollTo(0, Math.max(0, el.getBoundingClientRect().top + window.scrollY - top - margin));
    },
    [selector, margin, closest],
  );
}

/** The office screens count documents still arriving as unsynced: let them settle (or say so). */
async function settleBadge(page, what) {
  await waitBadge(page, { online: 'true', unsynced: '0' }, 30_000).catch(async () => {
    const b = await page.locator('[data-testid=sync-badge]').textContent().catch(() => '?');
    log(`warning: ${what}: the sync badge did not settle (${b})`);
  });
}

async function newPage(browser, pages, name, options) {
  const context = await browser.newContext(options);
  // Vietnamese whatever the machine's locale (the app's default; remembered per device).
  await context.addInitScript(() => {
    try {
      localStorage.setItem('danvan.lang', 'vi');
    } catch {
      /* storage not available yet */
    }
  });
  const page = await context.newPage();
  // As on a phone where the app is installed: storage is persistent, so the app has no reason to show
  // its "install the app" warning (headless Chromium never grants it by itself).
  const cdp = await context.newCDPSession(page);
  const { targetInfo } = await cdp.send('Target.getTargetInfo');
  await cdp
    .send('Browser.grantPermissions', { permissions: ['durableStorage'], browserContextId: targetInfo.browserContextId })
    .catch((err) =>
    log(`warning: could not grant durable storage: ${err.message}`),
  );
  watchPage(page, name);
  pages[name] = page;
  return { context, page };
}

async function login(page, url, username) {
  await page.goto(url);
  await expect(page, 'body[data-app-ready]', `${username}: app start`, { state: 'attached' });
  await expect(page, '#username', `${username}: login form`);
  await page.fill('#username', username);
  await page.fill('#password', DEMO_PASSWORD);
  await page.click('button[data-testid=login]');
}

/** Three field notes as a commune cadre would write them: participants, petitions, linked tasks. */
const NOTES = [
  {
    title: 'Họp dân bon Ka Rái về xây dựng khu dân cư kiểu mẫu',
    type: 'hoi-nghi',
    hamlet: 'ka-don-bon-ka-rai',
    unit: 'mttq',
    tasks: ['t-ii-4-5'],
    people: { total: 62, women: 35, ethnic: 48, religious: 12 },
    content:
      'Ban Công tác Mặt trận bon phối hợp chi hội Phụ nữ tổ chức họp dân, phổ biến tiêu chí khu dân cư kiểu mẫu; bà con thống nhất góp ngày công làm đường nội bon.',
    results: '45 hộ đăng ký góp 120 ngày công; 3 hộ hiến đất mở rộng đường.',
    petitions: [
      { text: 'Đề nghị sửa cầu tràn suối Đạ Queyon trước mùa mưa.', status: 'dang-xu-ly' },
      { text: 'Đề nghị hỗ trợ giống cà phê tái canh cho hộ nghèo.', status: 'moi' },
    ],
  },
  {
    title: 'Thăm hỏi gia đình chính sách thôn Ka Đơn',
    type: 'tham-hoi',
    hamlet: 'ka-don-thon-ka-don',
    unit: 'hoi-ccb',
    tasks: ['t-ii-4-4'],
    people: { total: 14, women: 6, ethnic: 9, religious: 3 },
    content: 'Hội Cựu chiến binh thăm 7 gia đình chính sách, nắm tình hình đời sống và tâm tư của bà con.',
    results: 'Tặng 7 suất quà; ghi nhận 2 hộ cần hỗ trợ sửa nhà.',
    petitions: [{ text: 'Đề nghị xã xem xét hỗ trợ sửa nhà cho 2 hộ khó khăn.', status: 'da-chuyen' }],
  },
  {
    title: 'Tuyên truyền phòng, chống ma túy cho đoàn viên',
    type: 'tuyen-truyen',
    hamlet: '',
    unit: 'doan-thanh-nien',
    tasks: ['t-ii-4-7', 't-ii-1'],
    people: { total: 85, women: 40, ethnic: 51, religious: 20 },
    content: 'Đoàn xã tổ chức buổi tuyên truyền tại nhà văn hóa xã, có mời Công an xã báo cáo tình hình.',
    results: '85 đoàn viên, thanh niên ký cam kết không sử dụng ma túy.',
    petitions: [],
  },
];

async function selectIfPresent(page, selector, value) {
  if (!value) return;
  const has = await page
    .locator(`${selector} option[value="${value}"]`)
    .count()
    .catch(() => 0);
  if (has) await page.selectOption(selector, value);
  else log(`warning: ${selector} has no option ${value}`);
}

/** Fill the note form with `note`; again if the form lost the typed title meanwhile (seen once). */
async function fillNote(page, note, options) {
  for (let attempt = 0; attempt < 3; attempt++) {
    await fillNoteOnce(page, note, options);
    if ((await page.inputValue('#note-title')) === note.title) return;
    log(`warning: the note form lost the typed title of "${note.title}"; filling again`);
    await page.waitForTimeout(200);
  }
  throw new Error(`the note form keeps losing the typed title of "${note.title}"`);
}

/** Fill the note form with `note` (only date, title, type, hamlet and unit if `upTo` = 'basics'). */
async function fillNoteOnce(page, note, { upTo = 'all' } = {}) {
  await showTab(page, 'new');
  await expect(page, 'form[data-testid=note-form]', 'note form');
  await expect(page, 'body[data-draft-ready]', 'note draft', { state: 'attached' });
  await page.fill('#note-date', vnToday());
  await page.fill('#note-title', note.title);
  await selectIfPresent(page, '#note-type', note.type);
  await selectIfPresent(page, '#note-hamlet', note.hamlet);
  await selectIfPresent(page, '#note-unit', note.unit);
  if (upTo === 'basics') return;
  for (const t of note.tasks) {
    const box = page.locator(`#note-task-${t}`);
    if (await box.count()) await box.check();
  }
  await page.fill('#note-total', String(note.people.total));
  await page.fill('#note-women', String(note.people.women));
  await page.fill('#note-ethnic', String(note.people.ethnic));
  await page.fill('#note-religious', String(note.people.religious));
  await page.fill('#note-content', note.content);
  await page.fill('#note-results', note.results);
  for (const [i, p] of note.petitions.entries()) {
    await page.click('[data-testid=add-petition]');
    await expect(page, `#petition-${i}-text`, 'petition field');
    await page.fill(`#petition-${i}-text`, p.text);
    await page.selectOption(`#petition-${i}-status`, p.status);
  }
}

async function saveNote(page, title) {
  await page.click('button[data-testid=save-note]');
  // The app confirms on the form ("Đã lưu trên máy.") and/or moves to the notes tab.
  await page
    .waitForFunction(
      () =>
        !!document.querySelector('[data-testid=nav-notes][aria-current=page]') ||
        !!document.querySelector('[data-testid=note-message].ok'),
      null,
      { timeout: 10_000, polling: 50 },
    )
    .catch(async (err) => {
      const msg = await page.locator('[data-testid=note-message]').textContent().catch(() => null);
      throw new Error(`note "${title}" not saved; message: ${JSON.stringify(msg)}`, { cause: err });
    });
  await showTab(page, 'notes');
  await page.locator('[data-testid=note-item]', { hasText: title }).first().waitFor({ timeout: 10_000 });
}

async function recordProgress(page, task, unit, pct, remark) {
  await showTab(page, 'tasks');
  const item = page.locator(`${TASK_ITEM}[data-task-id=${task}]`);
  await item.waitFor({ timeout: 20_000 });
  if (!(await item.locator('[data-testid=task-detail]').count())) await item.locator('button.task-head').click();
  await expect(page, `${TASK_ITEM}[data-task-id=${task}] form[data-testid=progress-form]`, `${task} progress form`);
  await page.selectOption(`#p-${task}-unit`, unit);
  await page.fill(`#p-${task}-pct`, String(pct));
  await page.fill(`#p-${task}-remark`, remark);
  await item.locator('button[data-testid=save-progress]').click();
  await expect(page, `${TASK_ITEM}[data-task-id=${task}] [data-testid=unit-progress][data-unit=${unit}]`, `${task} ${unit} row`);
}

async function main() {
  const { dir } = parseArgs(process.argv.slice(2));
  if (!existsSync(chromiumPath())) throw new Error(`no Chromium at ${chromiumPath()} (apt-get install chromium, or set CHROMIUM)`);
  if (!existsSync(path.join(distDir(), 'index.html'))) throw new Error(`no built app at ${distDir()} (cargo xtask dist, or set DANVAN_DIST)`);
  await mkdir(dir, { recursive: true });
  const planText = await readFile(path.join(repoRoot, 'server', 'fixtures', 'ke-hoach-chi-thi-18-2022.txt'), 'utf8');

  const dataDir = await tempDataDir('danvan-screenshots-');
  const pages = {};
  let server;
  let browser;
  try {
    server = await startServer({ dataDir, demo: true });
    const url = server.url;
    log(`server at ${url}`);
    // The browser's own widgets (the date field: 27/11/2026) follow the browser's language, taken
    // from the environment on Linux; it needs Debian's chromium-l10n (else they stay en-US).
    browser = await launchChromium({ env: { ...process.env, LANGUAGE: 'vi' } });

    // --- member: login, then three notes and some progress so the screens have content -----------
    const { page: phone } = await newPage(browser, pages, 'member', PHONE);
    await phone.goto(url);
    await expect(phone, 'body[data-app-ready]', 'login screen', { state: 'attached' });
    await expect(phone, 'button[data-testid=login]', 'login screen');
    await shoot(phone, dir, 'login');

    await phone.fill('#username', 'kadon');
    await phone.fill('#password', DEMO_PASSWORD);
    await phone.click('button[data-testid=login]');
    await showTab(phone, 'tasks');
    await expectCount(phone, TASK_ITEM, 1, 'tasks');

    for (const note of NOTES) {
      await fillNote(phone, note);
      await saveNote(phone, note.title);
    }
    log(`${NOTES.length} notes saved`);
    await recordProgress(phone, PROGRESS_TASK, 'hoi-phu-nu', 40, 'Đã họp 3 thôn, 2 chi hội đăng ký mô hình');
    await recordProgress(phone, PROGRESS_TASK, 'doan-thanh-nien', 60, 'Tuyên truyền xong ở 2/3 thôn');
    await recordProgress(phone, 't-ii-4-5', 'mttq', 100, 'Bon Ka Rái đạt khu dân cư kiểu mẫu');
    await waitBadge(phone, { online: 'true', unsynced: '0' }, 20_000).catch(() =>
      log('warning: the phone did not report everything synced'),
    );
    log('progress recorded and synced');

    // tasks.png: the list from the top, every task closed.
    await phone.reload();
    await showTab(phone, 'tasks');
    await expectCount(phone, `${TASK_ITEM} [data-testid=task-status]`, 3, 'tasks screen');
    await phone.evaluate(() => window.scrollTo(0, 0));
    await shoot(phone, dir, 'tasks');

    // task-detail.png: II.4.7 opened, scrolled to its units' progress and the form.
    const item = phone.locator(`${TASK_ITEM}[data-task-id=${PROGRESS_TASK}]`);
    await item.locator('button.task-head').click();
    await expect(phone, `${TASK_ITEM}[data-task-id=${PROGRESS_TASK}] [data-testid=task-detail]`, 'task detail');
    await expectCount(phone, `${TASK_ITEM}[data-task-id=${PROGRESS_TASK}] [data-testid=unit-progress]`, 2, 'unit progress rows');
    await expect(phone, `${TASK_ITEM}[data-task-id=${PROGRESS_TASK}] form[data-testid=progress-form]`, 'progress form');
    // The units' progress at the top of the screen, the form below.
    await scrollToTop(phone, `${TASK_ITEM}[data-task-id=${PROGRESS_TASK}] [data-testid=task-detail] ul.progress`, 48);
    await shoot(phone, dir, 'task-detail');

    // notes.png: the list with its search box and filters (opened).
    await showTab(phone, 'notes');
    await expect(phone, '#note-search', 'notes screen');
    await expect(phone, `[data-testid=notes-count][data-count="${NOTES.length}"]`, 'notes count', { state: 'attached' });
    await expectCount(phone, '[data-testid=note-item]', NOTES.length, 'notes list');
    await phone.evaluate(() => window.scrollTo(0, 0));
    await shoot(phone, dir, 'notes');

    // note-form.png: a new note, partly filled in.
    await fillNote(
      phone,
      {
        title: 'Vận động hộ dân tham gia mô hình "Nhà sạch, vườn đẹp"',
        type: 'van-dong',
        hamlet: 'ka-don-bon-ka-rai',
        unit: 'hoi-phu-nu',
      },
      { upTo: 'basics' },
    );
    await scrollToTop(phone, 'form[data-testid=note-form]');
    await shoot(phone, dir, 'note-form');

    // sync.png
    await showTab(phone, 'sync');
    await expect(phone, '[data-testid=sync-screen]', 'sync screen');
    await expect(phone, '[data-testid=sync-unsynced][data-count]', 'sync screen', { state: 'attached' });
    await expect(phone, '[data-testid=sync-online]', 'sync screen');
    await phone.evaluate(() => window.scrollTo(0, 0));
    await shoot(phone, dir, 'sync');

    // --- the aggregating level: overview and matrix, on a phone and a wide screen ----------------
    for (const [name, options] of [
      ['desk', PHONE],
      ['desk-wide', WIDE],
    ]) {
      const { page } = await newPage(browser, pages, name, options);
      await login(page, url, 'huyen');
      await page.waitForURL(/\/office\/?/, { timeout: 20_000 });
      await expect(page, 'button[data-testid=tab-overview]', 'desk tabs');
      await expect(page, `[data-testid=commune-row][data-commune-id=${COMMUNE}][data-notes="${NOTES.length}"]`, 'overview row of Ka Đơn', {
        state: 'attached',
      });
      await expect(page, 'table[data-testid=matrix]', 'matrix');
      await expect(
        page,
        `td[data-testid=matrix-cell][data-commune-id=${COMMUNE}][data-task-id=${PROGRESS_TASK}][data-status=InProgress]`,
        'matrix cell of Ka Đơn',
        { state: 'attached' },
      );
      await settleBadge(page, name);
      if (name === 'desk') {
        // A phone: the matrix (its plan title above it; the overview is in desk-wide.png).
        await scrollToTop(page, 'table[data-testid=matrix]', 260);
      } else {
        // A wide screen: the overview's table whole, the matrix's first rows below it.
        await scrollToTop(page, '[data-testid=commune-row]', 8, '.card');
      }
      await shoot(page, dir, name);
    }

    // --- the aggregating level's workspace: period summary, notes, petitions ------------------------
    for (const [suffix, options] of [
      ['', PHONE],
      ['-wide', WIDE],
    ]) {
      const { page } = await newPage(browser, pages, `office${suffix}`, options);
      await login(page, url, 'huyen');
      await page.waitForURL(/\/office\/?/, { timeout: 20_000 });
      await expect(page, `[data-testid=period-row][data-commune-id=${COMMUNE}]`, 'period summary', { state: 'attached' });
      await settleBadge(page, `office${suffix}`);
      await scrollToTop(page, '[data-testid=period-summary]');
      await shoot(page, dir, `office-summary${suffix}`);
      await page.click('button[data-testid=tab-notes]');
      await page.fill('#office-search', 'dan van');
      await page.press('#office-search', 'Enter');
      await expect(page, '[data-testid=office-note]', 'office notes');
      await scrollToTop(page, '[data-testid=office-notes]');
      await shoot(page, dir, `office-notes${suffix}`);
      // The search is shared by the two lists: the register shows every petition of the period.
      await page.fill('#office-search', '');
      await page.press('#office-search', 'Enter');
      await page.click('button[data-testid=tab-petitions]');
      await expect(page, '[data-testid=petition-row]', 'petitions register');
      await scrollToTop(page, '[data-testid=office-petitions]');
      await shoot(page, dir, `office-petitions${suffix}`);
      // A matrix cell's drill-down: the commune's records for the task, and the notes behind them.
      await page.click('button[data-testid=tab-overview]');
      await page.click(`td[data-testid=matrix-cell][data-commune-id=${COMMUNE}][data-task-id=${PROGRESS_TASK}] button`);
      await expect(page, `[data-testid=commune-page] [data-testid=unit-progress]`, 'drill-down records');
      await scrollToTop(page, '[data-testid=commune-page]');
      await shoot(page, dir, `office-drill${suffix}`);
    }

    // --- the quarterly report: the office's tab, and the .docx's first page in both layouts ---------
    {
      const { page } = await newPage(browser, pages, 'report', WIDE);
      await login(page, url, 'huyen');
      await page.waitForURL(/\/office\/?/, { timeout: 20_000 });
      await page.click('button[data-testid=tab-report]');
      await expect(page, '[data-testid=report-cut]', 'report screen');
      await scrollToTop(page, '[data-testid=report-screen]');
      await shoot(page, dir, 'office-report-wide');
      const { token } = await apiLogin(url, 'huyen');
      const target = `plan=kh-ct18-2022&period=${await page.inputValue('#report-period')}&node=huyen-demo`;
      const status = await (await fetch(`${url}/api/reports?${target}`, { headers: { authorization: `Bearer ${token}` } })).json();
      for (const [name, settings] of [
        ['report-party', status.settings],
        ['report-front', status.settings_front],
      ]) {
        const q = `${target}&format=docx&settings=${encodeURIComponent(JSON.stringify(settings))}`;
        const res = await fetch(`${url}/api/reports/file?${q}`, { headers: { authorization: `Bearer ${token}` } });
        if (res.status !== 200) throw new Error(`report ${name}: HTTP ${res.status}`);
        await renderFirstPage(Buffer.from(await res.arrayBuffer()), path.join(dir, `${name}.png`));
        log(`wrote ${path.join(dir, `${name}.png`)}`);
      }
    }

    // --- editor: a draft preview of the sample plan ------------------------------------------------
    {
      const { page } = await newPage(browser, pages, 'editor', PHONE);
      await login(page, url, 'bientap');
      await page.waitForURL(/\/office\/?/, { timeout: 20_000 });
      await expect(page, 'button[data-testid=tab-plans]', 'editor tabs');
      await page.click('button[data-testid=tab-plans]');
      await expect(page, 'section[data-testid=plan-import]', 'plan import');
      await page.fill('#plan-text', planText);
      await page.click('button[data-testid=plan-preview]');
      await expect(page, '[data-testid=plan-draft]', 'plan draft', { timeout: 20_000 });
      await expectCount(page, '[data-testid=draft-task]', 10, 'draft tasks');
      await settleBadge(page, 'plans');
      await scrollToTop(page, '[data-testid=plan-draft]');
      await shoot(page, dir, 'plans');
    }

    // --- admin: the org tree ------------------------------------------------------------------------
    {
      const { page } = await newPage(browser, pages, 'admin', PHONE);
      await login(page, url, 'admin');
      await page.waitForURL(/\/office\/?/, { timeout: 20_000 });
      await expect(page, 'button[data-testid=tab-org]', 'admin tabs');
      await page.click('button[data-testid=tab-org]');
      await expect(page, 'section[data-testid=org-admin]', 'org screen');
      await expect(page, 'li[data-testid=org-node][data-level=root]', 'org root');
      await expect(page, `li[data-testid=org-node][data-node-id=${COMMUNE}][data-level=commune]`, 'org commune', {
        state: 'attached',
      });
      await settleBadge(page, 'org');
      await page.evaluate(() => window.scrollTo(0, 0));
      await shoot(page, dir, 'org');
    }
    log(`done: ${dir}`);
  } catch (err) {
    await saveScreenshots(pages, 'screenshots');
    printPageLogs();
    printServerOutput();
    throw err;
  } finally {
    if (browser) await browser.close().catch(() => {});
    if (server) await server.stop('SIGTERM').catch(() => {});
    await removeDir(dataDir);
  }
}

main().then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`\nscreenshots failed: ${err.stack || err}\n`);
    if (err.cause) process.stderr.write(`cause: ${err.cause.message || err.cause}\n`);
    process.exit(1);
  },
);
