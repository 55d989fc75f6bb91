/**
 * The demo page (web/demo.html; test/browser/playground.test.ts drives the playground, web/index.html),
 * built with Vite and driven in Debian's Chromium: it trains on the wasm
 * backend in the page and in a Web Worker, redraws as it goes, agrees with the ts backend in
 * Node, trains a small CNN in the page and in a worker through its test hook, and logs nothing
 * to the console. Leaves test-results/browser-demo.png behind.
 */

import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { build } from 'vite';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Network, planarDataset, Random, Trainer } from '../../ts/index.js';
import { CNN_EPOCHS, trainCnn, type CnnOutcome } from '../../web/cnn.js';
import { trainParityRun } from '../../web/parity.js';
import { expectClose } from '../helpers.js';
import { CHROMIUM, CHROMIUM_FLAGS, CHROMIUM_MISSING } from './chromium.js';
import { serveDirectory, type StaticServer } from './static-server.js';

const ROOT = join(import.meta.dirname, '../..');
const SCREENSHOT = join(ROOT, 'test-results/browser-demo.png');

let scratch: string;
let server: StaticServer;
let context: BrowserContext;
let page: Page;
const consoleProblems: string[] = [];

beforeAll(async () => {
  if (CHROMIUM_MISSING !== null) throw new Error(CHROMIUM_MISSING);
  scratch = await mkdtemp(join(tmpdir(), 'ferronet-browser-'));
  const site = join(scratch, 'site');
  await build({ configFile: join(ROOT, 'web/vite.config.ts'), logLevel: 'warn', build: { outDir: site } });
  server = await serveDirectory(site);
  // A fresh profile per run: nothing cached from an earlier build.
  context = await chromium.launchPersistentContext(join(scratch, 'profile'), {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1100, height: 640 },
  });
  page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') consoleProblems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => consoleProblems.push(`uncaught: ${error.message}`));
  // Count streaming compilations: the proof that the server's application/wasm was enough.
  await page.addInitScript(() => {
    const instantiateStreaming = WebAssembly.instantiateStreaming.bind(WebAssembly);
    const counted = globalThis as { streamingCompilations?: number };
    counted.streamingCompilations = 0;
    WebAssembly.instantiateStreaming = (source, imports) => {
      counted.streamingCompilations = (counted.streamingCompilations ?? 0) + 1;
      return instantiateStreaming(source, imports);
    };
  });
  await page.goto(`${server.url}demo.html`);
  await page.waitForSelector('#status[data-state="idle"]', { timeout: 30_000 });
}, 120_000);

afterAll(async () => {
  await context.close();
  await server.close();
  await rm(scratch, { recursive: true, force: true });
});

/** What the page shows after a run. */
interface Shown {
  accuracy: number;
  backend: string;
  samplesPerSec: string;
  elapsed: string;
  seconds: number;
  framesPerSecond: number;
  longestFrame: number;
}

/** Sets the form, presses Train and waits for the run to end; returns what the page shows. */
async function trainInPage(settings: { inWorker: boolean }): Promise<Shown> {
  await page.selectOption('select[name="dataset"]', 'planar');
  await page.fill('input[name="hiddenUnits"]', '8');
  await page.selectOption('select[name="activation"]', 'tanh');
  await page.fill('input[name="learningRate"]', '0.02');
  await page.fill('input[name="batchSize"]', '32');
  await page.fill('input[name="epochs"]', '2000');
  await page.setChecked('input[name="inWorker"]', settings.inWorker);
  await page.click('#train');
  await page.waitForSelector('#status[data-state="done"], #status[data-state="failed"]', { timeout: 60_000 });
  expect(await page.textContent('#status')).toBe('trained 2000 epochs');
  const text = async (selector: string): Promise<string> => (await page.textContent(selector)) ?? '';
  const value = async (selector: string): Promise<number> => Number(await page.getAttribute(selector, 'data-value'));
  return {
    accuracy: await value('#accuracy'),
    backend: await text('#backend'),
    samplesPerSec: await text('#samplesPerSec'),
    elapsed: await text('#elapsed'),
    seconds: Number.parseFloat(await text('#elapsed')),
    framesPerSecond: await value('#framesPerSecond'),
    longestFrame: await value('#longestFrame'),
  };
}

it('fetches the module as application/wasm and compiles it while it streams', async () => {
  const wasm = server.served.filter((response) => response.path.endsWith('.wasm'));
  expect(wasm.length).toBeGreaterThan(0);
  expect(wasm.every((response) => response.status === 200 && response.contentType === 'application/wasm')).toBe(true);
  expect(await page.evaluate(() => (globalThis as { streamingCompilations?: number }).streamingCompilations)).toBe(1);
  expect(await page.textContent('#backend')).toBe('wasm');
});

it('trains the planar set past 88% on wasm in the page, redrawing without freezing it', async () => {
  const canvas = (): Promise<string> => page.evaluate(() => (document.getElementById('boundary') as HTMLCanvasElement).toDataURL());
  const before = await canvas();
  const shown = await trainInPage({ inWorker: false });
  console.log('page:', shown);
  expect(shown.backend).toBe('wasm');
  expect(shown.accuracy).toBeGreaterThanOrEqual(0.88);
  expect(await canvas()).not.toBe(before);
  // fit() hands the thread back about every 20 ms. A frozen page would paint no frame until
  // the end: its longest time without a frame would be the whole run. The bound is relative,
  // as a busy machine slows painting and training alike.
  expect(shown.longestFrame).toBeLessThan((1000 * shown.seconds) / 4);
  await mkdir(join(ROOT, 'test-results'), { recursive: true });
  await page.screenshot({ path: SCREENSHOT, fullPage: true });
});

it('trains the planar set past 88% on wasm in a Web Worker', async () => {
  const shown = await trainInPage({ inWorker: true });
  console.log('worker:', shown);
  expect(shown.backend).toBe('wasm (in the worker)');
  expect(shown.accuracy).toBeGreaterThanOrEqual(0.88);
});

it("shows the worker's RangeError for a bad setting, naming it", async () => {
  await page.setChecked('input[name="inWorker"]', true);
  await page.fill('input[name="batchSize"]', '1000');
  await page.click('#train');
  await page.waitForSelector('#status[data-state="failed"]', { timeout: 30_000 });
  expect(await page.textContent('#status')).toBe('batchSize: expected at most the number of samples (400), got 1000');
});

it('matches the ts backend in Node within 1e-4 after 100 steps', async () => {
  const inPage = await page.evaluate(() => (window.ferronetDemo as NonNullable<Window['ferronetDemo']>).trainParityRun());
  const inNode = await trainParityRun({ Network, Trainer, planarDataset }, 'ts');
  expect(inPage.length).toBe(inNode.length);
  let largestDifference = 0;
  inNode.forEach((expected, index) => {
    const got = inPage[index] as number[];
    expectClose(got, expected, 1e-4, 1e-2);
    expected.forEach((value, i) => {
      largestDifference = Math.max(largestDifference, Math.abs((got[i] as number) - value));
    });
  });
  console.log(`parity: largest |wasm in Chromium - ts in Node| = ${largestDifference.toExponential(2)}`);
});

/** Trains web/cnn.ts's CNN in the page, on its own thread or in the demo's worker, and checks that it learned. */
async function trainCnnInPage(where: 'page' | 'worker'): Promise<CnnOutcome> {
  const run = await page.evaluate((place) => (window.ferronetDemo as NonNullable<Window['ferronetDemo']>).trainCnn(place), where);
  console.log(`cnn in the ${where}: ${run.backend}, loss ${run.loss[0]?.toFixed(4)} -> ${run.loss.at(-1)?.toFixed(4)}, held-out accuracy ${run.accuracy}`);
  expect(run.backend).toBe('wasm');
  expect(run.loss).toHaveLength(CNN_EPOCHS);
  expect(run.loss.every(Number.isFinite)).toBe(true);
  expect(run.loss.at(-1)).toBeLessThan((run.loss[0] as number) / 2);
  // Chance is 0.5; a dense network with a hidden layer reaches about 0.8 (web/cnn.ts).
  expect(run.accuracy).toBeGreaterThanOrEqual(0.9);
  return run;
}

it('trains a small CNN past 90% on held-out images on wasm in the page', async () => {
  await trainCnnInPage('page');
});

it('trains the same CNN in a Web Worker, to the very weights the page got', async () => {
  const [inPage, inWorker] = [await trainCnnInPage('page'), await trainCnnInPage('worker')];
  // The same wasm module from the same seeds: bit-identical, whichever thread ran it.
  expect(inWorker.weights).toEqual(inPage.weights);
  expect(inWorker.loss).toEqual(inPage.loss);
});

it("matches the ts backend's CNN in Node within 1e-4 after the same run", async () => {
  const inPage = await trainCnnInPage('page');
  const inNode = await trainCnn({ Network, Trainer, Random }, 'ts');
  expect(inPage.weights.length).toBe(inNode.weights.length);
  inNode.weights.forEach((expected, index) => {
    expectClose(inPage.weights[index] as number[], expected, 1e-4, 1e-2);
  });
  expect(inPage.accuracy).toBe(inNode.accuracy);
});

it('logged no errors or warnings to the console', () => {
  expect(consoleProblems).toEqual([]);
});
