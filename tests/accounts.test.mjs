// Accounts and devices (issue 12) end to end: a real danvan-server process and headless Chromium.
//
// An administrator (office bundle, 1366×900) creates a member of the Farmers' Union; the member logs
// in on a phone (360×640) with the one-time password, is sent to choose their own, and a new note
// starts with their unit; offline they record a note; the administrator revokes the phone; back
// online the phone says it is signed out, stops syncing, keeps the note and still exports it; the
// audit log lists the login, the revocation and that export. An export sealed with a passphrase holds no readable note text; another phone opens it
// only with the passphrase (a wrong one changes nothing).
//
//   DANVAN_SERVER_BIN=../target/debug/danvan-server DANVAN_DIST=../target/dist \
//   CHROMIUM=/usr/bin/chromium node --test accounts.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { watchPage } from './lib/browser.mjs';
import { DESK } from './lib/app.mjs';
import { apiGet, login } from './lib/server.mjs';
import {
  createNote,
  fillNote,
  loginUi,
  openNoteForm,
  openPhone,
  openTab,
  saveNote,
  scenario,
  signInPhone,
  waitAppReady,
  waitNotesExactly,
  waitTasks,
} from './lib/field.mjs';

test('an admin creates a member, the member records offline, the admin revokes the phone, which keeps and exports its note', { timeout: 300_000 }, () =>
  scenario('accounts', async (ctx) => {
    const deskCtx = await ctx.browser.newContext(DESK);
    const desk = await deskCtx.newPage();
    watchPage(desk, 'accounts-desk');
    ctx.pages.desk = desk;
    await desk.goto(ctx.server.url);
    await waitAppReady(desk);
    await loginUi(desk, 'admin');
    await desk.click('button[data-testid=tab-accounts]', { timeout: 20_000 });
    await desk.waitForSelector('[data-testid=user-row][data-username=kadon]', { timeout: 20_000 });

    // A member of the Farmers' Union of Xã Ka Đơn; the one-time password is shown once.
    await desk.fill('#user-name', 'nongdan.kadon');
    await desk.fill('#user-display', 'Chi hội Nông dân xã Ka Đơn');
    await desk.selectOption('#user-role', 'member');
    await desk.selectOption('#user-node', 'xa-ka-don');
    await desk.selectOption('#user-unit', 'hoi-nong-dan');
    await desk.click('button[data-testid=create-user]');
    await desk.waitForSelector('[data-testid=accounts-message].ok', { timeout: 10_000 });
    const shown = await desk.textContent('[data-testid=accounts-message]');
    const password = shown.match(/nongdan\.kadon: ([a-z0-9]{12})/)?.[1];
    assert.ok(password, `a one-time password in: ${shown}`);
    await desk.waitForSelector('[data-testid=user-row][data-username="nongdan.kadon"]');

    // The member's phone: logged in with it; a new note starts with their unit.
    const { context, page } = await openPhone(ctx, 'phone');
    await page.goto(ctx.server.url);
    await waitAppReady(page);
    await page.fill('#username', 'nongdan.kadon');
    await page.fill('#password', password);
    await page.click('button[data-testid=login]');
    // A one-time password: the member chooses their own before anything else.
    await page.waitForURL(/\/password\.html\?first/, { timeout: 20_000 });
    assert.ok(await page.isVisible('#first'), 'the page says why');
    await page.fill('#old', password);
    await page.fill('#new', 'cà phê Ka Đơn 2026');
    await page.fill('#again', 'cà phê Ka Đơn 2027');
    await page.click('#submit');
    assert.match(await page.textContent('#error'), /không khớp/);
    await page.fill('#again', 'cà phê Ka Đơn 2026');
    await page.click('#submit');
    await page.waitForSelector('#done:not([hidden])', { timeout: 10_000 });
    await page.waitForURL((u) => u.pathname === '/', { timeout: 10_000 });
    await waitTasks(page);
    const me = await login(ctx.server.url, 'nongdan.kadon', 'cà phê Ka Đơn 2026');
    assert.equal(me.user.must_change, false, 'the own password works and is no longer one-time');
    await fetch(`${ctx.server.url}/api/logout`, { method: 'POST', headers: { authorization: `Bearer ${me.token}` } });
    await openNoteForm(page);
    assert.equal(await page.inputValue('#note-unit'), 'hoi-nong-dan', 'the note form starts with the member unit');

    // Offline, a note; then the administrator revokes the phone.
    await context.setOffline(true);
    const title = 'Họp chi hội bàn giống cà phê mới';
    await fillNote(page, { title, content: 'Ba mươi hội viên đăng ký.' });
    await saveNote(page, title, { timeout: 15_000 });
    await desk.reload();
    await waitAppReady(desk);
    await desk.click('button[data-testid=tab-accounts]', { timeout: 20_000 });
    const row = desk.locator('[data-testid=user-row][data-username="nongdan.kadon"]');
    await row.locator('[data-testid=device]').first().waitFor({ timeout: 10_000 });
    assert.equal(await row.locator('[data-testid=device]').count(), 1);
    await row.locator('[data-testid=revoke-device]').click();
    await desk.waitForSelector('[data-testid=accounts-message].ok', { timeout: 10_000 });
    await row.locator('[data-testid=device]').first().waitFor({ state: 'detached', timeout: 10_000 });

    // Back online, the phone learns it is signed out: said plainly, within seconds; the note stays.
    const t0 = Date.now();
    await context.setOffline(false);
    await page.waitForFunction(() => /đăng xuất/.test(document.querySelector('p.banner[role=alert]')?.textContent ?? ''), null, {
      timeout: 45_000,
      polling: 200,
    });
    const banner = await page.textContent('p.banner[role=alert]');
    assert.match(banner, /Dữ liệu trên máy vẫn được giữ/);
    assert.match(banner, /xuất tệp/);
    const took = Date.now() - t0;
    await openTab(page, 'notes');
    await page.waitForSelector(`[data-testid=note-item] >> text=${title}`, { timeout: 10_000 });

    // …and still exports it.
    await openTab(page, 'sync');
    const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.click('button[data-testid=export]')]);
    const file = path.join(ctx.scratch, download.suggestedFilename());
    await download.saveAs(file);
    const exported = JSON.parse(await readFile(file, 'utf8'));
    assert.equal(exported.exported_by, 'nongdan.kadon');
    assert.ok(exported.docs.some((d) => d.kind === 'notes'), 'the export holds the notes document');
    await page.waitForFunction(() => (localStorage.getItem('danvan.audit') ?? '[]') === '[]', null, { timeout: 15_000 });

    // The server never got the note (the phone was revoked before it synced)…
    const huyen = await login(ctx.server.url, 'huyen');
    const notes = await apiGet(ctx.server.url, '/api/office/notes?commune=xa-ka-don', huyen.token);
    assert.ok(!notes.notes.some((n) => n.note.title === title), 'a revoked phone does not sync');

    // …and the audit log lists the login, the revocation and the export the signed-out phone made.
    await desk.reload();
    await waitAppReady(desk);
    await desk.click('button[data-testid=tab-accounts]', { timeout: 20_000 });
    await desk.waitForSelector('[data-testid=audit-entry][data-action=device-revoked]', { timeout: 10_000 });
    const entries = await desk.$$eval('[data-testid=audit-entry]', (rows) => rows.map((r) => [r.dataset.action, r.textContent]));
    assert.ok(entries.some(([a, text]) => a === 'login' && text.includes('nongdan.kadon')), 'the login is logged');
    assert.ok(entries.some(([a, text]) => a === 'user-created' && text.includes('nongdan.kadon')), 'the creation is logged');
    assert.ok(
      entries.some(([a, text]) => a === 'export' && text.includes('nongdan.kadon') && text.includes('after sign-out')),
      `the export after the revocation is logged: ${JSON.stringify(entries.filter(([a]) => a === 'export'))}`,
    );
    assert.ok(!entries.some(([, text]) => text.includes(password)), 'no password in the log');
    process.stdout.write(`# [accounts] the phone showed it was signed out ${took} ms after coming back online\n`);
  }),
);

test('an export sealed with a passphrase: unreadable without it, refused with a wrong one, imported with it', { timeout: 300_000 }, () =>
  scenario('sealed', async (ctx) => {
    const { context: ca, page: a } = await signInPhone(ctx, 'a', 'kadon');
    const { page: b } = await signInPhone(ctx, 'b', 'kadon2');
    await ca.setOffline(true);
    const title = 'Thăm hộ bà Ka Thị Hoa, đề nghị sửa nhà';
    await createNote(a, { title, content: 'Bà Hoa 78 tuổi, nhà dột; kiến nghị hỗ trợ sửa nhà.' });

    await openTab(a, 'sync');
    await a.fill('#file-passphrase', 'mùa mưa 2026');
    const [download] = await Promise.all([a.waitForEvent('download', { timeout: 30_000 }), a.click('button[data-testid=export]')]);
    const file = path.join(ctx.scratch, download.suggestedFilename());
    await download.saveAs(file);
    const sealed = await readFile(file, 'utf8');
    const envelope = JSON.parse(sealed);
    assert.equal(envelope.format, 'danvan-sealed-1');
    for (const words of [title, 'Ka Thị Hoa', 'sửa nhà', 'kadon']) assert.ok(!sealed.includes(words), `"${words}" readable in the sealed file`);

    // Phone B: without the passphrase, or with a wrong one, nothing is imported.
    await openTab(b, 'sync');
    for (const pass of ['', 'mùa khô 2026']) {
      await b.fill('#file-passphrase', pass);
      await b.setInputFiles('#import-file', file);
      await b.click('button[data-testid=import]');
      const msg = b.locator('[data-testid=import-message]');
      await msg.waitFor({ state: 'visible', timeout: 20_000 });
      assert.equal(await msg.getAttribute('class'), 'error', `refused with ${JSON.stringify(pass)}`);
      assert.match(await msg.textContent(), /Sai mật khẩu/);
      await openTab(b, 'notes');
      await waitNotesExactly(b, [], { what: 'phone B after a refused import' });
      await openTab(b, 'sync');
    }
    // With it: imported.
    await b.fill('#file-passphrase', 'mùa mưa 2026');
    await b.setInputFiles('#import-file', file);
    await b.click('button[data-testid=import]');
    await b.waitForSelector('[data-testid=import-message].ok', { timeout: 20_000 });
    await openTab(b, 'notes');
    await waitNotesExactly(b, [title], { what: 'phone B after the import' });
  }),
);
