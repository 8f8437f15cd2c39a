// Office first-screen benchmark (issue 10): the aggregating level's desk at 1366×900 in headless
// Chromium, the CPU slowed with CDP `Emulation.setCPUThrottlingRate`, against a server whose read
// model holds the generated province (150 communes × 2,000 notes, 8 quarters) on top of the demo
// org, plan and accounts.
//
//   1. a demo server is started once on a fresh data folder (demo org, plan, accounts) and stopped;
//   2. `bench_office --into` adds the generated communes and their note rows to its database;
//   3. the server is started on that folder; `huyen` (the demo viewer) signs in once, then the
//      office is reloaded N times with the CPU throttled and timed, on the page's own clock, to
//      (a) the period summary listing every commune and (b) the matrix drawn with every commune,
//      then a click on the notes tab answered (interactive).
//
//   DANVAN_SERVER_BIN=../target/debug/danvan-server DANVAN_DIST=../target/dist \
//   CHROMIUM=/usr/bin/chromium node bench-office.mjs --bench-bin ../target/release/examples/bench_office \
//     [--runs 5] [--rate 4] [--communes 150] [--notes 2000]
//
// (`cargo xtask bench-office --browser` builds everything and runs this.)

import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { CHROMIUM_ARGS, chromiumPath } from './lib/browser.mjs';
import { DESK, loginUi } from './lib/app.mjs';
import { parseOptions } from './lib/args.mjs';
import { printServerOutput, removeDir, startServer, tempDataDir } from './lib/server.mjs';

function parseArgs(argv) {
  const o = parseOptions(
    argv,
    { runs: 5, rate: 4, communes: 150, notes: 2000, benchBin: null },
    'usage: node bench-office.mjs --bench-bin PATH [--runs 5] [--rate 4] [--communes 150] [--notes 2000]',
  );
  if (!o.benchBin) throw new Error('--bench-bin PATH (the bench_office example) is required');
  return o;
}

const log = (m) => console.log(`# ${m}`);

/**
 * Installed before any script of every document: when (page clock, 0 = navigation start)
 *  - `summary`: the period table lists `communes` rows or more;
 *  - `matrix`: the matrix has a column for each of them;
 *  - `interactive`: a click on the notes tab, sent after the next frame, has drawn the notes screen.
 */
const PROBE = (communes) => {
  const res = (window.__bench = { summary: null, matrix: null, clickAt: null, interactive: null });
  const check = () => {
    if (res.summary === null && document.querySelectorAll('[data-testid=period-row]').length >= communes) {
      res.summary = performance.now();
    }
    const head = document.querySelector('table[data-testid=matrix] thead tr');
    if (res.matrix === null && head && head.children.length > communes) res.matrix = performance.now();
    if (res.summary !== null && res.matrix !== null && res.clickAt === null) {
      res.clickAt = performance.now();
      requestAnimationFrame(() =>
        setTimeout(() => {
          document.querySelector('button[data-testid=tab-notes]').click();
        }, 0),
      );
    }
    if (res.clickAt !== null && res.interactive === null && document.querySelector('[data-testid=office-notes]')) {
      res.interactive = performance.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document, { subtree: true, childList: true });
};

const median = (v) => [...v].sort((a, b) => a - b)[Math.floor((v.length - 1) / 2)];

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const dataDir = await tempDataDir('danvan-bench-office-');
  let server = null;
  let browser = null;
  try {
    server = await startServer({ dataDir, demo: true });
    await server.stop();
    log(`demo data in ${dataDir}; adding ${o.communes} communes × ${o.notes} notes`);
    const gen = spawnSync(
      o.benchBin,
      ['--into', path.join(dataDir, 'danvan.sqlite3'), '--parent', 'huyen-demo', '--rows-only', '--runs', '3',
        '--communes', String(o.communes), '--notes', String(o.notes)],
      { encoding: 'utf8', maxBuffer: 1 << 24 },
    );
    if (gen.status !== 0) throw new Error(`bench_office failed: ${gen.stderr}`);
    const generated = JSON.parse(gen.stdout);
    log(`generated ${generated.notes} notes (${generated.notes_in_quarter} this quarter), database ${generated.db_mib.toFixed(0)} MiB`);
    server = await startServer({ dataDir, demo: false, timeoutMs: 60_000 });

    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: CHROMIUM_ARGS });
    const context = await browser.newContext({ ...DESK, locale: 'vi-VN', timezoneId: 'Asia/Ho_Chi_Minh' });
    const expected = o.communes;
    await context.addInitScript(PROBE, expected);
    const page = await context.newPage();
    page.on('pageerror', (err) => log(`pageerror: ${err.message}`));
    await page.goto(server.url);
    await page.waitForSelector('body[data-app-ready]', { state: 'attached', timeout: 30_000 });
    await loginUi(page, 'huyen');
    await page.waitForURL(/\/office\/?/, { timeout: 30_000 });
    await page.waitForFunction(() => window.__bench?.interactive !== null, null, { timeout: 120_000, polling: 200 });
    log('signed in; the desk drew every commune once (not timed)');

    const cdp = await context.newCDPSession(page);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: o.rate });
    const runs = [];
    for (let i = 0; i < o.runs; i++) {
      await page.reload();
      await page.waitForFunction(() => window.__bench?.interactive !== null, null, { timeout: 180_000, polling: 250 });
      const r = await page.evaluate(() => ({
        ...window.__bench,
        // When the summary was asked for and answered, to tell the network from the drawing.
        fetches: performance
          .getEntriesByType('resource')
          .filter((e) => e.name.includes('/api/'))
          .map((e) => `${new URL(e.name).pathname} ${e.startTime.toFixed(0)}→${e.responseEnd.toFixed(0)}`),
      }));
      runs.push(r);
      log(`run ${i + 1}: summary ${r.summary.toFixed(0)} ms, matrix ${r.matrix.toFixed(0)} ms, interactive ${r.interactive.toFixed(0)} ms`);
      if (process.env.BENCH_VERBOSE) log(`  ${r.fetches.join(', ')}`);
    }
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    const out = {
      rate: o.rate,
      communes: expected,
      notes: generated.notes,
      runs: runs.length,
      summary_ms: median(runs.map((r) => r.summary)),
      matrix_ms: median(runs.map((r) => r.matrix)),
      interactive_ms: median(runs.map((r) => r.interactive)),
    };
    console.log(`| CPU | communes | notes | summary shown | matrix shown | interactive |`);
    console.log(`|---|---|---|---|---|---|`);
    console.log(`| ${o.rate}× | ${expected} | ${generated.notes} | ${out.summary_ms.toFixed(0)} ms | ${out.matrix_ms.toFixed(0)} ms | ${out.interactive_ms.toFixed(0)} ms |`);
    console.log(JSON.stringify(out));
  } catch (err) {
    printServerOutput();
    throw err;
  } finally {
    await browser?.close().catch(() => {});
    await server?.stop().catch(() => {});
    await removeDir(dataDir);
  }
}

await main();
