// The member's phone app (field bundle) end to end: a real danvan-server process and headless Chromium
// at 360×640 (touch).
//
// 1. A whole note with two photos, recorded with the server down, survives a reload and syncs; the
//    server holds the resized photos.
// 2. A photo upload cut mid-way resumes where the server stopped, without duplicating data.
// 3. Export on a phone with no server, import twice into a second phone, then both sync.
// 4. Accent-insensitive search and the list's filters.
// 5. An app update while a draft is open keeps the draft.
// 6. Accessibility: labels, keyboard, axe-core (WCAG 2 A/AA).
// 7. Many saves are compacted into one IndexedDB chunk at start, losing nothing, offline.
// 8. IndexedDB writes that fail (a full disk) are shown to the user, and nothing typed is lost.
//
//   DANVAN_SERVER_BIN=../target/debug/danvan-server DANVAN_DIST=../target/dist \
//   CHROMIUM=/usr/bin/chromium node --test field.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import zlib from 'node:zlib';
import { quarterOf, vnToday } from './lib/ids.mjs';
import { apiGet, login, waitFor } from './lib/server.mjs';
import {
  FORM,
  FORM_PHOTO,
  NOTE_ITEM,
  badgeState,
  blobStatus,
  Deferred,
  createNote,
  fillNote,
  formatViolations,
  getBlob,
  idbMeta,
  idbPhotos,
  jpegDimensions,
  log,
  makeJpegs,
  openNoteForm,
  openPhone,
  openTab,
  readNoteForm,
  runAxeScrolled,
  saveNote,
  scenario,
  sha256hex,
  signInPhone,
  tabWalk,
  unlabelledControls,
  waitAppReady,
  waitBadge,
  waitNoteForm,
  waitNotesExactly,
  waitTasks,
} from './lib/field.mjs';

const COMMUNE = 'xa-ka-don';
const TEST_TIMEOUT_MS = Number(process.env.E2E_TIMEOUT_MS || 180_000);
const MAX_EDGE = 1600;
const MAX_PHOTO_BYTES = 300 * 1024;
const CHUNK = 64 * 1024;

/** A date in the quarter before today's (Asia/Ho_Chi_Minh): the 15th of its middle month. */
function previousQuarterDate() {
  const [y, q] = quarterOf(vnToday()).split('-Q').map(Number);
  const [py, pq] = q === 1 ? [y - 1, 4] : [y, q - 1];
  return `${py}-${String((pq - 1) * 3 + 2).padStart(2, '0')}-15`;
}

/** `YYYY-MM-DD` → `DD/MM/YYYY`, as the app shows dates. */
function displayDate(iso) {
  const [y, m, d] = iso.split('-');
  return `${d}/${m}/${y}`;
}

/** Wait until the note item titled `title` has `n` photos, all with data-uploaded=`uploaded`. */
async function waitItemPhotos(page, title, n, uploaded, timeout = 10_000) {
  const item = page.locator(NOTE_ITEM, { has: page.locator('.title', { hasText: title }) });
  try {
    await page.waitForFunction(
      ([itemSel, title, n, uploaded]) => {
        const li = [...document.querySelectorAll(itemSel)].find((e) => e.querySelector('.title')?.textContent.trim() === title);
        if (!li) return false;
        const figs = [...li.querySelectorAll('figure[data-testid=photo]')];
        return figs.length === n && figs.every((f) => f.getAttribute('data-uploaded') === String(uploaded));
      },
      [NOTE_ITEM, title, n, uploaded],
      { timeout, polling: 200 },
    );
  } catch (err) {
    const figs = await item
      .locator('figure[data-testid=photo]')
      .evaluateAll((fs) => fs.map((f) => `${f.getAttribute('data-sha')?.slice(0, 12)}… uploaded=${f.getAttribute('data-uploaded')} "${f.textContent.trim()}"`))
      .catch(() => []);
    throw new Error(`note "${title}": expected ${n} photos with data-uploaded=${uploaded} within ${timeout} ms; photos: ${JSON.stringify(figs)}; badge ${JSON.stringify(await badgeState(page))}`, {
      cause: err,
    });
  }
  return item;
}

/** Check a photo the server holds: hash, JPEG, dimensions, size. Returns {width, height, size}. */
async function checkServerPhoto(url, token, sha, { what, expectDims } = {}) {
  const res = await getBlob(url, token, sha);
  assert.equal(res.status, 200, `${what}: GET /api/blobs/${sha} → ${res.status} ${res.bytes.toString('utf8').slice(0, 200)}`);
  assert.equal(res.headers.get('content-type'), 'image/jpeg', `${what}: content type`);
  assert.equal(sha256hex(res.bytes), sha, `${what}: the server's bytes hash to the photo's name`);
  const dims = jpegDimensions(res.bytes);
  assert.ok(Math.max(dims.width, dims.height) <= MAX_EDGE, `${what}: long edge ${JSON.stringify(dims)} ≤ ${MAX_EDGE}`);
  if (expectDims) assert.deepEqual(dims, expectDims, `${what}: dimensions`);
  assert.ok(res.bytes.length <= MAX_PHOTO_BYTES, `${what}: ${res.bytes.length} bytes ≤ ${MAX_PHOTO_BYTES}`);
  const st = await blobStatus(url, token, sha);
  assert.deepEqual(st, { sha256: sha, complete: true, offset: res.bytes.length, total: res.bytes.length }, `${what}: blob status`);
  return { ...dims, size: res.bytes.length };
}

// ---------------------------------------------------------------------------------------------------

test('a whole note with two photos, recorded with the server down, survives a reload and syncs', { timeout: TEST_TIMEOUT_MS }, async () => {
  await scenario('field-note', async (ctx) => {
    const deferred = new Deferred();
    const run = randomBytes(3).toString('hex');
    // Two real photos: a big noisy one (resized to 1600 px and recompressed to ≤ 300 KB) and a small one.
    const [big, small] = await makeJpegs(ctx.browser, [
      { width: 2400, height: 1800, seed: 11, noise: 40 },
      { width: 800, height: 600, seed: 23, noise: 8 },
    ]);
    assert.ok(big.length > MAX_PHOTO_BYTES, `the big test photo is big: ${big.length} bytes`);
    log(`test photos: ${big.length} bytes 2400×1800, ${small.length} bytes 800×600`);

    const GPS = { latitude: 11.81234, longitude: 108.51234, accuracy: 12 };
    const { context, page: phone } = await signInPhone(ctx, 'phone', 'kadon', {
      extra: { permissions: ['geolocation'], geolocation: GPS },
    });
    log('phone logged in, service worker in control');

    await ctx.server.kill();
    log('server killed (SIGKILL)');
    await phone.reload();
    await waitAppReady(phone);
    await waitBadge(phone, { online: 'false' }, 15_000);

    // --- the whole form ---------------------------------------------------------------------------
    const note = {
      date: vnToday(),
      title: `Hội nghị dân vận bon Ka Rái ${run}`,
      type: 'hoi-nghi',
      hamlet: 'ka-don-bon-ka-rai',
      unit: 'hoi-phu-nu',
      tasks: ['t-ii-1', 't-ii-4-7'],
      total: 45,
      women: 12,
      ethnic: 30,
      religious: 0,
      content: `Tuyên truyền Chỉ thị 18 cho bà con bon Ka Rái.\nThảo luận về nước sạch. (${run})`,
      results: 'Bà con thống nhất đóng góp 20 ngày công làm đường.',
      petitions: [
        { text: `Đề nghị sửa đường vào bon ${run}`, status: 'moi' },
        { text: `Kiến nghị cấp nước sạch ${run}`, status: 'dang-xu-ly' },
      ],
    };
    await openNoteForm(phone);
    await fillNote(phone, note);
    // GPS (the context grants the permission and fakes the position).
    await phone.locator(`${FORM} fieldset:has([data-testid=gps]) button`).click();
    const gpsText = '11.81234, 108.51234 (± 12 m)';
    await phone
      .waitForFunction(([sel, want]) => document.querySelector(sel)?.textContent.trim() === want, ['[data-testid=gps]', gpsText], { timeout: 10_000 })
      .catch(async (err) => {
        throw new Error(`GPS text: ${JSON.stringify(await phone.locator('[data-testid=gps]').textContent().catch(() => null))}`, { cause: err });
      });
    // Two photos.
    await phone.setInputFiles('#note-photo', [
      { name: 'hop-bon-1.jpg', mimeType: 'image/jpeg', buffer: big },
      { name: 'hop-bon-2.jpg', mimeType: 'image/jpeg', buffer: small },
    ]);
    await phone
      .waitForFunction((sel) => document.querySelectorAll(sel).length === 2, `${FORM_PHOTO}[data-uploaded=false]`, { timeout: 20_000 })
      .catch(async (err) => {
        const msg = await phone.locator('[data-testid=note-message]').textContent().catch(() => null);
        throw new Error(`two photos not shown in the form; message: ${JSON.stringify(msg)}`, { cause: err });
      });
    const shas = await phone.$$eval(FORM_PHOTO, (fs) => fs.map((f) => f.getAttribute('data-sha')));
    assert.equal(shas.length, 2);
    assert.ok(shas.every((s) => /^[0-9a-f]{64}$/.test(s)) && shas[0] !== shas[1], `photo shas: ${shas}`);
    const captions = await phone.$$eval(`${FORM_PHOTO} figcaption`, (cs) => cs.map((c) => c.textContent.trim()));
    assert.deepEqual(captions, ['Chỉ có trên máy', 'Chỉ có trên máy']);
    const imgs = await phone.$$eval(`${FORM_PHOTO} img`, (is) => is.map((i) => i.complete && i.naturalWidth > 0));
    assert.deepEqual(imgs, [true, true], 'both thumbnails are decoded images');
    // The phone keeps the resized photos only.
    const local = await idbPhotos(phone);
    for (const s of shas) {
      assert.ok(local[s], `photo ${s} is in IndexedDB`);
      assert.ok(local[s].size <= MAX_PHOTO_BYTES && local[s].size === local[s].bytes, `stored photo ${s}: ${JSON.stringify(local[s])}`);
    }

    const expected = {
      date: note.date,
      title: note.title,
      type: note.type,
      hamlet: note.hamlet,
      unit: note.unit,
      tasks: [...note.tasks].sort(),
      total: '45',
      women: '12',
      ethnic: '30',
      religious: '0',
      content: note.content,
      results: note.results,
      petitions: note.petitions,
      gps: gpsText,
      photos: shas,
    };
    await waitNoteForm(phone, expected, 5_000);
    // The autosave has reached IndexedDB before the reload (a user would not wait; the app writes on
    // every change, so this takes a moment at most).
    await waitFor(
      async () => {
        const d = JSON.parse((await idbMeta(phone, 'note-draft')) ?? 'null');
        return d && d.title === note.title && d.photos?.length === 2 && d.petitions?.length === 2 && d.gps && d.religious === '0';
      },
      { timeoutMs: 5_000, what: 'the draft autosaved in IndexedDB' },
    );
    log('form filled (every field, GPS, two photos), draft autosaved');

    // --- reload before saving: everything is back -------------------------------------------------
    await phone.reload();
    await waitAppReady(phone);
    await waitBadge(phone, { online: 'false' }, 15_000);
    await phone.waitForSelector('[data-testid=nav-new][aria-current=page]', { timeout: 10_000 });
    await phone.waitForSelector('body[data-draft-ready]', { state: 'attached', timeout: 10_000 });
    const restored = await deferred.check('draft restored after an offline reload', () => waitNoteForm(phone, expected, 10_000));
    if (!restored) {
      // What the app would save: the draft it restored into memory (and IndexedDB still holds).
      log(`form after reload: ${JSON.stringify(await readNoteForm(phone))}`);
      log(`draft in IndexedDB: ${await idbMeta(phone, 'note-draft')}`);
    }
    await phone.waitForFunction((sel) => document.querySelectorAll(sel).length === 2, `${FORM_PHOTO}[data-uploaded=false] img`, { timeout: 10_000 });
    log('after an offline reload the draft is back (see any deferred failure above)');

    // One more change after the restore, then save.
    const results = `${note.results} Xong trong ngày.`;
    await phone.fill('#note-results', results);
    await saveNote(phone, note.title, { deferred });
    await waitBadge(phone, { online: 'false' }, 2_000);
    const pending = await badgeState(phone);
    assert.ok(Number(pending.unsynced) >= 1, `badge counts the offline note: ${JSON.stringify(pending)}`);

    const item = await waitItemPhotos(phone, note.title, 2, false);
    assert.equal(await item.count(), 1, 'one note item with the title');
    const text = (await item.textContent()).replace(/\s+/g, ' ');
    for (const want of [
      displayDate(note.date),
      'Hội nghị, họp',
      'Bon Ka Rái',
      'Hội Liên hiệp Phụ nữ',
      '45 người dự (12 nữ, 30 dân tộc thiểu số, 0 tôn giáo)',
      'Thảo luận về nước sạch.',
      `Kết quả: ${results}`,
      note.petitions[0].text,
      'Mới tiếp nhận',
      note.petitions[1].text,
      'Đang xử lý',
      `GPS ${gpsText}`,
    ]) {
      assert.ok(text.includes(want), `the note item shows ${JSON.stringify(want)}: ${JSON.stringify(text)}`);
    }
    const petitionItems = await item.locator('ul.petitions > li').allTextContents();
    assert.equal(petitionItems.length, 2, `two petitions: ${JSON.stringify(petitionItems)}`);
    assert.ok(petitionItems[1].includes(note.petitions[1].text) && petitionItems[1].includes('Đang xử lý'), petitionItems[1]);
    const itemPhotos = await item
      .locator('figure[data-testid=photo]')
      .evaluateAll((fs) => fs.map((f) => [f.getAttribute('data-sha'), f.querySelector('figcaption')?.textContent.trim()]));
    assert.deepEqual(itemPhotos, shas.map((s) => [s, 'Chỉ có trên máy']), 'the note lists both photos, on the phone only');
    log(`note saved offline and listed; badge ${JSON.stringify(pending)}`);

    // The form is empty again (the draft was cleared).
    await openNoteForm(phone);
    assert.equal(await phone.inputValue('#note-title'), '', 'the form is fresh after saving');
    assert.equal(await phone.locator(FORM_PHOTO).count(), 0, 'no photos in the fresh form');

    // --- the server is back -----------------------------------------------------------------------
    const url = ctx.server.url;
    ctx.server = await ctx.start();
    assert.equal(ctx.server.url, url, 'restarted server has the same origin');
    log('server restarted');
    await waitBadge(phone, { unsynced: '0', online: 'true' }, 30_000);
    await openTab(phone, 'notes');
    await waitItemPhotos(phone, note.title, 2, true, 30_000);
    const captionsAfter = await item.locator('figure[data-testid=photo] figcaption').allTextContents();
    assert.deepEqual(captionsAfter.map((c) => c.trim()), ['Đã tải lên', 'Đã tải lên']);
    log('phone synced: badge unsynced=0, both photos uploaded');

    // --- what the server holds --------------------------------------------------------------------
    const { token } = await login(url, 'kadon');
    const bigInfo = await checkServerPhoto(url, token, shas[0], { what: 'big photo', expectDims: { width: 1600, height: 1200 } });
    const smallInfo = await checkServerPhoto(url, token, shas[1], { what: 'small photo', expectDims: { width: 800, height: 600 } });
    const localAfter = await idbPhotos(phone);
    assert.equal(bigInfo.size, localAfter[shas[0]].size, 'the server holds exactly the phone\'s big photo');
    assert.equal(smallInfo.size, localAfter[shas[1]].size, 'the server holds exactly the phone\'s small photo');
    assert.ok(localAfter[shas[0]].uploaded && localAfter[shas[1]].uploaded, 'IndexedDB marks both photos uploaded');
    log(`server: big photo ${bigInfo.width}×${bigInfo.height} ${bigInfo.size} B, small ${smallInfo.width}×${smallInfo.height} ${smallInfo.size} B`);

    // The note itself reached the server (the aggregating level counts it).
    const huyen = await login(url, 'huyen');
    await waitFor(
      async () => (await apiGet(url, '/api/overview', huyen.token)).communes.find((c) => c.commune_id === COMMUNE)?.notes === 1,
      { timeoutMs: 10_000, what: `/api/overview: ${COMMUNE} has 1 note` },
    );
    await context.close();
    deferred.assertNone();
  });
});

// ---------------------------------------------------------------------------------------------------

test('a photo upload cut mid-way resumes without duplicating data', { timeout: TEST_TIMEOUT_MS }, async () => {
  await scenario('field-resume', async (ctx) => {
    const run = randomBytes(3).toString('hex');
    const [photo] = await makeJpegs(ctx.browser, [{ width: 2400, height: 1800, seed: 5, noise: 40 }]);
    const { context, page: phone } = await signInPhone(ctx, 'phone', 'kadon');
    await waitBadge(phone, { online: 'true' }, 15_000);

    // Fault injection on the photo's upload: the 2nd PUT never reaches the server (connection reset);
    // the 3rd reaches it (the server commits the chunk) but its answer is lost.
    const puts = [];
    const statusAnswers = [];
    await context.route('**/api/blobs/**', async (route) => {
      const req = route.request();
      if (req.method() !== 'PUT') return await route.continue();
      const n = puts.length + 1;
      const entry = { n, range: req.headers()['content-range'] ?? null };
      puts.push(entry);
      if (n === 2) {
        entry.outcome = 'aborted before the server';
        return await route.abort('connectionreset');
      }
      if (n === 3) {
        const res = await route.fetch();
        entry.outcome = `server answered ${res.status()} ${(await res.text()).slice(0, 120)}; answer dropped`;
        return await route.abort('connectionreset');
      }
      const res = await route.fetch();
      entry.outcome = `${res.status()} ${(await res.text()).slice(0, 120)}`;
      return await route.fulfill({ response: res });
    });
    phone.on('response', async (res) => {
      if (/\/api\/blobs\/[0-9a-f]{64}\/status$/.test(res.url())) {
        statusAnswers.push(`${res.status()} ${await res.text().catch(() => '?')}`);
      }
    });

    const title = `Ảnh tải lên bị ngắt ${run}`;
    await openNoteForm(phone);
    await fillNote(phone, { title, content: 'Ảnh lớn, mạng chập chờn.' });
    await phone.setInputFiles('#note-photo', [{ name: 'anh.jpg', mimeType: 'image/jpeg', buffer: photo }]);
    await phone.waitForSelector(`${FORM_PHOTO}`, { timeout: 20_000 });
    const sha = await phone.getAttribute(FORM_PHOTO, 'data-sha');
    const local = (await idbPhotos(phone))[sha];
    assert.ok(local, 'the photo is in IndexedDB');
    assert.ok(local.size > 3 * CHUNK, `the resized photo needs more than 3 chunks: ${local.size} bytes`);
    log(`photo ${sha.slice(0, 12)}… ${local.size} bytes (${Math.ceil(local.size / CHUNK)} chunks)`);

    // It uploads by itself while connected (even before the note is saved), through the faults.
    try {
      await phone.waitForSelector(`${FORM_PHOTO}[data-uploaded=true]`, { state: 'attached', timeout: 30_000 });
    } catch (err) {
      throw new Error(`the photo did not finish uploading; PUTs: ${JSON.stringify(puts, null, 1)}; status answers: ${JSON.stringify(statusAnswers)}`, { cause: err });
    }
    log(`upload complete; PUTs:\n${puts.map((p) => `#   ${p.n} ${p.range} → ${p.outcome}`).join('\n')}`);
    log(`status answers: ${JSON.stringify(statusAnswers)}`);

    // The requests: chunk 2 was sent twice (the fault), then the upload resumed at the server's offset —
    // chunk 2 was not sent a third time although the phone never saw its answer.
    const total = local.size;
    const ranges = puts.map((p) => p.range);
    const starts = ranges.map((r) => Number(/^bytes (\d+)-(\d+)\/(\d+)$/.exec(r ?? '')?.[1]));
    const chunks = Math.ceil(total / CHUNK);
    const expectedStarts = [0, CHUNK, CHUNK, ...Array.from({ length: chunks - 2 }, (_, i) => (i + 2) * CHUNK)];
    assert.deepEqual(starts, expectedStarts, `PUT chunk starts (ranges ${JSON.stringify(ranges)})`);
    for (const r of ranges) {
      const [, a, b, t] = /^bytes (\d+)-(\d+)\/(\d+)$/.exec(r).map(Number);
      assert.equal(t, total, `Content-Range total of ${r}`);
      assert.ok(b - a + 1 <= CHUNK && b < total, `chunk ${r} is at most 64 KB and inside the photo`);
    }
    assert.match(puts[2].outcome, /^server answered 202 /, 'the server committed the chunk whose answer was lost');
    assert.match(puts.at(-1).outcome, /^201 /, 'the last chunk completed the blob');
    assert.ok(
      statusAnswers.some((s) => s.includes(`"offset":${2 * CHUNK}`)),
      `the phone asked the server where to resume and heard ${2 * CHUNK}: ${JSON.stringify(statusAnswers)}`,
    );

    // The server: complete, exactly the phone's bytes, no duplicated data.
    const { token } = await login(ctx.server.url, 'kadon');
    const st = await blobStatus(ctx.server.url, token, sha);
    assert.deepEqual(st, { sha256: sha, complete: true, offset: total, total }, 'blob status');
    const res = await getBlob(ctx.server.url, token, sha);
    assert.equal(res.status, 200);
    assert.equal(res.bytes.length, total, 'the server holds as many bytes as the phone');
    assert.equal(sha256hex(res.bytes), sha, 'the server\'s bytes hash to the photo\'s name');
    assert.ok(Math.max(...Object.values(jpegDimensions(res.bytes))) <= MAX_EDGE);
    assert.equal((await idbPhotos(phone))[sha].uploaded, true, 'IndexedDB marks the photo uploaded');

    // Saving the note: it lists the photo as uploaded; nothing is sent again.
    const putsBefore = puts.length;
    await saveNote(phone, title);
    await waitItemPhotos(phone, title, 1, true);
    await waitBadge(phone, { unsynced: '0', online: 'true' }, 15_000);
    await phone.waitForTimeout(2_000); // one more upload round
    assert.equal(puts.length, putsBefore, `no PUT after completion: ${JSON.stringify(puts.slice(putsBefore))}`);
    log('server holds the photo once, complete; note saved and synced');
  });
});

// ---------------------------------------------------------------------------------------------------

test('export on a phone with no server, import twice into a second phone, then both sync', { timeout: TEST_TIMEOUT_MS }, async () => {
  await scenario('field-export', async (ctx) => {
    const run = randomBytes(3).toString('hex');
    const [photo] = await makeJpegs(ctx.browser, [{ width: 1200, height: 900, seed: 3, noise: 10 }]);

    // Both phones log in while the server is up; phone B also has the app shell cached.
    const { page: a } = await signInPhone(ctx, 'phoneA', 'kadon');
    const { page: b } = await signInPhone(ctx, 'phoneB', 'kadon2');
    await waitBadge(a, { unsynced: '0', online: 'true' }, 15_000);
    await waitBadge(b, { unsynced: '0', online: 'true' }, 15_000);
    log('kadon (A) and kadon2 (B) logged in online');

    await ctx.server.kill();
    log('server killed (SIGKILL)');
    await a.reload();
    await waitAppReady(a);
    await waitBadge(a, { online: 'false' }, 15_000);

    // --- A records two notes, one with a photo ----------------------------------------------------
    const titles = [`Thăm hỏi hộ nghèo ${run}`, `Họp tổ tự quản ${run}`];
    await openNoteForm(a);
    await fillNote(a, { title: titles[0], type: 'tham-hoi', hamlet: 'ka-don-thon-ka-don', content: 'Tặng quà 5 hộ.' });
    await a.setInputFiles('#note-photo', [{ name: 'tham-hoi.jpg', mimeType: 'image/jpeg', buffer: photo }]);
    await a.waitForSelector(`${FORM_PHOTO}[data-uploaded=false]`, { timeout: 20_000 });
    const sha = await a.getAttribute(FORM_PHOTO, 'data-sha');
    await saveNote(a, titles[0]);
    await createNote(a, { title: titles[1], type: 'hoi-nghi', content: 'Bàn việc giữ gìn an ninh.' });
    await waitNotesExactly(a, titles, { what: 'phone A' });
    await waitBadge(a, { online: 'false' }, 2_000);
    assert.ok(Number((await badgeState(a)).unsynced) >= 2, `A has unsynced notes: ${JSON.stringify(await badgeState(a))}`);

    // --- export -----------------------------------------------------------------------------------
    await openTab(a, 'sync');
    const [download] = await Promise.all([
      a.waitForEvent('download', { timeout: 10_000 }),
      a.click('button[data-testid=export]'),
    ]);
    const name = download.suggestedFilename();
    assert.equal(name, `danvan-kadon-${vnToday().replaceAll('-', '')}.json`, 'export file name');
    const file = path.join(ctx.scratch, name);
    await download.saveAs(file);
    const exported = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(exported.exported_by, 'kadon');
    assert.ok(Array.isArray(exported.docs) && exported.docs.length >= 1, 'the export has documents');
    assert.equal(exported.photos?.length, 1, 'the export has the photo');
    assert.equal(JSON.stringify(exported.photos[0]).includes(sha), true, 'the exported photo is named by its sha');
    await a.waitForSelector('[data-testid=import-message].ok', { timeout: 5_000 });
    log(`A exported ${name}: ${exported.docs.length} documents, ${exported.photos.length} photo`);

    // --- B imports it twice, with no server -------------------------------------------------------
    await b.reload();
    await waitAppReady(b);
    await waitBadge(b, { online: 'false' }, 15_000);
    await waitNotesExactly(b, [], { what: 'phone B before the import' });
    for (const round of [1, 2]) {
      await openTab(b, 'sync');
      assert.equal(await b.locator('[data-testid=import-message]').count(), 0, 'no message yet');
      await b.setInputFiles('#import-file', file);
      await b.click('button[data-testid=import]');
      const msg = b.locator('[data-testid=import-message]');
      await msg.waitFor({ state: 'visible', timeout: 10_000 });
      const text = (await msg.textContent()).trim();
      assert.equal(await msg.getAttribute('class'), 'ok', `import ${round} succeeded: ${text}`);
      assert.match(text, /^Đã nhập: [1-9]\d* tài liệu, 1 ảnh \(\d+ tài liệu không thuộc quyền ghi của bạn, bỏ qua\)\.$/, `import ${round}`);
      await openTab(b, 'notes');
      await waitNotesExactly(b, titles, { what: `phone B after import ${round}` });
      log(`B import ${round}: "${text}"; notes list shows exactly the 2 notes`);
    }
    await waitItemPhotos(b, titles[0], 1, false);
    assert.equal(await b.getAttribute(`${NOTE_ITEM} figure[data-testid=photo]`, 'data-sha'), sha);
    assert.equal(
      (await b.locator(`${NOTE_ITEM} figure[data-testid=photo] figcaption`).textContent()).trim(),
      'Chỉ có trên máy',
      'B has the photo itself',
    );
    await b.reload();
    await waitAppReady(b);
    await openTab(b, 'notes');
    await waitNotesExactly(b, titles, { what: 'phone B after an offline reload' });

    // --- the server is back: both converge --------------------------------------------------------
    ctx.server = await ctx.start();
    log('server restarted');
    for (const [who, p] of [['A', a], ['B', b]]) {
      await waitBadge(p, { unsynced: '0', online: 'true' }, 30_000);
      await openTab(p, 'notes');
      await waitItemPhotos(p, titles[0], 1, true, 30_000);
      log(`${who} synced: badge unsynced=0, photo uploaded`);
    }
    const idsA = await waitNotesExactly(a, titles, { what: 'phone A after sync' });
    const idsB = await waitNotesExactly(b, titles, { what: 'phone B after sync' });
    assert.deepEqual([...idsB].sort(), [...idsA].sort(), 'both phones list the same note IDs');
    const huyen = await login(ctx.server.url, 'huyen');
    await waitFor(
      async () => (await apiGet(ctx.server.url, '/api/overview', huyen.token)).communes.find((c) => c.commune_id === COMMUNE)?.notes === 2,
      { timeoutMs: 10_000, what: `/api/overview: ${COMMUNE} has exactly 2 notes` },
    );
    const { token } = await login(ctx.server.url, 'kadon');
    assert.equal(sha256hex((await getBlob(ctx.server.url, token, sha)).bytes), sha, 'the server has the photo');
    log('both phones show the same 2 notes; the server counts 2');
  });
});

// ---------------------------------------------------------------------------------------------------

test('accent-insensitive search and filters', { timeout: TEST_TIMEOUT_MS }, async () => {
  await scenario('field-search', async (ctx) => {
    const run = randomBytes(3).toString('hex');
    const today = vnToday();
    const current = quarterOf(today);
    const earlier = previousQuarterDate();
    const previous = quarterOf(earlier);
    // Three notes whose words do not overlap by accident ("dan", "van", "doan" each occur where meant).
    const N1 = { title: `Tuyên truyền dân vận khéo ${run}`, type: 'tuyen-truyen', hamlet: 'ka-don-bon-ka-rai', tasks: ['t-ii-1'], date: today, content: 'Phổ biến mô hình hay cho bà con.' };
    const N2 = { title: `Họp đoàn thể ở thôn ${run}`, type: 'hoi-nghi', hamlet: 'ka-don-thon-ka-don', tasks: ['t-ii-4-7'], date: earlier, content: 'Các chi hội bàn kế hoạch quý.' };
    const N3 = { title: `Đối thoại với Đoàn viên ${run}`, type: 'tiep-xuc-cu-tri', hamlet: 'ka-don-bon-ka-rai', tasks: ['t-ii-1'], date: today, content: 'Thanh niên trao đổi ý kiến.' };

    const { page: phone } = await signInPhone(ctx, 'kadon', 'kadon', { sw: false });
    const { page: phone2 } = await signInPhone(ctx, 'kadon2', 'kadon2', { sw: false });
    await openTab(phone, 'notes');
    await waitNotesExactly(phone, [], { what: 'xa-ka-don starts without notes' });
    await createNote(phone, N1);
    await createNote(phone, N2);
    await createNote(phone2, N3);
    await waitBadge(phone2, { unsynced: '0', online: 'true' }, 15_000);
    await waitBadge(phone, { unsynced: '0', online: 'true' }, 15_000);
    await waitNotesExactly(phone, [N1.title, N2.title, N3.title], { timeout: 15_000, what: 'kadon sees all three' });
    log(`3 notes (N2 dated ${earlier}, in ${previous}); kadon sees them all`);

    const search = async (q, want) => {
      await phone.fill('#note-search', q);
      await waitNotesExactly(phone, want.map((n) => n.title), { what: `search ${JSON.stringify(q)}` });
    };
    await search('dan van', [N1]);
    await search('DÂN VẬN', [N1]);
    await search('dân van kheo', [N1]);
    await search('đoan', [N2, N3]);
    await search('doan', [N2, N3]);
    await search('Đoàn', [N2, N3]);
    await search('doan thon', [N2]);
    await search('hoi ke hoach', [N2]); // content
    await search('dan doan', []);
    await search(run, [N1, N2, N3]);
    await search('', [N1, N2, N3]);
    log('search: accent- and case-insensitive, every word must match');

    await phone.click('details.filters > summary');
    await phone.waitForSelector('#filter-type', { state: 'visible', timeout: 5_000 });
    const filter = async (sel, value, want) => {
      await phone.selectOption(sel, value);
      await waitNotesExactly(phone, want.map((n) => n.title), { what: `${sel}=${value}` });
    };
    await filter('#filter-type', 'tuyen-truyen', [N1]);
    await filter('#filter-type', 'hoi-nghi', [N2]);
    await filter('#filter-type', 'tham-hoi', []);
    await filter('#filter-type', '', [N1, N2, N3]);
    await filter('#filter-hamlet', 'ka-don-bon-ka-rai', [N1, N3]);
    await filter('#filter-hamlet', 'ka-don-thon-ka-don', [N2]);
    await filter('#filter-hamlet', '', [N1, N2, N3]);
    const periods = await phone.$$eval('#filter-period option', (os) => os.map((o) => o.value));
    assert.deepEqual(periods, ['', current, previous], 'the period filter offers the quarters that have notes, newest first');
    await filter('#filter-period', current, [N1, N3]);
    await filter('#filter-period', previous, [N2]);
    await filter('#filter-period', '', [N1, N2, N3]);
    await filter('#filter-task', 't-ii-1', [N1, N3]);
    await filter('#filter-task', 't-ii-4-7', [N2]);
    await filter('#filter-task', '', [N1, N2, N3]);
    await phone.check('#filter-mine');
    await waitNotesExactly(phone, [N1.title, N2.title], { what: 'only my notes' });
    // Filters and search combine.
    await phone.selectOption('#filter-hamlet', 'ka-don-bon-ka-rai');
    await waitNotesExactly(phone, [N1.title], { what: 'mine + Bon Ka Rái' });
    await phone.fill('#note-search', 'doan');
    await waitNotesExactly(phone, [], { what: 'mine + Bon Ka Rái + "doan"' });
    await phone.uncheck('#filter-mine');
    await waitNotesExactly(phone, [N3.title], { what: 'Bon Ka Rái + "doan"' });
    await phone.selectOption('#filter-period', previous);
    await waitNotesExactly(phone, [], { what: 'Bon Ka Rái + "doan" + previous quarter' });
    log('filters: type, hamlet, period, task, mine, combined');

    // kadon2's phone: "mine" shows N3 only. Its app learns of new documents (here the previous
    // quarter's, which kadon's back-dated note created) when it (re)connects: reload it first.
    await phone2.reload();
    await waitAppReady(phone2);
    await waitBadge(phone2, { online: 'true' }, 15_000);
    await waitNotesExactly(phone2, [N1.title, N2.title, N3.title], { timeout: 15_000, what: 'kadon2 sees all three' });
    await phone2.click('details.filters > summary');
    await phone2.check('#filter-mine');
    await waitNotesExactly(phone2, [N3.title], { what: 'kadon2: only my notes' });
  });
});

// ---------------------------------------------------------------------------------------------------

test('an app update while a draft is open keeps the draft', { timeout: TEST_TIMEOUT_MS }, async () => {
  await scenario(
    'field-update',
    async (ctx) => {
      const run = randomBytes(3).toString('hex');
      const { page: phone } = await signInPhone(ctx, 'phone', 'kadon');
      const swVersion = () =>
        phone.evaluate(
          () =>
            new Promise((resolve) => {
              const c = navigator.serviceWorker.controller;
              if (!c) return resolve('(no controller)');
              const ch = new MessageChannel();
              const t = setTimeout(() => resolve(null), 1_500);
              ch.port1.onmessage = (e) => {
                clearTimeout(t);
                resolve(e.data);
              };
              c.postMessage({ type: 'E2E_VERSION' }, [ch.port2]);
            }),
        );
      assert.equal(await swVersion(), null, 'the original service worker does not answer the test\'s question');

      // --- a draft, not saved ---------------------------------------------------------------------
      const title = `Bản nháp trước khi cập nhật ${run}`;
      const content = `Đang ghi dở: họp dân bon Ka Rái.\nDòng thứ hai ${run}.`;
      await openNoteForm(phone);
      await phone.fill('#note-title', title);
      await phone.fill('#note-content', content);
      await waitFor(async () => JSON.parse((await idbMeta(phone, 'note-draft')) ?? 'null')?.content === content, {
        timeoutMs: 5_000,
        what: 'the draft autosaved',
      });
      assert.equal(await phone.locator('[data-testid=update-banner]').count(), 0, 'no update banner yet');

      // --- a new version of the app is deployed: sw.js changes ------------------------------------
      const swPath = path.join(ctx.dist, 'sw.js');
      const v2 =
        (await readFile(swPath, 'utf8')) +
        `\n// v2 ${run}\nself.addEventListener('message', (e) => { if (e.data && e.data.type === 'E2E_VERSION' && e.ports[0]) e.ports[0].postMessage('v2 ${run}'); });\n`;
      await writeFile(swPath, v2);
      // The server prefers the precompressed files: replace them too.
      await writeFile(`${swPath}.br`, zlib.brotliCompressSync(Buffer.from(v2)));
      await writeFile(`${swPath}.gz`, zlib.gzipSync(Buffer.from(v2)));
      for (const enc of ['br', 'gzip', 'identity']) {
        // (fetch decodes the body.)
        const served = await (await fetch(`${ctx.server.url}/sw.js`, { headers: { 'accept-encoding': enc } })).text();
        assert.ok(served.includes(`// v2 ${run}`), `the server serves the new sw.js (${enc})`);
      }
      await phone.evaluate(() => navigator.serviceWorker.getRegistration().then((r) => r.update()));
      log('new sw.js deployed; registration.update() called');

      const banner = phone.locator('[data-testid=update-banner]');
      await banner.waitFor({ state: 'visible', timeout: 20_000 });
      assert.match((await banner.textContent()).trim(), /Có phiên bản mới của ứng dụng\. Bản nháp đang nhập được giữ nguyên\./);
      // Waiting, not activated by itself: the page is still under the old worker, the draft untouched.
      assert.equal(await swVersion(), null, 'the new worker waits');
      assert.equal(await phone.inputValue('#note-title'), title);
      log('update banner shown; the new worker waits');

      await phone.evaluate(() => {
        window.__e2eBeforeUpdate = true;
      });
      await Promise.all([
        phone.waitForEvent('load', { timeout: 20_000 }),
        phone.click('[data-testid=apply-update]'),
      ]);
      await waitAppReady(phone);
      assert.equal(await phone.evaluate(() => window.__e2eBeforeUpdate ?? null), null, 'the page reloaded');
      await phone.waitForFunction(() => !!navigator.serviceWorker.controller, null, { timeout: 10_000 });
      assert.equal(await swVersion(), `v2 ${run}`, 'the page is controlled by the new service worker');
      await phone.waitForSelector('[data-testid=nav-new][aria-current=page]', { timeout: 10_000 });
      await phone.waitForSelector('body[data-draft-ready]', { state: 'attached', timeout: 10_000 });
      await phone.waitForFunction(
        ([t, c]) => document.getElementById('note-title')?.value === t && document.getElementById('note-content')?.value === c,
        [title, content],
        { timeout: 10_000 },
      ).catch(async (err) => {
        throw new Error(`the draft is not back after the update: ${JSON.stringify(await readNoteForm(phone))}`, { cause: err });
      });
      assert.equal(await banner.count(), 0, 'no update banner after the update');
      log('after the update the page runs the new worker and the draft is still in the form');
    },
    { copyDist: true },
  );
});

// ---------------------------------------------------------------------------------------------------

test('accessibility: labels, keyboard, axe', { timeout: TEST_TIMEOUT_MS }, async () => {
  await scenario('field-a11y', async (ctx) => {
    const [photo] = await makeJpegs(ctx.browser, [{ width: 640, height: 480, seed: 9, noise: 6 }]);
    const { page } = await openPhone(ctx, 'phone');
    await page.goto(ctx.server.url);
    await waitAppReady(page);
    await page.waitForSelector('#username', { timeout: 10_000 });

    const problems = [];
    const check = async (screen) => {
      const unlabelled = await unlabelledControls(page);
      if (unlabelled.length) problems.push(`${screen}: controls without a label:\n  ${unlabelled.join('\n  ')}`);
      const walk = await tabWalk(page, 200);
      if (walk.missed.length) {
        problems.push(`${screen}: not reached with Tab (${walk.reached}/${walk.expected} in ${walk.presses} presses):\n  ${walk.missed.join('\n  ')}`);
      }
      if (walk.obscured.length) log(`${screen}: focused but covered (WCAG 2.2 2.4.11, reported only):\n#   ${walk.obscured.join('\n#   ')}`);
      const { violations, incomplete, passes } = await runAxeScrolled(page);
      assert.ok(passes > 10, `axe ran its rules on ${screen} (${passes} passed)`);
      const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      if (violations.length) process.stdout.write(`# axe on ${screen}:\n${formatViolations(violations)}\n`);
      if (bad.length) problems.push(`${screen}: axe serious/critical violations:\n${formatViolations(bad)}`);
      log(`${screen}: ${walk.expected} focusable reached with ${walk.presses} Tab presses (${walk.missed.length} missed); ${unlabelled.length} unlabelled; axe: ${passes} rules passed, violations: ${violations.map((v) => `${v.id}(${v.impact})`).join(', ') || 'none'}, undecided: ${incomplete.length ? `\n#   ${incomplete.join('\n#   ')}` : 'none'}`);
    };

    await check('login');
    await page.fill('#username', 'kadon');
    await page.fill('#password', 'danvan-demo');
    await page.click('button[data-testid=login]');
    await waitTasks(page);
    await waitBadge(page, { online: 'true' }, 15_000);
    // A note with a petition and a photo, so the list has everything it can show.
    await openNoteForm(page);
    await fillNote(page, {
      title: 'Ghi chép kiểm tra trợ năng',
      type: 'hoi-nghi',
      hamlet: 'ka-don-bon-ka-rai',
      content: 'Nội dung.',
      petitions: [{ text: 'Kiến nghị', status: 'moi' }],
    });
    await page.setInputFiles('#note-photo', [{ name: 'a.jpg', mimeType: 'image/jpeg', buffer: photo }]);
    await page.waitForSelector(FORM_PHOTO, { timeout: 20_000 });
    await saveNote(page, 'Ghi chép kiểm tra trợ năng');
    await waitBadge(page, { unsynced: '0' }, 15_000);

    await openTab(page, 'tasks');
    // One task open: its progress form is part of the screen.
    await page.locator('[data-testid=task-item] button.task-head').first().click();
    await page.waitForSelector('[data-testid=task-detail]', { timeout: 5_000 });
    await check('tasks (one open)');

    await openTab(page, 'notes');
    await page.click('details.filters > summary');
    await page.waitForSelector('#filter-mine', { state: 'visible', timeout: 5_000 });
    await check('notes (filters open)');

    await openNoteForm(page);
    await page.click('[data-testid=add-petition]');
    await page.waitForSelector('#petition-0-text', { timeout: 5_000 });
    await check('new note (one petition)');

    await openTab(page, 'sync');
    await page.waitForSelector('[data-testid=sync-screen]', { timeout: 5_000 });
    await check('sync');

    // The same in English (the language switch changes every label).
    await page.click('button[data-testid=lang-switch]');
    await page.waitForFunction(() => document.documentElement.lang === 'en', null, { timeout: 5_000 });
    await check('sync (English)');

    assert.equal(problems.length, 0, `accessibility problems:\n${problems.join('\n')}`);
  });
});

/** IndexedDB chunks per document on this page's origin. */
async function chunkCounts(page) {
  return await page.evaluate(
    () =>
      new Promise((resolve, reject) => {
        const req = indexedDB.open('danvan');
        req.onerror = () => reject(req.error);
        req.onsuccess = () => {
          const t = req.result.transaction('chunks', 'readonly');
          const all = t.objectStore('chunks').getAll();
          all.onsuccess = () => {
            const counts = {};
            for (const r of all.result) counts[r.doc] = (counts[r.doc] || 0) + 1;
            req.result.close();
            resolve(counts);
          };
        };
      }),
  );
}

test('many saves are compacted into one chunk at start, losing nothing, offline', { timeout: TEST_TIMEOUT_MS }, async () => {
  await scenario('field-compact', async (ctx) => {
    const run = randomBytes(3).toString('hex');
    const { page: phone } = await signInPhone(ctx, 'kadon', 'kadon');
    await ctx.server.kill();
    log('server killed (SIGKILL)');
    const titles = [];
    for (let i = 1; i <= 20; i++) {
      titles.push(`Ghi chép ${i} ${run}`);
      await createNote(phone, { title: titles[i - 1], content: `Nội dung ${i}` });
    }
    const before = await chunkCounts(phone);
    const [doc, n] = Object.entries(before).sort((a, b) => b[1] - a[1])[0];
    assert.ok(n > 16, `the notes document should have more than 16 chunks before compaction: ${JSON.stringify(before)}`);
    log(`20 notes saved offline; ${n} chunks for ${doc}`);

    // The start compacts (in the background, after the app is ready).
    await phone.reload();
    await waitAppReady(phone);
    await waitFor(async () => ((await chunkCounts(phone))[doc] ?? 0) <= 2, { timeoutMs: 15_000, what: 'compaction of the notes document' });
    await waitNotesExactly(phone, titles.slice().sort(), { what: 'after compaction' });

    // A save after compaction, then a reload: everything is still there, still unsynced.
    const last = `Sau khi gộp ${run}`;
    await createNote(phone, { title: last, content: 'Sau khi gộp.' });
    await phone.reload();
    await waitAppReady(phone);
    await waitNotesExactly(phone, [...titles, last].sort(), { what: 'after a save and a reload' });
    await waitBadge(phone, { online: 'false', unsynced: '21' }, 10_000);
    log(`compacted to ${(await chunkCounts(phone))[doc]} chunks; 21 notes kept, 21 changes unsynced`);

    ctx.server = await ctx.start();
    await waitBadge(phone, { online: 'true', unsynced: '0' }, 30_000);
    log('server back: all synced');
  });
});

test('failed writes on the phone are shown and lose nothing', { timeout: TEST_TIMEOUT_MS }, async () => {
  await scenario('field-failsave', async (ctx) => {
    const { page } = await signInPhone(ctx, 'phone', 'kadon', { sw: false });
    page.on('dialog', (d) => d.accept());
    // A full disk, store by store: IndexedDB refuses the write as a browser does when over quota.
    await page.evaluate(() => {
      const { put, add } = IDBObjectStore.prototype;
      window.__fail = {};
      const guard = (orig) =>
        function (...args) {
          if (window.__fail[this.name]) throw new DOMException('test: disk full', 'QuotaExceededError');
          return orig.apply(this, args);
        };
      IDBObjectStore.prototype.put = guard(put);
      IDBObjectStore.prototype.add = guard(add);
    });
    const fail = (store, on) => page.evaluate(([s, v]) => { window.__fail[s] = v; }, [store, on]);
    const text = (sel) => page.locator(sel).first().textContent({ timeout: 5000 }).then((t) => t.trim());

    await createNote(page, { title: 'Ghi chép A', content: 'a' });

    // The draft cannot be autosaved: said so, and what was typed stays; a later write clears it.
    await openNoteForm(page);
    await fillNote(page, { title: 'Nháp X' });
    await fail('meta', true);
    await page.fill('#note-content', 'nội dung khi lỗi');
    await page.waitForSelector('[data-testid=draft-message].error', { timeout: 5000 });
    assert.match(await text('[data-testid=draft-message]'), /nháp|draft/i);
    assert.equal(await page.inputValue('#note-content'), 'nội dung khi lỗi');
    await fail('meta', false);
    await page.fill('#note-content', 'nội dung sau lỗi');
    await page.waitForSelector('[data-testid=draft-message]', { state: 'detached', timeout: 5000 });

    // The note is saved but the fresh draft cannot be written: the list shows the note (it does
    // not wait for that write), the banner says so, and the next form does not reopen the saved
    // note's draft as a new note.
    await page.fill('#note-title', 'Ghi chép B');
    await fail('meta', true);
    await page.click('button[data-testid=save-note]');
    await page.waitForSelector('p.banner[role=alert]', { timeout: 5000 });
    assert.match(await text('p.banner[role=alert]'), /bản nháp|draft/i);
    await fail('meta', false);
    await waitNotesExactly(page, ['Ghi chép A', 'Ghi chép B']);
    await openNoteForm(page);
    assert.equal(await page.inputValue('#note-title'), '', 'a fresh form, not the saved note again');
    await waitNotesExactly(page, ['Ghi chép A', 'Ghi chép B']);

    // Opening a note to edit cannot write its draft: said on the note, the list stays.
    await fail('meta', true);
    const itemA = page.locator(NOTE_ITEM, { hasText: 'Ghi chép A' });
    await itemA.getByRole('button', { name: 'Sửa' }).click();
    await page.waitForSelector('[data-testid=note-item-message].error', { timeout: 5000 });
    assert.equal(await page.locator('[data-testid=nav-notes][aria-current=page]').count(), 1);
    await fail('meta', false);

    // A delete cannot be written: the banner says so; the change is written with the next save,
    // and after a reload the phone holds exactly what the user did.
    await fail('chunks', true);
    await itemA.getByRole('button', { name: 'Xóa' }).click();
    await page.waitForSelector('p.banner[role=alert]', { timeout: 5000 });
    await fail('chunks', false);
    await createNote(page, { title: 'Ghi chép C', content: 'c' });
    await page.reload();
    await waitAppReady(page);
    await waitNotesExactly(page, ['Ghi chép B', 'Ghi chép C']);
  });
});
