/**
 * Long runs and many networks keep memory bounded: resident memory for the process, and the
 * WebAssembly module's linear memory, measured after a forced garbage collection.
 */

import { getHeapSpaceStatistics } from 'node:v8';
import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../ts/backends/backend.js';
// Node's wasm backend is the threaded module (test/backends/wasm-threads.test.ts).
import init from '../../ts/backends/wasm/generated/ferronet_wasm_threads.js';
import { loadBackend, Network, planarDataset, Random, Trainer, type BackendName } from '../../ts/index.js';
import { COMPILED_BACKENDS } from '../helpers.js';

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
  /** Resident memory, less the young generation's capacity (see below). */
  rss: number;
  /** What the JS heap holds after a collection. */
  heapUsed: number;
  wasm: number;
}

/**
 * The young generation's capacity. V8 doubles it (16 to 32 MiB here) when allocation outpaces
 * collection, as it does on a loaded machine; that is a sizing choice, not something retained,
 * and since every young-generation page is written to between collections it is all resident.
 */
function youngGenerationBytes(): number {
  return getHeapSpaceStatistics().find((space) => space.space_name === 'new_space')?.space_size ?? 0;
}

async function usage(): Promise<Usage> {
  await collect();
  // The wasm size first: its first call loads the module, whose pool's workers count in rss.
  const wasm = await wasmMemoryBytes();
  const { rss, heapUsed } = process.memoryUsage();
  return { rss: rss - youngGenerationBytes(), heapUsed, wasm };
}

/**
 * How far the wasm module's memory may grow without a leak. The trainer sizes each call by
 * how long the last one took, so a loaded machine can meet a call larger than any before it
 * and the memory grows to hold its arrays: at most 2 MiB (ts/batch-plan.ts: 2^18 indices and
 * 2^16 batch ends, losses and counts), doubled for the allocator's fragmentation. A leak of
 * 50 bytes a step, or of 500 bytes a call below, still fails.
 */
const WASM_CALL_SLACK = 4 * MiB;

function expectBounded(before: Usage, after: Usage, rssSlack: number): void {
  expect(after.rss - before.rss, 'resident memory growth').toBeLessThan(rssSlack);
  expect(after.heapUsed - before.heapUsed, 'JS heap growth').toBeLessThan(4 * MiB);
  expect(after.wasm - before.wasm, 'wasm linear memory growth').toBeLessThanOrEqual(WASM_CALL_SLACK);
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
    // The first 10,000 steps settle the heap and the allocators, which otherwise still grow
    // resident memory by a few MB on a busy machine; a leak of 200 bytes a step still fails.
    await trainer.fit(x, y, { epochs: 100 });
    const before = await usage();
    const history = await trainer.fit(x, y, { epochs: 900 });
    const after = await usage();
    expect(history.epochs * 100 + 10_000).toBe(100_000);
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

// The ts backend has no boundary to cross.
describe.each(COMPILED_BACKENDS)('%s backend', (backend) => {
  it('runs 3,000 short fits, predicts and evaluates (over 9,000 calls into Rust) in bounded memory', async () => {
    // 64 rows of 64 features: each call hands over 16 KB of inputs (copied into module memory
    // on wasm), so a copy kept per call would grow memory by 144 MB; anything over 2 KB kept
    // per call (an output buffer, a scratch block, a handle's backing store) passes the bound.
    const random = new Random(6);
    const inputs = Float32Array.from({ length: 64 * 64 }, () => random.uniform());
    const labels = Uint8Array.from({ length: 64 }, () => random.below(4));
    const net = await Network.create({ inputSize: 64, layers: [{ units: 16, activation: 'relu' }, { units: 4, activation: 'softmax' }], backend });
    const trainer = new Trainer(net, { optimizer: 'adam', batchSize: 32 });
    const round = async (): Promise<void> => {
      await trainer.fit(inputs, labels);
      net.predict(inputs);
      net.evaluate(inputs, labels);
    };
    // The first thousand rounds settle the heap and the allocators (resident memory grows by
    // about 20 MB in them, then stays flat).
    for (let i = 0; i < 1000; i++) await round();
    const before = await usage();
    for (let i = 0; i < 3000; i++) await round();
    expectBounded(before, await usage(), 16 * MiB);
    net.dispose();
  });
});
