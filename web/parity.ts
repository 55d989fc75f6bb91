/**
 * The fixed run whose weights must agree across backends: the page trains it on wasm (its
 * test hook) and test/browser/demo.test.ts compares with ts in Node; test/parity/matrix.test.ts
 * trains it on every backend in Node. 320 planar samples in batches of 32 for 10 epochs: 100
 * Adam steps.
 */

import type * as Ferronet from 'ferronet';

/** What the run needs from ferronet: the browser build in the page, the Node build in the test. */
export type ParityApi = Pick<typeof Ferronet, 'Network' | 'Trainer' | 'planarDataset'>;

/** Trains the fixed run on `backend` and returns each parameter buffer (weights, bias per layer) as plain numbers. */
export async function trainParityRun(ferronet: ParityApi, backend: Ferronet.BackendName): Promise<number[][]> {
  const { x, y } = ferronet.planarDataset();
  const net = await ferronet.Network.create({
    inputSize: 2,
    layers: [
      { units: 16, activation: 'relu' },
      { units: 8, activation: 'tanh' },
      { units: 1, activation: 'sigmoid' },
    ],
    seed: 3,
    backend,
  });
  try {
    const trainer = new ferronet.Trainer(net, { loss: 'binaryCrossEntropy', optimizer: { name: 'adam', learningRate: 0.01 }, batchSize: 32 });
    await trainer.fit(x.subarray(0, 320 * 2), y.subarray(0, 320), { epochs: 10 });
    return net.getWeights().flatMap((layer) => Object.values(layer).map((values) => Array.from(values)));
  } finally {
    net.dispose();
  }
}
