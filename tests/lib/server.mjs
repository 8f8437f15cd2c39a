// Helpers to run a real `danvan-server` process for the end-to-end tests.
//
// Environment:
//   DANVAN_SERVER_BIN  path to the server binary (default: ../target/debug/danvan-server)
//   DANVAN_DIST        path to the built PWA (default: ../target/dist)

import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
export const repoRoot = path.resolve(here, '..', '..');

export const serverBin = () =>
  process.env.DANVAN_SERVER_BIN || path.join(repoRoot, 'target', 'debug', 'danvan-server');
export const distDir = () => process.env.DANVAN_DIST || path.join(repoRoot, 'target', 'dist');

export const DEMO_PASSWORD = 'danvan-demo';

/** Every line any server process printed during this test file, for the failure report. */
const allOutput = [];

/** The collected stdout/stderr of every server started by this process, as one string. */
export function serverOutput() {
  return allOutput.join('');
}

/** Print the collected server output to stderr (call on test failure). */
export function printServerOutput(label = 'server output') {
  process.stderr.write(`\n----- ${label} -----\n${serverOutput()}\n----- end of ${label} -----\n`);
}

/** Server processes still running, killed if this test process ends abruptly (no orphans). */
const live = new Set();
let reaperInstalled = false;
function installReaper() {
  if (reaperInstalled) return;
  reaperInstalled = true;
  const reap = () => {
    for (const p of live) {
      try {
        p.kill('SIGKILL');
      } catch {
        /* gone */
      }
    }
  };
  process.on('exit', reap);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
    process.once(sig, () => {
      reap();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

/** A TCP port that was free a moment ago: bind port 0, read it, close. */
export async function freePort() {
  return await new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

/** A fresh temporary data directory; remove it with `removeDir`. */
export async function tempDataDir(prefix = 'danvan-e2e-') {
  return await mkdtemp(path.join(os.tmpdir(), prefix));
}

export async function removeDir(dir) {
  if (dir) await rm(dir, { recursive: true, force: true, maxRetries: 3 });
}

/**
 * Start the server and wait until it prints `danvan-server listening on http://ADDR`.
 * Returns {url, addr, port, proc, output(), stop(signal='SIGTERM'), kill()}.
 * `stop`/`kill` resolve once the process has exited.
 */
export async function startServer({ dataDir, port, demo = true, timeoutMs = 20_000, env = {}, extraArgs = [] } = {}) {
  if (!dataDir) throw new Error('startServer: dataDir is required');
  if (port === undefined || port === null) port = await freePort();
  const args = ['--listen', `127.0.0.1:${port}`, '--data-dir', dataDir, '--dist', distDir()];
  if (demo) args.push('--demo');
  args.push(...extraArgs);

  const bin = serverBin();
  const started = Date.now();
  allOutput.push(`\n=== ${new Date().toISOString()} starting ${bin} ${args.join(' ')}\n`);
  const proc = spawn(bin, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { RUST_LOG: process.env.RUST_LOG || 'info,samod=warn,samod_core=warn', ...process.env, ...env },
  });

  let own = '';
  const record = (stream) => (chunk) => {
    const text = chunk.toString('utf8');
    own += text;
    allOutput.push(stream === 'stderr' ? text.replace(/^(?=.)/gm, '[stderr] ') : text);
  };
  proc.stdout.on('data', record('stdout'));
  proc.stderr.on('data', record('stderr'));

  installReaper();
  live.add(proc);
  let exited = null;
  const exitPromise = new Promise((resolve) => {
    proc.on('exit', (code, signal) => {
      live.delete(proc);
      exited = { code, signal };
      allOutput.push(`=== server pid ${proc.pid} exited code=${code} signal=${signal}\n`);
      resolve(exited);
    });
  });
  const spawnError = new Promise((_, reject) => {
    proc.on('error', (err) => reject(new Error(`cannot start ${bin}: ${err.message}`)));
  });

  /**
   * Send `signal` and wait for the exit. A server that has not exited `graceMs` after SIGTERM is
   * SIGKILLed; the result then has `forced: true` (and the output says so).
   */
  const stop = async (signal = 'SIGTERM', { graceMs = 10_000 } = {}) => {
    if (!exited) {
      try {
        proc.kill(signal);
      } catch {
        /* already gone */
      }
    }
    if (signal === 'SIGKILL') return await exitPromise;
    let timer;
    const forced = await Promise.race([
      exitPromise.then(() => false),
      new Promise((resolve) => {
        timer = setTimeout(() => resolve(true), graceMs);
      }),
    ]);
    clearTimeout(timer);
    if (!forced) return await exitPromise;
    allOutput.push(`=== server pid ${proc.pid} still running ${graceMs} ms after ${signal}: SIGKILL\n`);
    proc.kill('SIGKILL');
    return { ...(await exitPromise), forced: true };
  };
  const kill = () => stop('SIGKILL');

  // Wait for the "listening" line on stdout.
  const listening = new Promise((resolve, reject) => {
    let buf = '';
    const onData = (chunk) => {
      buf += chunk.toString('utf8');
      const m = buf.match(/danvan-server listening on (http:\/\/(\S+))/);
      if (m) {
        proc.stdout.off('data', onData);
        resolve({ url: m[1], addr: m[2] });
      }
    };
    proc.stdout.on('data', onData);
    exitPromise.then((e) =>
      reject(new Error(`server exited before listening (code=${e.code} signal=${e.signal})\n${own}`)),
    );
  });
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`server did not print its listening line within ${timeoutMs} ms\n${own}`)),
      timeoutMs,
    );
  });

  let found;
  try {
    found = await Promise.race([listening, timeout, spawnError]);
  } catch (err) {
    await kill().catch(() => {});
    throw err;
  } finally {
    clearTimeout(timer);
  }
  const realPort = Number(new URL(found.url).port);
  allOutput.push(`=== server pid ${proc.pid} listening after ${Date.now() - started} ms\n`);

  return {
    url: found.url.replace(/\/$/, ''),
    addr: found.addr,
    port: realPort,
    dataDir,
    proc,
    output: () => own,
    exited: () => exited,
    stop,
    kill,
  };
}

/** POST /api/login; returns the JSON body (throws with the body on a non-200 answer). */
export async function login(url, username, password = DEMO_PASSWORD) {
  const res = await fetch(`${url}/api/login`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ username, password }),
  });
  const text = await res.text();
  if (res.status !== 200) {
    throw new Error(`login ${username} failed: HTTP ${res.status} ${text}`);
  }
  return JSON.parse(text);
}

/** GET an /api route with a bearer token; returns the parsed JSON (throws on non-200). */
export async function apiGet(url, route, token) {
  const res = await fetch(`${url}${route}`, {
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`GET ${route}: HTTP ${res.status} ${text}`);
  return JSON.parse(text);
}

/** Poll `fn` until it returns a truthy value (returned) or the time runs out (throws with `what`). */
export async function waitFor(fn, { timeoutMs = 10_000, intervalMs = 200, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let lastErr;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      lastErr = err;
    }
    if (Date.now() >= deadline) {
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${lastErr ? `: ${lastErr.message}` : ''}`);
    }
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
