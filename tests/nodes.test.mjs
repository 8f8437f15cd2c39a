// Several nodes behind the documented nginx configuration (issue 15): three danvan-server
// processes sharing one PostgreSQL database (a throwaway cluster) and one photo directory, 30
// devices — the official automerge-repo client, over wss through nginx — half of them naming their
// commune as the app does (nginx sends a commune's devices to one node), half spread at random. Notes written through every node converge on every device of the commune and in the
// read model; one node is killed (-9) while devices write, its devices reconnect through nginx to
// the others, and nothing acknowledged durable is lost. A photo begun on one node resumes on
// another.
//
//   DANVAN_SERVER_BIN=../target/debug/danvan-server DANVAN_DIST=../target/dist node --test nodes.test.mjs

// nginx's certificate is the test's own, self-signed: the devices (ws) and fetch accept it.
process.env.NODE_TLS_REJECT_UNAUTHORIZED = '0';

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as A from '@automerge/automerge';
import { Repo } from '@automerge/automerge-repo';
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
import { bareId, docId, quarterOf, toUrl, ulid, vnToday } from './lib/ids.mjs';
import { NGINX, request, startNginx } from './lib/nginx.mjs';
import { startPostgres } from './lib/postgres.mjs';
import {
  apiGet,
  freePort,
  login,
  printServerOutput,
  removeDir,
  startServer,
  tempDataDir,
  waitFor,
} from './lib/server.mjs';

const USERS = { kadon: 'xa-ka-don', kadon2: 'xa-ka-don', lacxuan: 'xa-lac-xuan' };
const DEVICES = 30;
const S = (v) => new A.ImmutableString(v);

/** A device: a logged-in automerge-repo syncing its commune's notes document through `proxy`;
 * `routed`: it names its commune when it opens the socket, as the app does. */
async function device(proxy, user, repos, routed = false) {
  const session = await login(proxy, user);
  const route = routed ? `&commune=${USERS[user]}` : '';
  const ws = `${proxy.replace(/^https/, 'wss')}/sync?token=${encodeURIComponent(session.token)}${route}`;
  const repo = new Repo({ network: [new WebSocketClientAdapter(ws, 1000)], peerId: session.peer_id });
  repos.push(repo);
  await waitFor(() => repo.peers.length > 0, { timeoutMs: 20_000, what: `a sync peer for ${user}` });
  const commune = USERS[user];
  const notes = docId('notes', commune, quarterOf());
  const handle = await repo.find(notes.url);
  return { user, commune, session, repo, handle, notes, written: [] };
}

/** Write one note on `d` (as the app does: scalar strings). */
function write(d, tag) {
  const id = ulid();
  d.handle.change((doc) => {
    doc.notes[id] = {
      activity_date: S(vnToday()),
      title: S(`${tag} ${d.user} ${id.slice(-6)}`),
      content: S('qua nginx, một trong ba máy chủ'),
      task_id: null,
      author: S(d.user),
      created_at: new Date(),
    };
  });
  d.written.push(id);
  return id;
}

/** Whether the server (any node, through the proxy) says `d`'s notes document is durable at its
 * current heads. */
async function durable(proxy, d) {
  const ours = A.getHeads(d.handle.doc());
  const { heads } = await apiGet(proxy, '/api/durable-heads', d.session.token);
  const stored = heads[bareId(d.notes.documentId)] ?? heads[toUrl(d.notes.documentId)] ?? [];
  return ours.every((h) => stored.includes(h));
}

const healthz = async (node) => (await request(`${node.url}/healthz`)).body.toString();

test('three nodes behind nginx on one PostgreSQL: 30 devices converge, a node killed, nothing acknowledged lost', { timeout: 300_000 }, async () => {
  assert.ok(existsSync(NGINX), `no nginx at ${NGINX}: install it (Debian: apt-get install nginx libnginx-mod-http-brotli-static)`);
  const pg = await startPostgres();
  const scratch = await tempDataDir('danvan-nodes-nginx-');
  const photos = await tempDataDir('danvan-nodes-photos-');
  const dirs = [];
  const nodes = [];
  const repos = [];
  let proxy;
  try {
    const ports = [await freePort(), await freePort(), await freePort()];
    proxy = await startNginx(scratch, ports.map((p) => `127.0.0.1:${p}`));
    const args = ['--database', pg.url, '--blobs', photos, '--public-url', proxy.url, '--trusted-proxy-header', 'X-Real-IP'];
    // One at a time: the first seeds the shared database, the others find it seeded.
    for (const port of ports) {
      const dataDir = await tempDataDir('danvan-node-');
      dirs.push(dataDir);
      nodes.push(await startServer({ dataDir, port, extraArgs: args }));
    }
    assert.ok(!existsSync(path.join(dirs[1], 'danvan.sqlite3')), 'a node keeps nothing in a SQLite file');

    // 30 devices, logins and sockets through nginx. The first 15 name their commune, as the app
    // does: nginx sends a commune's devices to one node (10 of xa-ka-don, 5 of xa-lac-xuan).
    // The others do not (an older app, another client): they spread at random.
    const users = Object.keys(USERS);
    const devices = [];
    for (let i = 0; i < DEVICES / 2; i++) devices.push(await device(proxy.url, users[i % users.length], repos, true));
    const counts = async (what) =>
      Promise.all(nodes.map(async (n) => Number((await healthz(n)).match(new RegExp(`${what} (\\d+)`))[1])));
    const routed = await counts('sync_sockets');
    assert.equal(routed.reduce((a, b) => a + b), 15);
    assert.ok(
      routed.every((n) => [0, 5, 10, 15].includes(n)),
      `each commune's devices on one node (sockets per node: ${routed})`,
    );
    for (let i = DEVICES / 2; i < DEVICES; i++) devices.push(await device(proxy.url, users[i % users.length], repos));
    const sockets = await counts('sync_sockets');
    assert.equal(sockets.reduce((a, b) => a + b), DEVICES);
    assert.ok(sockets.filter((n) => n > 0).length >= 2, `devices on several nodes (sockets per node: ${sockets})`);

    // Two notes per device, acknowledged: durable, as the server answers through any node.
    for (const d of devices) for (let k = 0; k < 2; k++) write(d, 'trước');
    await waitFor(async () => (await Promise.all(devices.map((d) => durable(proxy.url, d)))).every(Boolean), {
      timeoutMs: 60_000,
      what: 'every device\'s first notes durable',
    });
    const acknowledged = devices.flatMap((d) => d.written.map((id) => [d.commune, id]));

    // Two more each, spread over two seconds; the first node dies (kill -9) halfway.
    for (let k = 0; k < 2; k++) {
      for (const [i, d] of devices.entries()) {
        write(d, 'sau');
        if (k === 1 && i === DEVICES / 2) await nodes[0].kill();
        await new Promise((r) => setTimeout(r, 30));
      }
    }

    // Every device of a commune holds every note of its commune; every device's work is durable.
    const want = {};
    for (const d of devices) {
      want[d.commune] ??= new Set();
      for (const id of d.written) want[d.commune].add(id);
    }
    assert.equal(want['xa-ka-don'].size, 80);
    assert.equal(want['xa-lac-xuan'].size, 40);
    await waitFor(
      () =>
        devices.every((d) => {
          const have = d.handle.doc()?.notes ?? {};
          return [...want[d.commune]].every((id) => have[id]);
        }),
      { timeoutMs: 90_000, what: 'every device to hold all its commune\'s notes' },
    );
    await waitFor(async () => (await Promise.all(devices.map((d) => durable(proxy.url, d)))).every(Boolean), {
      timeoutMs: 60_000,
      what: 'every device\'s notes durable after the kill',
    });

    // The read model (one, shared): each note once, whichever node took it.
    const huyen = await login(proxy.url, 'huyen');
    for (const [commune, ids] of Object.entries(want)) {
      await waitFor(async () => (await apiGet(proxy.url, `/api/office/notes?commune=${commune}`, huyen.token)).total === ids.size, {
        timeoutMs: 30_000,
        what: `the office to count ${ids.size} notes in ${commune}`,
      });
    }
    // Nothing acknowledged before the kill is missing from a surviving node's store: a fresh device
    // on node 2 (not through the proxy) reads them all.
    const late = await device(nodes[2].url, 'kadon', repos);
    await waitFor(
      () => acknowledged.filter(([c]) => c === 'xa-ka-don').every(([, id]) => late.handle.doc()?.notes?.[id]),
      { timeoutMs: 30_000, what: 'node 2 to serve every acknowledged note' },
    );

    // A photo begun on node 1, resumed on node 2 (its partial upload is in the shared database),
    // read back through nginx.
    const { token } = await login(proxy.url, 'kadon');
    const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(300_000)]);
    const sha = createHash('sha256').update(photo).digest('hex');
    const chunk = (base, start, end) =>
      request(`${base}/api/blobs/${sha}`, {
        method: 'PUT',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          'content-range': `bytes ${start}-${end - 1}/${photo.length}`,
          'content-length': end - start,
        },
        body: photo.subarray(start, end),
      });
    assert.equal((await chunk(nodes[1].url, 0, 100_000)).status, 202);
    const status = await request(`${nodes[2].url}/api/blobs/${sha}/status`, { headers: { authorization: `Bearer ${token}` } });
    assert.equal(JSON.parse(status.body).offset, 100_000, 'node 2 knows where node 1 stopped');
    assert.equal((await chunk(nodes[2].url, 100_000, photo.length)).status, 201);
    const back = await request(`${proxy.url}/api/blobs/${sha}`, { headers: { authorization: `Bearer ${token}` } });
    assert.ok(back.status === 200 && back.body.equals(photo), 'the photo reads back whole through nginx');
  } catch (err) {
    printServerOutput();
    throw err;
  } finally {
    for (const r of repos) await r.shutdown().catch(() => {});
    await proxy?.stop();
    for (const n of nodes) await n.stop().catch(() => {});
    await pg.stop();
    for (const d of [scratch, photos, ...dirs]) await removeDir(d);
  }
});
