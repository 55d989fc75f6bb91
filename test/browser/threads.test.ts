/**
 * The wasm backend's threads in Chromium, on a page built with Vite as a user's would be: a
 * cross-origin isolated page's Worker trains on the threaded module with as many threads as
 * the browser offers, bit-identically to a Worker on a page without isolation, which gets the
 * single-threaded module and the headers that would change that. A page's main thread gets one
 * thread either way, since it may not block. Without Chromium the tests are skipped, saying why.
 */

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BackendStatus } from '../../ts/index.js';
import type { WorkerResult } from './threads/worker.js';
import { buildPage } from './build-page.js';
import { CHROMIUM, CHROMIUM_FLAGS, CHROMIUM_MISSING } from './chromium.js';
import { CROSS_ORIGIN_ISOLATION, serveDirectory } from './static-server.js';

const NOT_ISOLATED =
  'shared memory needs a cross-origin isolated page: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp';
const MAIN_THREAD = "a page's main thread may not block (Atomics.wait), which the threads' hand-offs need: train in a Web Worker (trainInWorker) to use threads";

if (CHROMIUM_MISSING !== null) {
  it.skip(`wasm threads in Chromium: skipped, ${CHROMIUM_MISSING}`, () => undefined);
}

describe.skipIf(CHROMIUM_MISSING !== null)('wasm threads in Chromium', () => {
  let scratch: string;
  let browser: Browser;

  /** The page's and its worker's results, served with `headers`. */
  async function visit(headers: Record<string, string>): Promise<{ page: BackendStatus | undefined; worker: WorkerResult; threads: number }> {
    const server = await serveDirectory(join(scratch, 'site'), headers);
    const page = await browser.newPage();
    try {
      await page.goto(server.url);
      await page.waitForFunction(() => window.threadsResult !== undefined, null, { timeout: 60_000 });
      const result = await page.evaluate(() => window.threadsResult);
      if (result === undefined || 'error' in result) throw new Error(`the page failed: ${result?.error ?? 'no result'}`);
      return { ...result, threads: await page.evaluate(() => navigator.hardwareConcurrency) };
    } finally {
      await page.close();
      await server.close();
    }
  }

  beforeAll(async () => {
    scratch = await mkdtemp(join(tmpdir(), 'ferronet-threads-'));
    await buildPage('test/browser/threads', join(scratch, 'site'));
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_FLAGS });
  }, 60_000);

  afterAll(async () => {
    await browser.close();
    await rm(scratch, { recursive: true, force: true });
  });

  it('trains on threads in a worker of an isolated page, bit-identically to one thread elsewhere', async () => {
    const isolated = await visit(CROSS_ORIGIN_ISOLATION);
    const plain = await visit({});
    expect(isolated.threads).toBeGreaterThan(1);
    // Chromium validates relaxed-simd, so every page and worker gets a relaxed-simd build.
    const instructionSet = 'wasm-relaxed-simd';
    expect(isolated.worker.status).toEqual({ name: 'wasm', available: true, instructionSet, threads: isolated.threads });
    expect(isolated.page).toEqual({ name: 'wasm', available: true, instructionSet, threads: 1, threadsReason: MAIN_THREAD });
    expect(plain.worker.status).toEqual({ name: 'wasm', available: true, instructionSet, threads: 1, threadsReason: NOT_ISOLATED });
    expect(plain.page).toEqual({ name: 'wasm', available: true, instructionSet, threads: 1, threadsReason: NOT_ISOLATED });

    expect(isolated.worker.loss.at(-1)).toBeLessThan(isolated.worker.loss[0] as number);
    expect(isolated.worker.loss).toEqual(plain.worker.loss);
    expect(isolated.worker.parameters.every(Number.isFinite)).toBe(true);
    expect(isolated.worker.parameters).toEqual(plain.worker.parameters);
  }, 120_000);
});
