// The documented nginx configuration (docs/nginx/danvan.conf) in front of a real danvan-server
// (issue 15): the file itself, with only its paths, ports and certificate replaced, run by Debian's
// nginx with TLS (a throwaway self-signed certificate).
//
// The PWA's files come from nginx precompressed and with the same headers the node would give them;
// plain HTTP is sent to HTTPS; photos go through /api, one resumed after its first chunk; the
// office's server-sent events pass unbuffered; a phone in headless Chromium logs in,
// syncs a note over the proxied WebSocket (wss) and the node holds it; the node is killed (-9), a
// note written meanwhile reaches it once it is back, through the proxy.
//
//   DANVAN_SERVER_BIN=../target/debug/danvan-server DANVAN_DIST=../target/dist \
//   CHROMIUM=/usr/bin/chromium node --test proxy.test.mjs

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readdirSync } from 'node:fs';
import https from 'node:https';
import path from 'node:path';
import { launchChromium, printPageLogs, saveScreenshots } from './lib/browser.mjs';
import { createNote, log, signInPhone, waitBadge } from './lib/field.mjs';
import { NGINX, request, startNginx } from './lib/nginx.mjs';
import {
  apiGet,
  distDir,
  freePort,
  login,
  printServerOutput,
  removeDir,
  startServer,
  tempDataDir,
  waitFor,
} from './lib/server.mjs';

test('the documented nginx configuration serves the app and proxies sync, API and photos to a node', { timeout: 180_000 }, async () => {
  assert.ok(existsSync(NGINX), `no nginx at ${NGINX}: install it (Debian: apt-get install nginx libnginx-mod-http-brotli-static)`);
  assert.ok(existsSync(path.join(distDir(), 'index.html')), `no built app at ${distDir()}: run cargo xtask dist`);
  const dataDir = await tempDataDir('danvan-proxy-');
  const scratch = await tempDataDir('danvan-proxy-nginx-');
  const nodePort = await freePort();
  let server, proxy, browser;
  const pages = {};
  try {
    // nginx first (its port is the node's public URL); the node is told which header it fills.
    proxy = await startNginx(scratch, [`127.0.0.1:${nodePort}`]);
    const startNode = () =>
      startServer({
        dataDir,
        port: nodePort,
        extraArgs: ['--public-url', proxy.url, '--trusted-proxy-header', 'X-Real-IP'],
      });
    server = await startNode();
    log(`[proxy] nginx at ${proxy.url} in front of ${server.url}`);

    // --- static files: precompressed, and the node's own headers ------------------------------
    const wasm = readdirSync(distDir()).find((f) => /^app_bg-[0-9a-f]+\.wasm$/.test(f));
    assert.ok(wasm, 'the built app has a hashed wasm file');
    for (const [file, encoding] of [[`/${wasm}`, 'br'], ['/index.html', 'br'], ['/sw.js', 'gzip'], ['/manifest.webmanifest', 'br']]) {
      const accept = encoding === 'br' ? 'br, gzip' : 'gzip';
      const viaProxy = await request(`${proxy.url}${file}`, { headers: { 'accept-encoding': accept } });
      const fromNode = await request(`${server.url}${file}`, { headers: { 'accept-encoding': accept } });
      assert.equal(viaProxy.status, 200, `${file} through nginx`);
      assert.equal(viaProxy.headers['content-encoding'], encoding, `${file}: the precompressed .${encoding === 'br' ? 'br' : 'gz'} file`);
      assert.ok(viaProxy.body.equals(fromNode.body), `${file}: the same bytes as the node serves`);
      for (const h of ['content-type', 'cache-control', 'content-security-policy', 'x-content-type-options', 'referrer-policy', 'x-frame-options', 'strict-transport-security']) {
        assert.equal(viaProxy.headers[h], fromNode.headers[h], `${file}: ${h} as the node gives it`);
      }
    }
    const plain = await request(`${proxy.plainUrl}/`);
    assert.equal(plain.status, 301);
    assert.match(plain.headers.location, /^https:\/\//);

    // --- a photo through /api ------------------------------------------------------------------
    const { token } = await login(server.url, 'kadon');
    const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(3_000_000)]);
    const sha = createHash('sha256').update(photo).digest('hex');
    const put = await request(`${proxy.url}/api/blobs/${sha}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/octet-stream', 'content-length': photo.length },
      body: photo,
    });
    assert.equal(put.status, 201, put.body.toString());
    const back = await request(`${proxy.url}/api/blobs/${sha}`, { headers: { authorization: `Bearer ${token}` } });
    assert.ok(back.status === 200 && back.body.equals(photo), 'the photo reads back through nginx');
    assert.equal(back.headers['content-security-policy'], "default-src 'none'; sandbox", 'the node\'s stricter policy for a photo, not the pages\'');

    // A photo resumed: the first chunk, the status, the rest (as a phone on a flaky link does).
    const resumed = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(400_000)]);
    const sha2 = createHash('sha256').update(resumed).digest('hex');
    const chunk = (start, end) =>
      request(`${proxy.url}/api/blobs/${sha2}`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'content-range': `bytes ${start}-${end - 1}/${resumed.length}`,
          'content-length': end - start,
        },
        body: resumed.subarray(start, end),
      });
    assert.equal((await chunk(0, 150_000)).status, 202);
    const status = await request(`${proxy.url}/api/blobs/${sha2}/status`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(JSON.parse(status.body).offset, 150_000);
    assert.equal((await chunk(150_000, resumed.length)).status, 201);

    // The office's live updates (server-sent events) pass through unbuffered: opened now, an
    // event arrives when the phone's note lands.
    const huyen = await login(server.url, 'huyen');
    let heard = '';
    const events = https.get(`${proxy.url}/api/office/events`, {
      headers: { authorization: `Bearer ${huyen.token}`, accept: 'text/event-stream' },
      rejectUnauthorized: false,
    });
    events.on('response', (res) => res.on('data', (c) => (heard += c.toString())));
    events.on('error', () => {}); // ended by destroy() below, or by the test's end

    // --- a phone through the proxy: wss sync ---------------------------------------------------
    browser = await launchChromium();
    const ctx = { prefix: 'proxy', pages, browser, server: { url: proxy.url } };
    const { context, page } = await signInPhone(ctx, 'phone', 'kadon', { sw: false, extra: { ignoreHTTPSErrors: true } });
    const title = 'Họp dân thôn 3 qua proxy';
    await createNote(page, { title, date: '2026-11-20', content: 'Tuyên truyền Chỉ thị 18 qua nginx.' });
    await waitBadge(page, { online: 'true', unsynced: '0' }, 30_000);
    await waitFor(async () => heard.includes('event: change') && heard.includes('xa-ka-don'), {
      timeoutMs: 10_000,
      what: 'an office change event through nginx',
    });
    events.destroy();
    const held = async () =>
      (await apiGet(server.url, '/api/office/notes?commune=xa-ka-don', huyen.token)).notes.map((n) => n.note.title);
    await waitFor(async () => (await held()).includes(title), {
      timeoutMs: 15_000,
      what: 'the node holds the note written through nginx',
    });

    // The node dies (kill -9) and a note is written meanwhile: nginx answers 502 and the phone
    // keeps it; the node comes back and the phone delivers it through the proxy unasked.
    await server.kill();
    const second = 'Thăm hộ gia đình khi máy chủ tắt';
    await createNote(page, { title: second, date: '2026-11-21', content: 'Ghi khi máy chủ không chạy.' });
    await waitBadge(page, { unsynced: '1' }, 10_000);
    server = await startNode();
    await waitBadge(page, { online: 'true', unsynced: '0' }, 60_000);
    await waitFor(async () => (await held()).includes(second), {
      timeoutMs: 15_000,
      what: 'the restarted node holds the note written while it was down',
    });
    assert.ok((await held()).includes(title), 'the first note survived the kill');
    await context.close();
  } catch (err) {
    await saveScreenshots(pages, 'proxy');
    printPageLogs();
    printServerOutput();
    throw err;
  } finally {
    if (browser) await browser.close().catch(() => {});
    await proxy?.stop();
    await server?.stop();
    await removeDir(dataDir);
    await removeDir(scratch);
  }
});
