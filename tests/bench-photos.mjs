// Photo upload and read benchmark (issue 15, the photo store): a real danvan-server process on a
// fresh demo data folder, N photos of ~300 KB (a phone's resized photo) uploaded whole by C
// clients at once, then each read back; optionally, `blobs migrate` of what an older server stored
// inside its database (run the same data folder with --old-bin first).
//
//   node bench-photos.mjs --server-bin ../target/release/danvan-server [--photos 400] [--concurrency 8]
//     [--size 300000] [--old-bin PATH]
//
// With --old-bin, the photos are uploaded through that (older) server, which keeps them inside
// SQLite, and then `--server-bin … blobs migrate` moves them and is timed.
// Prints one JSON line per phase.

import { spawnSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { parseOptions } from './lib/args.mjs';
import { login, removeDir, startServer, tempDataDir } from './lib/server.mjs';

const o = parseOptions(
  process.argv.slice(2),
  { serverBin: null, oldBin: '', photos: 400, concurrency: 8, size: 300_000 },
  'usage: node bench-photos.mjs --server-bin PATH [--photos 400] [--concurrency 8] [--size 300000] [--old-bin PATH]',
);
if (!o.serverBin) throw new Error('--server-bin PATH is required');

function duSize(p) {
  const s = statSync(p);
  if (!s.isDirectory()) return s.size;
  return readdirSync(p).reduce((n, f) => n + duSize(path.join(p, f)), 0);
}

const pct = (xs, q) => xs[Math.min(xs.length - 1, Math.floor(q * xs.length))];

async function phase(name, items, work) {
  const lat = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: o.concurrency }, async () => {
      while (next < items.length) {
        const item = items[next++];
        const t = performance.now();
        await work(item);
        lat.push(performance.now() - t);
      }
    }),
  );
  const secs = (performance.now() - started) / 1000;
  lat.sort((a, b) => a - b);
  return { phase: name, n: items.length, per_s: +(items.length / secs).toFixed(1), p50_ms: +pct(lat, 0.5).toFixed(1), p99_ms: +pct(lat, 0.99).toFixed(1) };
}

const dataDir = await tempDataDir('danvan-bench-photos-');
const photos = Array.from({ length: o.photos }, () => {
  const bytes = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), randomBytes(o.size - 4)]);
  return { bytes, sha: createHash('sha256').update(bytes).digest('hex') };
});
try {
  process.env.DANVAN_SERVER_BIN = o.oldBin || o.serverBin;
  let server = await startServer({ dataDir });
  const { token } = await login(server.url, 'kadon');
  const auth = { authorization: `Bearer ${token}` };
  const up = await phase('upload', photos, async (p) => {
    const res = await fetch(`${server.url}/api/blobs/${p.sha}`, { method: 'PUT', headers: auth, body: p.bytes });
    if (res.status !== 201) throw new Error(`PUT ${res.status} ${await res.text()}`);
  });
  console.log(JSON.stringify({ server: process.env.DANVAN_SERVER_BIN, ...up }));
  const down = await phase('read', photos, async (p) => {
    const res = await fetch(`${server.url}/api/blobs/${p.sha}`, { headers: auth });
    const got = Buffer.from(await res.arrayBuffer());
    if (res.status !== 200 || got.length !== p.bytes.length) throw new Error(`GET ${res.status}`);
  });
  console.log(JSON.stringify({ server: process.env.DANVAN_SERVER_BIN, ...down }));
  await server.stop();
  const db = path.join(dataDir, 'danvan.sqlite3');
  const blobs = path.join(dataDir, 'blobs');
  const sizes = () => ({ database_mb: +(duSize(db) / 1e6).toFixed(1), blobs_mb: +((statSync(blobs, { throwIfNoEntry: false }) ? duSize(blobs) : 0) / 1e6).toFixed(1) });
  console.log(JSON.stringify({ phase: 'on disk', ...sizes() }));
  if (o.oldBin) {
    const t = performance.now();
    const r = spawnSync(o.serverBin, ['--data-dir', dataDir, 'blobs', 'migrate'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`migrate failed: ${r.stdout}${r.stderr}`);
    console.log(JSON.stringify({ phase: 'migrate', secs: +((performance.now() - t) / 1000).toFixed(2), out: r.stdout.trim().split('\n')[0], ...sizes() }));
    process.env.DANVAN_SERVER_BIN = o.serverBin;
    server = await startServer({ dataDir, demo: false });
    const again = await phase('read after migrate', photos, async (p) => {
      const res = await fetch(`${server.url}/api/blobs/${p.sha}`, { headers: auth });
      const got = Buffer.from(await res.arrayBuffer());
      if (res.status !== 200 || !got.equals(p.bytes)) throw new Error(`GET after migrate ${res.status}`);
    });
    console.log(JSON.stringify({ server: o.serverBin, ...again }));
    await server.stop();
  }
} finally {
  await removeDir(dataDir);
}
