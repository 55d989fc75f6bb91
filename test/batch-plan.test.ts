/** The batch plan visits the same batches in the same order however a fit is cut into calls. */

import { describe, expect, it } from 'vitest';
import { Network, planarDataset, Random, Trainer } from '../ts/index.js';
import { BatchPlan } from '../ts/batch-plan.js';

/** Every batch of a fit as the list of its sample rows, planning calls of `budget` batches. */
function batches(samples: number, batchSize: number, epochs: number, budget: (call: number) => number, acrossEpochs: boolean, seed: number | null): number[][] {
  const plan = new BatchPlan(samples, batchSize, epochs, seed === null ? null : new Random(seed));
  const out: number[][] = [];
  for (let call = 0; !plan.done; call++) {
    const { indices, ends, epoch, batch } = plan.next(budget(call), acrossEpochs);
    expect(epoch * plan.batchesPerEpoch + batch).toBe(out.length);
    let start = 0;
    for (const end of ends) {
      out.push(Array.from(indices.subarray(start, end)));
      start = end;
    }
    expect(start).toBe(indices.length);
  }
  return out;
}

describe('BatchPlan', () => {
  it('cuts each epoch into batches of batchSize, the last smaller, in order without shuffling', () => {
    const all = batches(7, 3, 2, () => 100, true, null);
    expect(all).toEqual([[0, 1, 2], [3, 4, 5], [6], [0, 1, 2], [3, 4, 5], [6]]);
  });

  it('gives the same batches whatever the call sizes and whether calls span epochs', () => {
    // Unshuffled, calls spanning epochs keep the in-order epochs a smaller call left in the
    // buffer, and rewrite those a grown buffer lacks.
    for (const seed of [5, null]) {
      const reference = batches(23, 4, 9, () => 1, false, seed);
      expect(reference).toHaveLength(6 * 9);
      for (const across of [false, true]) {
        expect(batches(23, 4, 9, (call) => [3, 17, 1, 40, 6][call % 5] as number, across, seed)).toEqual(reference);
        expect(batches(23, 4, 9, (call) => [12, 30, 6, 54][call % 4] as number, across, seed)).toEqual(reference);
        expect(batches(23, 4, 9, () => 1000, across, seed)).toEqual(reference);
      }
    }
  });

  it('shuffles every epoch into a permutation of the samples', () => {
    const all = batches(10, 10, 3, () => 1, false, 1);
    for (const epoch of all) expect([...epoch].sort((a, b) => a - b)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    expect(all[1]).not.toEqual(all[0]);
  });
});

describe('Trainer', () => {
  it('trains identically whether epochs are grouped into calls or not', async () => {
    const { x, y } = planarDataset();
    const run = async (observe: boolean): Promise<unknown[]> => {
      const net = await Network.create({ inputSize: 2, layers: [{ units: 6, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], seed: 4 });
      // onEpochEnd makes every call stop at an epoch's end; without it calls span epochs.
      const options = observe ? { epochs: 300, onEpochEnd: () => undefined } : { epochs: 300 };
      const history = await new Trainer(net, { optimizer: { name: 'sgd', learningRate: 0.5 }, batchSize: 100 }).fit(x, y, options);
      const result = [history.loss, history.accuracy, net.getWeights()];
      net.dispose();
      return result;
    };
    expect(await run(false)).toEqual(await run(true));
  });
});
