// nginx with the documented site (docs/nginx/danvan.conf) for the tests: the file itself, with
// only its paths, ports, nodes and certificate replaced, run by Debian's nginx with TLS (a
// throwaway self-signed certificate).

import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import https from 'node:https';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { distDir, freePort, repoRoot } from './server.mjs';

export const NGINX = process.env.NGINX || '/usr/sbin/nginx';

/** One request, certificate not checked (the test's own); the body read whole. */
export function request(url, { method = 'GET', headers = {}, body } = {}) {
  const lib = url.startsWith('https:') ? https : http;
  return new Promise((resolve, reject) => {
    const req = lib.request(url, { method, headers, rejectUnauthorized: false }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** `text` with `from` replaced by `to`, which must be there: a changed config fails here, not later. */
function must(text, from, to) {
  assert.ok(text.includes(from), `docs/nginx/danvan.conf no longer contains ${JSON.stringify(from)}`);
  return text.split(from).join(to);
}

async function waitListening(port, timeoutMs = 10_000) {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.destroy();
        resolve(true);
      });
      s.on('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > until) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** nginx with the documented site in front of `nodes` (host:port each), its files in `dir`. */
export async function startNginx(dir, nodes) {
  const [tlsPort, plainPort] = [await freePort(), await freePort()];
  execFileSync('openssl', [
    'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1',
    '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', path.join(dir, 'key.pem'), '-out', path.join(dir, 'cert.pem'),
  ], { stdio: 'ignore' });
  let site = await readFile(path.join(repoRoot, 'docs', 'nginx', 'danvan.conf'), 'utf8');
  site = must(
    site,
    'server 127.0.0.1:8081 max_fails=1 fail_timeout=10s;',
    nodes.map((n) => `server ${n} max_fails=1 fail_timeout=10s;`).join('\n    '),
  );
  site = must(site, 'listen 80;', `listen 127.0.0.1:${plainPort};`);
  site = must(site, 'listen 443 ssl http2;', `listen 127.0.0.1:${tlsPort} ssl http2;`);
  site = must(site, '/etc/letsencrypt/live/danvan.example.vn/fullchain.pem', path.join(dir, 'cert.pem'));
  site = must(site, '/etc/letsencrypt/live/danvan.example.vn/privkey.pem', path.join(dir, 'key.pem'));
  site = must(site, '/srv/danvan/dist', path.resolve(distDir()));
  await writeFile(path.join(dir, 'danvan.conf'), site);
  for (const t of ['body', 'proxy', 'fastcgi', 'uwsgi', 'scgi']) await mkdir(path.join(dir, t));
  // The main file Debian's /etc/nginx/nginx.conf would be: the brotli module (absolute: -p moves
  // relative paths), then the site.
  const main = `
${process.getuid?.() === 0 ? 'user root;' : ''}
pid ${dir}/nginx.pid;
error_log stderr warn;
load_module /usr/lib/nginx/modules/ngx_http_brotli_static_module.so;
events {}
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
  include ${dir}/danvan.conf;
}
`;
  await writeFile(path.join(dir, 'nginx.conf'), main);
  const proc = spawn(NGINX, ['-p', dir, '-c', path.join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'], {
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  const exited = new Promise((resolve) => proc.on('exit', resolve));
  await Promise.race([
    waitListening(tlsPort),
    exited.then((code) => {
      throw new Error(`nginx exited with ${code} (see its output above)`);
    }),
  ]);
  return {
    url: `https://127.0.0.1:${tlsPort}`,
    plainUrl: `http://127.0.0.1:${plainPort}`,
    stop: async () => {
      proc.kill('SIGTERM');
      await exited;
    },
  };
}
