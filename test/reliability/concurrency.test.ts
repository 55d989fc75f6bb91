/**
 * Concurrency: the native addon runs in several worker threads at once with results identical
 * to the main thread's, networks in one thread never share state, and a network refuses a
 * second fit while one runs (tested in bad-input.test.ts and network.test.ts).
 */

import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import * as binding from '../../ts/backends/native/generated/index.js';
import { Network, planarDataset, Trainer, type BackendName } from '../../ts/index.js';
// @ts-expect-error -- a plain .mjs helper shared with the worker threads, typed by its JSDoc
import { trainWithRawModel } from './raw-training.mjs';

const { x, y, samples } = planarDataset();
const initialNetwork = await Network.create({ inputSize: 2, layers: [{ units: 16, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], seed: 9, backend: 'ts' });
const initial = initialNetwork.getWeights().flatMap((layer) => [layer.weights, layer.bias]);

type Train = (Model: unknown, job: object) => Float32Array[];

function inWorker(seedOffset: number): Promise<Float32Array[]> {
  return new Promise((resolve, reject) => {
    const worker = new Worker(new URL('./native-worker.mjs', import.meta.url), { workerData: { x, y, samples, initial, seedOffset } });
    worker.once('message', resolve);
    worker.once('error', reject);
  });
}

it('the native addon trains in four worker threads at once, as on the main thread', async () => {
  const offsets = [0, 1, 2, 3];
  const fromWorkers = await Promise.all(offsets.map(inWorker));
  offsets.forEach((seedOffset, i) => {
    const onMainThread = (trainWithRawModel as Train)(binding.Model, { x, y, samples, initial, seedOffset });
    expect(fromWorkers[i]).toEqual(onMainThread);
  });
  // Different orders give different networks: the comparison above is not vacuous.
  expect(fromWorkers[1]).not.toEqual(fromWorkers[0]);
});

describe.each(['native', 'wasm', 'ts'] as BackendName[])('%s backend', (backend) => {
  it('keeps two interleaved networks in one thread independent', async () => {
    const create = (seed: number): Promise<Network> =>
      Network.create({ inputSize: 2, layers: [{ units: 8, activation: 'relu' }, { units: 1, activation: 'sigmoid' }], seed, backend });
    const [a, b, aAlone, bAlone] = await Promise.all([create(1), create(2), create(1), create(2)]);
    const trainers = [a, b, aAlone, bAlone].map((net) => new Trainer(net, { optimizer: 'momentum', batchSize: 16 }));
    const [ta, tb, taAlone, tbAlone] = trainers as [Trainer, Trainer, Trainer, Trainer];
    // Interleaved: a, b, a, b ... and concurrently in flight.
    for (let round = 0; round < 3; round++) await Promise.all([ta.fit(x, y, { epochs: 2 }), tb.fit(x, y, { epochs: 2 })]);
    await taAlone.fit(x, y, { epochs: 6 });
    await tbAlone.fit(x, y, { epochs: 6 });
    expect(a.getWeights()).toEqual(aAlone.getWeights());
    expect(b.getWeights()).toEqual(bAlone.getWeights());
  });
});
