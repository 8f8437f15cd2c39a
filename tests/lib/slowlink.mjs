// A slow network link for benchmarks: a TCP proxy on 127.0.0.1 in front of a server that lets each
// direction's bytes through no faster than its rate and delays them by half the round trip, and
// counts them. Real sockets end to end: the browser's HTTP requests, its service worker and the sync
// WebSocket all pass through it and are slowed alike.

import net from 'node:net';
import { performance } from 'node:perf_hooks';

/**
 * Start the proxy. `downKbps` / `upKbps`: the link's rates (kilobits per second) towards the
 * browser / towards the server; `rttMs`: the round trip. Returns `{ url, stats, reset(), close() }`;
 * `stats.down` / `stats.up` count the bytes passed each way since the last `reset()`.
 */
export async function slowLink(target, { downKbps, upKbps, rttMs }) {
  const to = new URL(target);
  const stats = { down: 0, up: 0, connections: 0 };
  const sockets = new Set();
  const server = net.createServer((client) => {
    stats.connections++;
    const upstream = net.connect(Number(to.port), to.hostname);
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('close', () => sockets.delete(s));
    }
    const close = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', close);
    upstream.on('error', close);
    pace(client, upstream, upKbps, rttMs, (n) => (stats.up += n));
    pace(upstream, client, downKbps, rttMs, (n) => (stats.down += n));
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}/`,
    stats,
    reset() {
      stats.down = 0;
      stats.up = 0;
    },
    async close() {
      for (const s of sockets) s.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Pass `from`'s bytes to `dest` at `kbps`, each chunk leaving when the link is free plus half the
 * round trip. The times only grow, so chunks arrive in order. */
function pace(from, dest, kbps, rttMs, count) {
  let free = 0; // when the link has sent everything queued so far (performance.now() ms)
  const later = (at, f) => setTimeout(f, Math.max(0, at - performance.now()));
  from.on('data', (chunk) => {
    count(chunk.length);
    free = Math.max(performance.now(), free) + (chunk.length * 8) / kbps;
    later(free + rttMs / 2, () => {
      if (!dest.destroyed) dest.write(chunk);
    });
  });
  from.on('end', () => later(free + rttMs / 2, () => dest.end()));
}
