// The aggregating level's workspace (office bundle at /office/) end to end: a real danvan-server
// process and headless Chromium at 1366×900.
//
// A member saves a note with petitions offline and syncs; the office's period summary counts it,
// the notes tab finds it without diacritics and shows it whole, the petitions register lists its
// petitions; axe-core finds no serious violation on each office screen; with the network gone
// the office reopens from its cache and says how old its figures are.
//
//   DANVAN_SERVER_BIN=../target/debug/danvan-server DANVAN_DIST=../target/dist \
//   CHROMIUM=/usr/bin/chromium node --test office.test.mjs

import { test } from 'node:test';
import { readFile } from 'node:fs/promises';
import assert from 'node:assert/strict';
import { watchPage } from './lib/browser.mjs';
import { DESK } from './lib/app.mjs';
import {
  FORM_PHOTO,
  createNote,
  ensureServiceWorker,
  fillNote,
  idbPhotos,
  makeJpegs,
  openNoteForm,
  openTab,
  saveNote,
  formatViolations,
  log,
  loginUi,
  runAxeScrolled,
  scenario,
  signInPhone,
  waitAppReady,
  waitBadge,
} from './lib/field.mjs';

const COMMUNE = 'xa-ka-don';
const TEST_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 180_000);

async function axeClean(page, screen) {
  const { violations, passes } = await runAxeScrolled(page);
  assert.ok(passes > 10, `axe ran its rules on ${screen} (${passes} passed)`);
  const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  if (violations.length) process.stdout.write(`# axe on ${screen}:\n${formatViolations(violations)}\n`);
  assert.equal(bad.length, 0, `serious axe violations on ${screen}`);
}

test('the office counts, finds and lists a member\'s note, and opens offline from its cache', { timeout: TEST_TIMEOUT_MS }, async () => {
  await scenario('office', async (ctx) => {
    const { context: phoneCtx, page: phone } = await signInPhone(ctx, 'phone', 'kadon');
    const [jpeg] = await makeJpegs(ctx.browser, [{ width: 640, height: 480, seed: 7 }]);
    await phoneCtx.setOffline(true);
    // Offline: a note for the commune's first task, with petitions and a photo, and the unit's
    // progress on that task.
    await openNoteForm(phone);
    const taskBox = await phone.waitForSelector('[id^=note-task-]', { state: 'attached', timeout: 10_000 });
    const TASK = (await taskBox.getAttribute('id')).slice('note-task-'.length);
    await fillNote(phone, {
      title: 'Họp dân vận khéo ở bon Đạ Tông',
      content: 'Tuyên truyền Chỉ thị 18 cho bà con',
      total: 30,
      women: 12,
      tasks: [TASK],
      petitions: [{ text: 'Sửa đường liên thôn' }, { text: 'Hỗ trợ giống cà phê' }],
    });
    await phone.setInputFiles('#note-photo', [{ name: 'hop.jpg', mimeType: 'image/jpeg', buffer: jpeg }]);
    await phone.waitForSelector(`${FORM_PHOTO}`, { timeout: 20_000 });
    await saveNote(phone, 'Họp dân vận khéo ở bon Đạ Tông');
    await openTab(phone, 'tasks');
    const item = phone.locator(`li[data-testid=task-item][data-task-id="${TASK}"]`);
    await item.locator('button.task-head').click();
    await phone.fill(`#p-${TASK}-pct`, '40');
    await phone.fill(`#p-${TASK}-remark`, 'Đã họp 2 bon');
    await item.locator('button[data-testid=save-progress]').click();
    await item.locator('[data-testid=unit-progress]').first().waitFor({ timeout: 10_000 });
    await phoneCtx.setOffline(false);
    await waitBadge(phone, { unsynced: '0' }, 20_000);
    // The photo is uploaded after the document syncs: wait until the server holds it.
    for (let i = 0; ; i++) {
      const photos = await idbPhotos(phone);
      if (Object.values(photos).length === 1 && Object.values(photos).every((p) => p.uploaded)) break;
      assert.ok(i < 100, `the photo uploads: ${JSON.stringify(photos)}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    log(`member note (task ${TASK}, photo, 40 %) synced`);

    const deskCtx = await ctx.browser.newContext(DESK);
    const desk = await deskCtx.newPage();
    watchPage(desk, 'office-desk');
    ctx.pages.desk = desk;
    await desk.goto(ctx.server.url);
    await waitAppReady(desk);
    await loginUi(desk, 'huyen');
    const row = `[data-testid=period-row][data-commune-id=${COMMUNE}]`;
    await desk.waitForSelector(`${row}[data-notes="1"]`, { timeout: 20_000 });
    const figures = await desk.textContent('[data-testid=figure-notes]');
    assert.ok(Number(figures) >= 1, `the period's notes figure: ${figures}`);
    const reporting = await desk.getAttribute('[data-testid=communes-reporting]', 'data-reporting');
    const expected = await desk.getAttribute('[data-testid=communes-reporting]', 'data-expected');
    assert.ok(Number(reporting) >= 1 && Number(expected) >= 8, `${reporting}/${expected} communes reporting`);
    // Counted from the plan and progress documents, which the desk receives by sync: wait for them.
    await desk.waitForFunction(
      () => {
        const dds = [...document.querySelectorAll('[data-testid=task-statuses] dd')];
        return dds.length === 6 && dds.slice(0, 5).reduce((a, d) => a + Number(d.textContent), 0) > 0;
      },
      null,
      { timeout: 20_000 },
    );
    log('period summary counts the note');
    // The charts add up: the weekly line to the notes figure, one stacked bar per task.
    const notesFigure = Number(await desk.textContent('[data-testid=figure-notes]'));
    const weekly = await desk.$$eval('[data-testid=line-chart] [data-testid=point]', (ps) => ps.reduce((a, p) => a + Number(p.dataset.value), 0));
    assert.equal(weekly, notesFigure, 'notes per week add up to the notes of the period');
    const stacks = await desk.$$eval('[data-testid=stacked-chart] [data-testid=stack]', (gs) => gs.map((g) => Number(g.dataset.total)));
    assert.ok(stacks.length > 5 && stacks.every((n) => n > 0), `a status bar per task: ${stacks.join(',')}`);
    // A commune that went quiet is listed first, with its last sync and last note.
    const stale = desk.locator('[data-testid=stale-commune]');
    assert.ok((await stale.count()) >= 1, 'some demo commune has no note this quarter');
    assert.match(await stale.first().textContent(), /đồng bộ lần cuối .* ghi chép gần nhất/);
    await axeClean(desk, 'office overview');
    // Any range of days: one with no notes, then back to the quarter.
    const quarter = await desk.inputValue('#office-period');
    await desk.selectOption('#office-period', 'range');
    await desk.fill('#office-from', '2020-01-01');
    await desk.fill('#office-to', '2020-01-31');
    await desk.waitForSelector(`${row}[data-notes="0"]`, { timeout: 10_000 });
    assert.match(await desk.textContent('[data-testid=office-as-of]'), /01\/01\/2020–31\/01\/2020/);
    assert.equal(await desk.textContent('[data-testid=figure-notes]'), '0');
    await desk.selectOption('#office-period', quarter);
    await desk.waitForSelector(`${row}[data-notes="1"]`, { timeout: 10_000 });
    log('a range of days is a period too');
    // A figure opens the list behind it: the open petitions, as many as it says.
    const open = await desk.textContent('[data-testid=figure-petitions-open]');
    assert.ok(Number(open) >= 2, `open petitions: ${open}`);
    await desk.click('[data-testid=figure-petitions-open] button');
    await desk.waitForSelector(`[data-testid=office-petitions-count][data-count="${open.trim()}"]`, { timeout: 10_000 });
    assert.equal(await desk.inputValue('#office-petition-status'), 'open');
    await desk.selectOption('#office-petition-status', '');
    await desk.click('[data-testid=tab-overview]');
    log(`the open-petitions figure opens its ${open.trim()} petitions`);

    // A second note reaches the open desk by push (no reload; the fallback poll is 30 s away).
    await createNote(phone, { title: 'Thăm hỏi gia đình chính sách', content: 'Tặng quà' });
    await waitBadge(phone, { unsynced: '0' }, 20_000);
    await desk.waitForSelector(`${row}[data-notes="2"]`, { timeout: 10_000 });
    log('the desk updated by push');

    // The commune's name opens its notes; the search ignores accents.
    await desk.click(`${row} button`);
    await desk.waitForSelector('[data-testid=office-notes]');
    await desk.fill('#office-search', 'dan van kheo DA TONG');
    await desk.press('#office-search', 'Enter');
    const hit = desk.locator('[data-testid=office-note]', { hasText: 'Họp dân vận khéo' });
    await hit.waitFor({ timeout: 10_000 });
    const text = await hit.textContent();
    assert.match(text, /Tuyên truyền Chỉ thị 18/);
    assert.match(text, /Sửa đường liên thôn/);
    assert.match(text, /Xã Ka Đơn/);
    // (The commune's unfiltered page also holds the note: wait for the search's own answer.)
    await desk.waitForSelector('[data-testid=office-notes-count][data-count="1"]', { timeout: 10_000 });
    log('notes tab finds the note without diacritics, whole');
    await axeClean(desk, 'office notes');

    await desk.click('[data-testid=tab-petitions]');
    await desk.waitForSelector('[data-testid=petition-row]', { timeout: 10_000 });
    const petitions = await desk.$$eval('[data-testid=petition-row]', (rs) => rs.map((r) => r.textContent));
    assert.ok(petitions.some((p) => p.includes('Hỗ trợ giống cà phê')), petitions.join(' | '));
    log('petitions register lists its petitions');
    await axeClean(desk, 'office petitions');

    // The chart beside the table, and a matrix cell that opens the commune's notes for its task.
    await desk.click('[data-testid=tab-overview]');
    const bar = await desk.waitForSelector('[data-testid=bar-chart] [data-testid=bar][data-value="2"]', { timeout: 10_000 });
    assert.ok(bar, 'a bar for the commune with two notes');
    // The matrix's filters: words (accents ignored) and a status narrow the task rows.
    const rows = () => desk.$$eval('table[data-testid=matrix] tbody tr', (trs) => trs.length);
    const all = await rows();
    assert.ok(all > 5, `matrix rows: ${all}`);
    await desk.fill('#matrix-words', 'khong co nhiem vu nay');
    await desk.waitForFunction(() => document.querySelectorAll('table[data-testid=matrix] tbody tr').length === 0, null, { timeout: 5_000 });
    await desk.fill('#matrix-words', '');
    await desk.selectOption('#matrix-status', 'DoneOnTime');
    await desk.waitForFunction((n) => document.querySelectorAll('table[data-testid=matrix] tbody tr').length < n, all, { timeout: 5_000 });
    await desk.selectOption('#matrix-status', '');
    await desk.waitForFunction((n) => document.querySelectorAll('table[data-testid=matrix] tbody tr').length === n, all, { timeout: 5_000 });
    await desk.selectOption('#matrix-unit', 'mttq');
    const mttq = await rows();
    assert.ok(mttq > 0 && mttq < all, `the tasks led by or shared with Ủy ban MTTQ: ${mttq} of ${all}`);
    await desk.selectOption('#matrix-unit', '');
    await desk.selectOption('#matrix-sort', 'least-done');
    assert.equal(await rows(), all, 'sorting keeps every row');
    log(`matrix filters narrow the rows (unit mttq: ${mttq} of ${all})`);
    // The cell of the member's task: the commune's records for it (who, when) and its notes.
    await desk.click(`td[data-testid=matrix-cell][data-commune-id=${COMMUNE}][data-task-id="${TASK}"] button`);
    await desk.waitForSelector('[data-testid=office-task-filter]', { timeout: 10_000 });
    assert.equal(await desk.inputValue('#office-commune'), COMMUNE);
    const page = desk.locator(`[data-testid=commune-page][data-commune-id=${COMMUNE}]`);
    const unit = page.locator('[data-testid=unit-progress]').first();
    await unit.waitFor({ timeout: 10_000 });
    assert.match(await unit.textContent(), /40%.*kadon/);
    assert.equal(await page.locator('[data-testid=task-item]').count(), 1, 'only the cell\'s task');
    assert.equal(await page.locator('[data-testid=progress-form]').count(), 0, 'the office reads, it does not record');
    const drilled = desk.locator('[data-testid=office-note]', { hasText: 'Họp dân vận khéo' });
    await drilled.waitFor({ timeout: 10_000 });
    await desk.waitForFunction(
      () => [...document.querySelectorAll('[data-testid=office-note] .photos img')].some((i) => i.complete && i.naturalWidth === 640),
      null,
      { timeout: 10_000 },
    );
    assert.match(await drilled.textContent(), /Người ghi: kadon/);
    log('a matrix cell opens the commune\'s records and notes for its task, photo included');
    await axeClean(desk, 'office drill-down');
    // A task's title opens its notes in every commune.
    await desk.click('[data-testid=tab-overview]');
    await desk.click('[data-testid=matrix-task] >> nth=0');
    await desk.waitForSelector('[data-testid=office-task-filter]', { timeout: 10_000 });
    assert.equal(await desk.inputValue('#office-commune'), '');
    const across = await desk.$$eval('[data-testid=task-page] [data-testid=task-commune]', (ls) => ls.length);
    assert.ok(across >= 1, `the task's status in each commune: ${across}`);
    log('a task opens its status and notes in every commune');

    // The quarterly report: cut the figures off now, download the .docx and the .xlsx.
    await desk.click('[data-testid=tab-report]');
    const cutLine = desk.locator('[data-testid=report-cut]');
    await cutLine.waitFor({ timeout: 10_000 });
    assert.equal(await cutLine.getAttribute('data-taken'), 'false', 'not cut off yet');
    assert.equal(await desk.inputValue('#report-superior'), 'HUYỆN ỦY ĐƠN DƯƠNG', 'prefilled from the org tree');
    await axeClean(desk, 'office report');
    await desk.fill('#report-number', '07-BC/BDVHU');
    await desk.click('[data-testid=cut-now]');
    await desk.waitForSelector('[data-testid=report-cut][data-taken=true]', { timeout: 10_000 });
    for (const [format, magic] of [
      ['docx', 'PK'],
      ['xlsx', 'PK'],
    ]) {
      const [download] = await Promise.all([desk.waitForEvent('download'), desk.click(`[data-testid=download-${format}]`)]);
      assert.match(download.suggestedFilename(), new RegExp(`^bao-cao-.*\\.${format}$`));
      const bytes = await readFile(await download.path());
      assert.equal(bytes.subarray(0, 2).toString(), magic, `a ${format} (zip) file`);
      assert.ok(bytes.length > 3000, `${format}: ${bytes.length} bytes`);
    }
    log('the report is cut off and downloads as .docx and .xlsx');

    // Offline: the office reopens from its cache and says how old the figures are.
    await desk.click('[data-testid=tab-overview]');
    await desk.waitForSelector('[data-testid=office-as-of]');
    await ensureServiceWorker(desk);
    await deskCtx.setOffline(true);
    await desk.reload();
    await waitAppReady(desk);
    await desk.waitForSelector(`${row}[data-notes="2"]`, { timeout: 20_000 });
    const asOf = await desk.textContent('[data-testid=office-as-of]');
    assert.match(asOf, /số liệu lúc \d\d\/\d\d\/\d{4} \d\d:\d\d/);
    assert.match(asOf, /ngoại tuyến/);
    log(`offline office: ${asOf.trim()}`);
  });
});
