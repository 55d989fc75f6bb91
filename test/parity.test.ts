/** The compiled backends train like the ts reference, and every backend is deterministic. */

import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../ts/backends/backend.js';
import { Network, planarDataset, Trainer, type BackendName, type LayerWeights } from '../ts/index.js';
import { COMPILED_BACKENDS, expectClose } from './helpers.js';

const planar = planarDataset();
// 320 samples in batches of 32: 10 batches per epoch, so 10 epochs are exactly 100 steps.
const x = planar.x.subarray(0, 320 * 2);
const y = planar.y.subarray(0, 320);

async function trainHundredSteps(backend: BackendName): Promise<LayerWeights[]> {
  const net = await Network.create({
    inputSize: 2,
    layers: [
      { units: 16, activation: 'relu' },
      { units: 8, activation: 'tanh' },
      { units: 1, activation: 'sigmoid' },
    ],
    seed: 3,
    backend,
  });
  const trainer = new Trainer(net, { loss: 'binaryCrossEntropy', optimizer: { name: 'adam', learningRate: 0.01 }, batchSize: 32, shuffle: true });
  await trainer.fit(x, y, { epochs: 10 });
  const weights = net.getWeights();
  net.dispose();
  return weights;
}

const reference = await trainHundredSteps('ts');

describe.each(COMPILED_BACKENDS)('%s backend', (backend) => {
  it('matches ts after 100 shuffled adam minibatch steps', async () => {
    const got = await trainHundredSteps(backend);
    got.forEach((layer, l) => {
      const want = reference[l] as LayerWeights;
      expectClose(layer.weights, want.weights, 1e-4, 1e-2);
      expectClose(layer.bias, want.bias, 1e-4, 1e-2);
    });
  });
});

it('starts every backend from the same weights for the same seed', async () => {
  const initial = await Promise.all(
    BACKEND_NAMES.map(async (backend) => {
      const net = await Network.create({ inputSize: 3, layers: [{ units: 5, activation: 'relu' }, { units: 2, activation: 'softmax' }], seed: 42, backend });
      const weights = net.getWeights();
      net.dispose();
      return weights;
    }),
  );
  expect(initial[1]).toEqual(initial[0]);
  expect(initial[2]).toEqual(initial[0]);
});

describe.each(BACKEND_NAMES)('%s backend', (backend) => {
  it('gives bit-identical weights for the same seed, run twice', async () => {
    const [first, second] = [await trainHundredSteps(backend), await trainHundredSteps(backend)];
    expect(second).toEqual(first);
  });
});
