/** The compiled backends train like the ts reference, and every backend is deterministic. */

import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../ts/backends/backend.js';
import * as ferronet from '../ts/index.js';
import { Network, type BackendName } from '../ts/index.js';
import { trainParityRun } from '../web/parity.js';
import { COMPILED_BACKENDS, expectClose } from './helpers.js';

/**
 * The fixed run the browser test also trains in Chromium: 320 planar samples in shuffled
 * batches of 32 for 10 epochs, exactly 100 Adam steps (web/parity.ts holds its one definition).
 */
function trainHundredSteps(backend: BackendName): Promise<number[][]> {
  return trainParityRun(ferronet, backend);
}

const reference = await trainHundredSteps('ts');

describe.each(COMPILED_BACKENDS)('%s backend', (backend) => {
  it('matches ts after 100 shuffled adam minibatch steps', async () => {
    const got = await trainHundredSteps(backend);
    got.forEach((buffer, i) => {
      expectClose(buffer, reference[i] as number[], 1e-4, 1e-2);
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
