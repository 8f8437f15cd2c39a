// Interop: the official JS automerge-repo client (Repo + WebSocketClientAdapter) against a real
// danvan-server process, in both directions, with the server's access rules.
//
//   DANVAN_SERVER_BIN=../target/debug/danvan-server DANVAN_DIST=../target/dist node --test interop.test.mjs

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import * as A from '@automerge/automerge';
import { Repo } from '@automerge/automerge-repo';
import { WebSocketClientAdapter } from '@automerge/automerge-repo-network-websocket';
import {
  apiGet,
  login,
  printServerOutput,
  removeDir,
  startServer,
  tempDataDir,
  waitFor,
} from './lib/server.mjs';
import { bareId, docId, quarterOf, toUrl, ulid, vnToday } from './lib/ids.mjs';

const COMMUNE = 'xa-ka-don';
const OTHER_COMMUNE = 'xa-lac-xuan';

let server;
let dataDir;
let failed = false;
const repos = [];

before(async () => {
  dataDir = await tempDataDir('danvan-interop-');
  try {
    server = await startServer({ dataDir, demo: true });
  } catch (err) {
    printServerOutput();
    throw err;
  }
});

after(async () => {
  for (const repo of repos) {
    try {
      await repo.shutdown();
    } catch {
      /* best effort */
    }
  }
  if (server) await server.stop('SIGTERM');
  if (failed || process.env.E2E_VERBOSE) printServerOutput();
  await removeDir(dataDir);
});

/** Run a test body; on failure remember it so the server output is printed at the end. */
function reporting(fn) {
  return async (t) => {
    try {
      await fn(t);
    } catch (err) {
      failed = true;
      throw err;
    }
  };
}

/** A Repo that syncs with the server (`srv`, by default the suite's) as the logged-in user (peer
 * ID bound to the login). */
async function connect(session, srv = server) {
  const wsUrl = `${srv.url.replace(/^http/, 'ws')}/sync?token=${encodeURIComponent(session.token)}`;
  const adapter = new WebSocketClientAdapter(wsUrl, 1000);
  const repo = new Repo({ network: [adapter], peerId: session.peer_id });
  repos.push(repo);
  // The adapter declares itself "ready" after 1 s even without a peer, and a find() with no peer
  // ends "unavailable" at once: wait for the server's `peer` answer first.
  await waitFor(() => repo.peers.length > 0, { timeoutMs: 10_000, what: `sync peer for ${session.user?.username}` });
  return repo;
}

async function withTimeout(promise, ms, what) {
  let timer;
  try {
    return await Promise.race([
      promise,
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

async function durableHeads(token) {
  const body = await apiGet(server.url, '/api/durable-heads', token);
  assert.equal(typeof body.heads, 'object', `durable-heads body: ${JSON.stringify(body)}`);
  return body.heads;
}

/** Strings written by the Rust server are Automerge scalar strings: `ImmutableString` in JS. */
function str(v) {
  if (typeof v === 'string') return v;
  if (A.isImmutableString(v)) return v.val;
  return v === undefined || v === null ? v : String(v);
}

function headsOf(heads, id) {
  return heads[bareId(id)] ?? heads[toUrl(id)] ?? [];
}

test(
  'login returns token, peer_id and the commune',
  reporting(async () => {
    const s = await login(server.url, 'kadon');
    assert.ok(s.token, 'token');
    assert.ok(s.peer_id, 'peer_id');
    assert.equal(s.user.username, 'kadon');
    assert.equal(s.user.commune_id, COMMUNE);
    const res = await fetch(`${server.url}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username: 'kadon', password: 'wrong' }),
    });
    assert.equal(res.status, 401);
    const noToken = await fetch(`${server.url}/api/docs`);
    assert.equal(noToken.status, 401, '/api/docs without a token');
  }),
);

test(
  'document IDs listed by the server follow the contract rule',
  reporting(async () => {
    const s = await login(server.url, 'kadon');
    const { docs } = await apiGet(server.url, '/api/docs', s.token);
    assert.ok(Array.isArray(docs) && docs.length > 0, 'some documents listed');
    for (const d of docs) {
      assert.equal(bareId(d.doc_id), docId(d.kind, d.scope, d.period ?? '').documentId, `id of ${JSON.stringify(d)}`);
    }
    const quarter = quarterOf();
    const notes = docs.find((d) => d.kind === 'notes' && d.scope === COMMUNE && d.period === quarter);
    assert.ok(notes, `notes ${COMMUNE}/${quarter} listed: ${JSON.stringify(docs)}`);
    assert.equal(notes.access, 'rw');
    assert.ok(docs.some((d) => d.kind === 'plan'), 'a plan is listed');
    assert.ok(
      !docs.some((d) => d.scope === OTHER_COMMUNE || d.scope.endsWith(`/${OTHER_COMMUNE}`)),
      `no document of ${OTHER_COMMUNE} listed for kadon`,
    );
  }),
);

test(
  'server → JS: automerge-repo finds the plan and org written by the server',
  { timeout: 60_000 },
  reporting(async () => {
    const s = await login(server.url, 'kadon');
    const { docs } = await apiGet(server.url, '/api/docs', s.token);
    const repo = await connect(s);

    const planEntry = docs.find((d) => d.kind === 'plan');
    const plan = await withTimeout(repo.find(toUrl(planEntry.doc_id)), 15_000, 'find plan');
    const p = plan.doc();
    assert.equal(str(p.kind), 'plan');
    assert.equal(str(p.scope), planEntry.scope);
    assert.equal(typeof p.tasks, 'object');
    const tasks = Object.values(p.tasks);
    assert.ok(tasks.length > 0, 'the plan has tasks');
    assert.ok(tasks.every((t) => str(t.title)?.length > 0), 'tasks have titles');

    const orgEntry = docs.find((d) => d.kind === 'org');
    assert.ok(orgEntry, 'org document listed');
    const org = await withTimeout(repo.find(toUrl(orgEntry.doc_id)), 15_000, 'find org');
    assert.equal(str(org.doc().kind), 'org');
    assert.ok(Object.keys(org.doc().nodes ?? {}).includes(COMMUNE), `org tree has ${COMMUNE}`);
  }),
);

test(
  'JS → server: a note written by automerge-repo is stored durably and reaches another device',
  { timeout: 60_000 },
  reporting(async () => {
    const s = await login(server.url, 'kadon');
    const quarter = quarterOf();
    const notes = docId('notes', COMMUNE, quarter);
    const { docs } = await apiGet(server.url, '/api/docs', s.token);
    assert.ok(
      docs.some((d) => bareId(d.doc_id) === notes.documentId),
      `current quarter's notes doc ${notes.documentId} exists on the server`,
    );

    const repo = await connect(s);
    const handle = await withTimeout(repo.find(notes.url), 15_000, 'find notes');
    assert.equal(str(handle.doc().kind), 'notes');
    assert.equal(str(handle.doc().scope), COMMUNE);
    assert.equal(str(handle.doc().period), quarter);
    assert.equal(typeof handle.doc().notes, 'object');

    const noteId = ulid();
    const title = `interop ${noteId.slice(-6)}`;
    // The schema (shared/src/schema/) stores scalar strings; Automerge 3 JS would make a plain JS
    // string a collaborative Text object, so write ImmutableString as the app does.
    const S = (v) => new A.ImmutableString(v);
    handle.change((d) => {
      d.notes[noteId] = {
        activity_date: S(vnToday()),
        title: S(title),
        content: S('written by @automerge/automerge-repo'),
        task_id: null,
        author: S('kadon'),
        created_at: new Date(),
      };
    });
    const ours = A.getHeads(handle.doc());
    assert.ok(ours.length > 0);

    // Stored in SQLite: the durable heads cover our change.
    await waitFor(
      async () => {
        const stored = headsOf(await durableHeads(s.token), notes.documentId);
        return ours.every((h) => stored.includes(h));
      },
      { timeoutMs: 10_000, what: `durable heads of ${notes.documentId} to include ${ours.join(',')}` },
    );

    // Another device of the same commune (peer IDs are bound to logins: a second account).
    const s2 = await login(server.url, 'kadon2');
    assert.notEqual(s2.peer_id, s.peer_id);
    const repo2 = await connect(s2);
    const h2 = await withTimeout(repo2.find(notes.url), 15_000, 'kadon2 find notes');
    const seen = await waitFor(() => h2.doc()?.notes?.[noteId], {
      timeoutMs: 10_000,
      what: 'kadon2 to see the note',
    });
    assert.equal(str(seen.title), title);
    assert.equal(str(seen.author), 'kadon');
    assert.ok(seen.created_at instanceof Date, 'created_at is an Automerge timestamp');

    // The server's read model parsed the note: the aggregating level counts it.
    const viewer = await login(server.url, 'huyen');
    await waitFor(
      async () => {
        const { communes } = await apiGet(server.url, '/api/overview', viewer.token);
        return communes.find((c) => c.commune_id === COMMUNE)?.notes >= 1;
      },
      { timeoutMs: 10_000, what: `/api/overview to count the note for ${COMMUNE}` },
    );
  }),
);

test(
  "kadon cannot fetch another commune's notes document",
  { timeout: 30_000 },
  reporting(async () => {
    const s = await login(server.url, 'kadon');
    const repo = await connect(s);
    const other = docId('notes', OTHER_COMMUNE, quarterOf());
    let outcome;
    try {
      const h = await withTimeout(repo.find(other.url), 10_000, `find ${OTHER_COMMUNE} notes`);
      outcome = `found: ${JSON.stringify(h.doc())}`;
    } catch (err) {
      outcome = err.message;
    }
    assert.match(outcome, /unavailable/, 'find rejects with "unavailable"');
  }),
);

test(
  "a read-only peer's change is neither stored nor relayed",
  { timeout: 60_000 },
  reporting(async () => {
    const s = await login(server.url, 'kadon');
    const { docs } = await apiGet(server.url, '/api/docs', s.token);
    const planEntry = docs.find((d) => d.kind === 'plan');
    assert.equal(planEntry.access, 'ro', 'a member only reads the plan');

    const repo = await connect(s);
    const plan = await withTimeout(repo.find(toUrl(planEntry.doc_id)), 15_000, 'find plan');
    plan.change((d) => {
      d.injected_by_member = 'should not be stored';
    });
    const forged = A.getHeads(plan.doc());
    // Give the server ample time to (wrongly) store it.
    await new Promise((r) => setTimeout(r, 2_000));
    const stored = headsOf(await durableHeads(s.token), planEntry.doc_id);
    assert.ok(!forged.some((h) => stored.includes(h)), 'the forged change is not among the durable heads');

    const s2 = await login(server.url, 'kadon2');
    const repo2 = await connect(s2);
    const p2 = await withTimeout(repo2.find(toUrl(planEntry.doc_id)), 15_000, 'kadon2 find plan');
    await new Promise((r) => setTimeout(r, 1_000));
    assert.equal(p2.doc().injected_by_member, undefined, 'not relayed to another peer');
  }),
);

test(
  'a document the server unloads while two JS clients stay connected still carries their changes',
  { timeout: 90_000 },
  reporting(async () => {
    // A server of its own that lets documents go after a second of quiet (samod patch).
    const dir = await tempDataDir('danvan-interop-unload-');
    const srv = await startServer({ dataDir: dir, demo: true, extraArgs: ['--unload-after-secs', '1'] });
    try {
      const loaded = async () => {
        const text = await (await fetch(`${srv.url}/healthz`)).text();
        return Number(/^documents_loaded (\d+)$/m.exec(text)?.[1]);
      };
      const notes = docId('notes', COMMUNE, quarterOf());
      const [a, b] = [await connect(await login(srv.url, 'kadon'), srv), await connect(await login(srv.url, 'kadon2'), srv)];
      const [ha, hb] = [
        await withTimeout(a.find(notes.url), 15_000, 'kadon find notes'),
        await withTimeout(b.find(notes.url), 15_000, 'kadon2 find notes'),
      ];
      const S = (v) => new A.ImmutableString(v);
      const write = (h, id) =>
        h.change((d) => {
          d.notes[id] = {
            activity_date: S(vnToday()),
            title: S(`unload ${id.slice(-6)}`),
            content: S('written by @automerge/automerge-repo'),
            task_id: null,
            author: S('kadon'),
            created_at: new Date(),
          };
        });
      const sees = (h, id, who) => waitFor(() => h.doc()?.notes?.[id], { timeoutMs: 10_000, what: `${who} to see ${id}` });

      const first = ulid();
      write(ha, first);
      await sees(hb, first, 'kadon2 (document loaded)');

      // Both clients stay connected and quiet: the server unloads every document.
      await waitFor(async () => (await loaded()) === 0, { timeoutMs: 20_000, what: 'the server to unload its documents' });

      // The next change loads it again; the client that only listened receives it, and its own
      // change reaches the first.
      const second = ulid();
      write(ha, second);
      await sees(hb, second, 'kadon2 (after the reload)');
      assert.ok((await loaded()) > 0, 'the document is loaded again');
      const third = ulid();
      write(hb, third);
      await sees(ha, third, 'kadon (after the reload)');
      for (const r of [a, b]) await r.shutdown();
    } finally {
      await srv.stop('SIGTERM');
      await removeDir(dir);
    }
  }),
);
