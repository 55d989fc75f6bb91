/**
 * The wasm builds in Chromium: `npm run bench:browser [-- --json]`. Builds bench/browser/ with
 * Vite, serves it cross-origin isolated, and in Debian's Chromium times the MLP case in a
 * Worker on each of the four builds (simd128 or relaxed-simd, one thread or all the browser
 * offers), in two alternating rounds; prints each build's best samples/s and the ratios within
 * the run. A measurement, not a test: npm test never runs it.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import { buildPage } from '../test/browser/build-page.js';
import { CHROMIUM, CHROMIUM_FLAGS, CHROMIUM_MISSING } from '../test/browser/chromium.js';
import { CROSS_ORIGIN_ISOLATION, serveDirectory } from '../test/browser/static-server.js';
import type { BrowserMeasurement, BrowserRequest } from './browser/worker.js';

if (CHROMIUM_MISSING !== null) throw new Error(CHROMIUM_MISSING);
const json = process.argv.includes('--json');
const scratch = await mkdtemp(join(tmpdir(), 'ferronet-bench-browser-'));
await buildPage('bench/browser', scratch);
const server = await serveDirectory(scratch, CROSS_ORIGIN_ISOLATION);
const browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
try {
  const page = await browser.newPage();
  await page.goto(server.url);
  const threads = await page.evaluate(() => navigator.hardwareConcurrency);
  const requests: BrowserRequest[] = [false, true].flatMap((relaxed) => [1, threads].map((count) => ({ relaxed, threads: count })));
  const best = new Map<string, BrowserMeasurement>();
  const key = ({ relaxed, threads: count }: BrowserRequest): string => `${relaxed ? 'relaxed-simd' : 'simd128'}/${count}`;
  for (let round = 0; round < 2; round++) {
    for (const request of round === 0 ? requests : [...requests].reverse()) {
      const result = await page.evaluate((r) => window.measure(r), request);
      process.stderr.write(`bench:browser: ${key(request)} ${Math.round(result.samplesPerSec)} samples/s (${result.status?.instructionSet ?? '?'}, ${result.status?.threads ?? '?'} threads)\n`);
      const previous = best.get(key(request));
      if (!previous || result.samplesPerSec > previous.samplesPerSec) best.set(key(request), result);
    }
  }
  const version = browser.version();
  if (json) {
    for (const [name, result] of best) process.stdout.write(`${JSON.stringify({ case: 'mlp', backend: `chromium-wasm-${name}`, chromium: version, ...result })}\n`);
  } else {
    const base = best.get('simd128/1')?.samplesPerSec ?? NaN;
    process.stdout.write(`MLP training in a Chromium ${version} Worker (samples/s; vs simd128 on 1 thread)\n\n| build | threads | instruction set | samples/s | vs simd128/1 | loss |\n| --- | --- | --- | --- | --- | --- |\n`);
    for (const [name, result] of best) {
      const cells = [name.split('/')[0], String(result.status?.threads), result.status?.instructionSet, Math.round(result.samplesPerSec).toLocaleString('en'), `${(result.samplesPerSec / base).toFixed(2)}×`, `${result.firstLoss.toFixed(3)} → ${result.lastLoss.toFixed(3)}`];
      process.stdout.write(`| ${cells.join(' | ')} |\n`);
    }
  }
} finally {
  await browser.close();
  await server.close();
  await rm(scratch, { recursive: true, force: true });
}
