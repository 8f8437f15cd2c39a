// A busy commune on the phone (issue 16): a quarter of 2,000 notes (generated on the server by the
// `seed_notes` example, one change per note, 200 edited and 40 deleted, as phones write them), a real
// danvan-server process and headless Chromium at 360×640.
//
// With the phone offline and the server killed, a note saved survives a reload, is found by search;
// a note from the middle of the list is edited; back online both reach the server, and every other
// note of the quarter is exactly as it was.
//
//   DANVAN_SERVER_BIN=../target/debug/danvan-server DANVAN_SEED_BIN=../target/debug/examples/seed_notes \
//   DANVAN_DIST=../target/dist CHROMIUM=/usr/bin/chromium node --test volume.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { apiGet, login, waitFor } from './lib/server.mjs';
import { NOTES_COUNT, NOTE_ITEM, fillNote, log, openNoteForm, openTab, saveNote, scenario, signInPhone, waitAppReady } from './lib/field.mjs';

const NOTES = 2000;

/** Every note of the current quarter as the server's office API lists it, by ID. */
async function serverNotes(url, token) {
  const byId = new Map();
  for (let offset = 0; ; ) {
    const page = await apiGet(url, `/api/office/notes?commune=xa-ka-don&offset=${offset}`, token);
    for (const n of page.notes) byId.set(n.note.id, n.note);
    offset += page.notes.length;
    if (page.notes.length === 0 || offset >= page.total) break;
  }
  return byId;
}

/** The notes list's count once nothing is left to read. */
async function listedCount(page, want, timeout) {
  await openTab(page, 'notes');
  await page
    .waitForFunction(
      ([sel, want]) =>
        !document.querySelector('[data-testid=notes-loading]') &&
        Number(document.querySelector(sel)?.getAttribute('data-count')) === want,
      [NOTES_COUNT, want],
      { timeout, polling: 250 },
    )
    .catch(async (err) => {
      const shown = await page.getAttribute(NOTES_COUNT, 'data-count').catch(() => null);
      throw new Error(`the notes list shows ${shown} notes, not ${want}`, { cause: err });
    });
}

/** Type a search and wait until the list shows `want` notes; returns the listed titles. */
async function search(page, words, want) {
  await openTab(page, 'notes');
  await page.fill('#note-search', words);
  await page.waitForFunction(
    ([sel, want]) => Number(document.querySelector(sel)?.getAttribute('data-count')) === want,
    [NOTES_COUNT, want],
    { timeout: 10_000, polling: 100 },
  );
  return await page.$$eval(`${NOTE_ITEM} .title`, (els) => els.map((e) => e.textContent.trim()));
}

test('a quarter of 2,000 notes: saved offline, reloaded, found, edited mid-list, synced, the rest intact', { timeout: 900_000 }, () =>
  scenario('volume', async (ctx) => {
    const seedBin = process.env.DANVAN_SEED_BIN;
    assert.ok(seedBin && existsSync(seedBin), `DANVAN_SEED_BIN (the seed_notes example) not found: ${seedBin}`);
    // The quarter is generated on the stopped server, then served.
    await ctx.server.stop('SIGTERM');
    const t0 = Date.now();
    const gen = spawnSync(seedBin, ['--data-dir', ctx.dataDir, '--notes', String(NOTES)], { encoding: 'utf8' });
    assert.equal(gen.status, 0, `seed_notes failed: ${gen.stderr}`);
    const seeded = JSON.parse(gen.stdout.trim().split('\n').pop());
    log(`[volume] ${JSON.stringify(seeded)} in ${Date.now() - t0} ms`);
    ctx.server = await ctx.start();
    const { token } = await login(ctx.server.url, 'huyen');
    const before = await serverNotes(ctx.server.url, token);
    assert.equal(before.size, seeded.live);

    // A new phone: the quarter arrives with the first sync.
    const { context, page } = await signInPhone(ctx, 'phone', 'kadon');
    await listedCount(page, seeded.live, 180_000);

    // Offline both ways: the network gone and the server killed.
    await context.setOffline(true);
    await ctx.server.stop('SIGKILL');

    const title = 'Họp dân bàn làm đường liên thôn giữa mùa mưa';
    await openNoteForm(page);
    await fillNote(page, { title, content: 'Bà con góp 120 ngày công, hai hộ hiến đất.' });
    await saveNote(page, title, { timeout: 30_000 });
    await listedCount(page, seeded.live + 1, 60_000);

    // A note from the middle of the quarter (the generator's 1,003rd), found by its results.
    const middle = '01BENCH001003';
    assert.equal(before.get(middle)?.results, 'Đã cập nhật kết quả (1003)');
    await search(page, 'ket qua (1003)', 1);
    const item = page.locator(`${NOTE_ITEM}[data-note-id="${middle}"]`);
    await item.getByRole('button', { name: 'Sửa' }).click();
    await page.waitForFunction((t) => document.querySelector('#note-title')?.value === t, before.get(middle).title, { timeout: 10_000 });
    const edited = 'Đã sửa khi không có mạng: thêm 15 hộ đăng ký.';
    await page.fill('#note-results', edited);
    await page.click('button[data-testid=save-note]');
    await page.waitForSelector('[data-testid=nav-notes][aria-current=page]', { timeout: 30_000 });
    assert.deepEqual(await search(page, 'them 15 ho dang ky', 1), [before.get(middle).title]);

    // A reload, still offline (served by the service worker): both are there and found.
    await page.reload();
    await waitAppReady(page, 60_000);
    await listedCount(page, seeded.live + 1, 120_000);
    assert.deepEqual(await search(page, 'hop dan ban lam duong lien thon', 1), [title]);
    await search(page, 'them 15 ho dang ky', 1);

    // Back online: the server (restarted) receives both, and nothing else changed.
    ctx.server = await ctx.start();
    await context.setOffline(false);
    const after = await waitFor(
      async () => {
        const now = await serverNotes(ctx.server.url, (await login(ctx.server.url, 'huyen')).token);
        return now.size === seeded.live + 1 && now.get(middle)?.results === edited ? now : null;
      },
      { timeoutMs: 120_000, intervalMs: 2_000, what: 'the offline note and edit on the server' },
    );
    const added = [...after.keys()].filter((id) => !before.has(id));
    assert.equal(added.length, 1);
    assert.equal(after.get(added[0]).title, title);
    assert.deepEqual({ ...after.get(middle), results: before.get(middle).results }, before.get(middle));
    let same = 0;
    for (const [id, note] of before) {
      if (id === middle) continue;
      assert.deepEqual(after.get(id), note, `note ${id} changed`);
      same++;
    }
    assert.equal(same, seeded.live - 1);
  }),
);
