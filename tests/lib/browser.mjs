// Headless Chromium through playwright-core (which never downloads a browser): the system's
// Chromium is used, from $CHROMIUM or /usr/bin/chromium (Debian: `apt-get install chromium`).

import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
export const artifactsDir = path.resolve(here, '..', 'artifacts');

export function chromiumPath() {
  return process.env.CHROMIUM || '/usr/bin/chromium';
}

/** Flags for headless Debian Chromium in tests (also used for persistent contexts by bench-field). */
export const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export async function launchChromium(options = {}) {
  return await chromium.launch({
    executablePath: chromiumPath(),
    headless: true,
    args: CHROMIUM_ARGS,
    ...options,
  });
}

/** Per-page console and error lines, printed on failure. */
const pageLogs = new Map();

/** Record a page's console messages, page errors and failed requests under `name`. */
/** Uncaught errors (a Rust panic aborts the wasm as one) seen on any watched page so far. */
export function pageErrors() {
  return [...pageLogs.entries()].flatMap(([name, lines]) =>
    lines.filter((l) => l.includes(' pageerror: ') || l.includes('page crashed')).map((l) => `${name}: ${l}`),
  );
}

export function watchPage(page, name) {
  const lines = [];
  pageLogs.set(name, lines);
  const at = () => new Date().toISOString().slice(11, 23);
  page.on('console', (msg) => lines.push(`${at()} console.${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => lines.push(`${at()} pageerror: ${err.stack || err.message}`));
  page.on('requestfailed', (req) =>
    lines.push(`${at()} requestfailed: ${req.method()} ${req.url()} ${req.failure()?.errorText ?? ''}`),
  );
  page.on('crash', () => lines.push(`${at()} page crashed`));
  return lines;
}

export function printPageLogs() {
  for (const [name, lines] of pageLogs) {
    process.stderr.write(`\n----- browser log: ${name} (${lines.length} lines) -----\n`);
    // The tail is what matters; keep the report readable.
    process.stderr.write(lines.slice(-200).join('\n') + '\n');
  }
}

/** Save a full-page screenshot of each named page into tests/artifacts/; never throws. */
export async function saveScreenshots(pages, prefix = 'failure') {
  await mkdir(artifactsDir, { recursive: true }).catch(() => {});
  const saved = [];
  for (const [name, page] of Object.entries(pages)) {
    if (!page || page.isClosed()) continue;
    const file = path.join(artifactsDir, `${prefix}-${name}.png`);
    try {
      await page.screenshot({ path: file, fullPage: true, timeout: 5_000 });
      saved.push(file);
    } catch (err) {
      process.stderr.write(`screenshot of ${name} failed: ${err.message}\n`);
    }
    try {
      const html = await page.content();
      await writeFile(path.join(artifactsDir, `${prefix}-${name}.html`), html);
    } catch {
      /* page may be gone */
    }
  }
  if (saved.length) process.stderr.write(`screenshots saved: ${saved.join(', ')}\n`);
  return saved;
}
