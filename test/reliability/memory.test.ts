/**
 * Long runs and many networks keep memory bounded: resident memory for the process, and the
 * WebAssembly module's linear memory, measured after a forced garbage collection.
 */

import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../ts/backends/backend.js';
import init from '../../ts/backends/wasm/generated/ferronet_wasm.js';
import { loadBackend, Network, planarDataset, Trainer, type BackendName } from '../../ts/index.js';

const MiB = 1024 * 1024;
const { x, y } = planarDataset();

/** Runs the collector and lets FinalizationRegistry callbacks (which free wasm and native memory) run. */
async function collect(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    (globalThis as unknown as { gc: () => void }).gc();
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

async function wasmMemoryBytes(): Promise<number> {
  await loadBackend('wasm');
  const exports = await init(); // already instantiated: returns the live exports
  return exports.memory.buffer.byteLength;
}

interface Usage {
  rss: number;
  wasm: number;
}

async function usage(): Promise<Usage> {
  await collect();
  return { rss: process.memoryUsage().rss, wasm: await wasmMemoryBytes() };
}

function expectBounded(before: Usage, after: Usage, rssSlack: number): void {
  expect(after.rss - before.rss, 'resident memory growth').toBeLessThan(rssSlack);
  expect(after.wasm, 'wasm linear memory').toBe(before.wasm);
}

function mediumNetwork(backend: BackendName): Promise<Network> {
  // 784 x 64 weights: 200 KB of parameters (400 KB with their gradients), so leaking 1,000
  // of them would be 400 MB; the bounds below are 8 to 25 times smaller than that signal.
  return Network.create({ inputSize: 784, layers: [{ units: 64, activation: 'relu' }, { units: 10, activation: 'softmax' }], backend });
}

describe.each(BACKEND_NAMES)('%s backend', (backend) => {
  it('runs 100,000 minibatch steps in bounded memory', async () => {
    const net = await Network.create({ inputSize: 2, layers: [{ units: 8, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], backend });
    // Batches of 4 from 400 shuffled samples: 100 gathered batches per epoch.
    const trainer = new Trainer(net, { optimizer: 'adam', batchSize: 4 });
    await trainer.fit(x, y, { epochs: 10 });
    const before = await usage();
    const history = await trainer.fit(x, y, { epochs: 990 });
    const after = await usage();
    expect(history.epochs * 100 + 1000).toBe(100_000);
    expectBounded(before, after, 16 * MiB);
    net.dispose();
  }, 120_000);

  it('creates and disposes 1,000 networks in bounded memory', async () => {
    const warm = await mediumNetwork(backend);
    warm.dispose();
    const before = await usage();
    for (let i = 0; i < 1000; i++) (await mediumNetwork(backend)).dispose();
    // The JS heap keeps some of the pages it grew into between collections.
    expectBounded(before, await usage(), 48 * MiB);
  });

  it('frees networks that were never disposed once they are collected', async () => {
    const before = await usage();
    for (let i = 0; i < 1000; i++) {
      await mediumNetwork(backend);
      if (i % 100 === 99) await collect();
    }
    const after = await usage();
    // Up to a hundred may still be alive between collections (40 MB).
    expect(after.rss - before.rss, 'resident memory growth').toBeLessThan(64 * MiB);
    expect(after.wasm - before.wasm, 'wasm linear memory growth').toBeLessThan(64 * MiB);
  });
});
