// A throwaway PostgreSQL cluster for a test: `initdb` in a temporary directory, a server on a free
// port of 127.0.0.1, stopped and removed by `stop()`. Debian's binaries (/usr/lib/postgresql/*/bin,
// installed by `cargo xtask test`'s setup); as root, the cluster runs as the `postgres` user,
// since PostgreSQL refuses to run as root. (The Rust tests' twin: server/tests/it/common/pg.rs.)

import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { freePort, removeDir, tempDataDir } from './server.mjs';

function binDir() {
  const root = '/usr/lib/postgresql';
  const dirs = existsSync(root)
    ? readdirSync(root)
        .map((v) => path.join(root, v, 'bin'))
        .filter((b) => existsSync(path.join(b, 'initdb')))
        .sort()
    : [];
  if (!dirs.length) throw new Error('PostgreSQL is not installed (Debian: apt-get install postgresql)');
  return dirs.at(-1);
}

const asRoot = process.getuid?.() === 0;

/** `bin/name args`, as the `postgres` user when we are root. */
function run(bin, name, args) {
  const exe = path.join(bin, name);
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', exe, ...args]] : [exe, args];
  execFileSync(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Start a cluster; `{ url, stop }` (`url` names its `postgres` database, user `danvan`). */
export async function startPostgres() {
  const bin = binDir();
  const dir = await tempDataDir('danvan-pg-');
  if (asRoot) execFileSync('chown', ['-R', 'postgres:postgres', dir]);
  const data = path.join(dir, 'data');
  run(bin, 'initdb', ['-D', data, '-A', 'trust', '-U', 'danvan', '-E', 'UTF8', '--no-sync']);
  const port = await freePort();
  run(bin, 'pg_ctl', [
    '-D', data, '-o', `-p ${port} -c listen_addresses=127.0.0.1 -k ${dir}`,
    '-l', path.join(dir, 'log'), '-w', 'start',
  ]);
  return {
    url: `postgres://danvan@127.0.0.1:${port}/postgres`,
    stop: async () => {
      try {
        run(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
      } finally {
        await removeDir(dir);
      }
    },
  };
}
