/**
 * Dropout on the ts backend: the masks it draws (their statistics, their scale, the order of
 * the draws, docs/layers.md "Dropout masks"), and the identity in inference. Every backend
 * must draw the same masks from the same state, so the order is pinned exactly here.
 */

import { describe, expect, it } from 'vitest';
import { loadBackend } from '../../ts/backends/index.js';
import { resolveOptimizer, type OptimizerSettings } from '../../ts/optimizers/index.js';
import { Dropout } from '../../ts/backends/ts/layers/dropout.js';
import { resolveLayers } from '../../ts/layers/index.js';
import type { DropoutLayer } from '../../ts/layers/types.js';
import { Random } from '../../ts/random.js';

/** The mask docs/layers.md prescribes: one draw per element in order, kept when `u >= rate`. */
function handMask(random: Random, length: number, rate: number): boolean[] {
  return Array.from({ length }, () => random.nextUint32() / 4294967296 >= rate);
}

function dropoutLayer(features: number, rate: number): Dropout {
  return new Dropout(resolveLayers([features], [{ type: 'dropout', rate }])[0] as DropoutLayer);
}

/** Inputs that are never 0, so a 0 output means dropped. */
function nonZeroInputs(length: number, random: Random): Float32Array {
  return Float32Array.from({ length }, () => (random.below(2) === 0 ? -1 : 1) * (0.5 + random.uniform()));
}

describe('the dropout layer in training', () => {
  const [rows, features, rate] = [400, 500, 0.3];
  const x = nonZeroInputs(rows * features, new Random(1));
  const random = new Random(2);
  const start = random.state();
  const y = new Float32Array(x.length);
  dropoutLayer(features, rate).forward(x, rows, y, true, random);

  it('keeps a fraction near 1 - rate', () => {
    const kept = y.filter((v) => v !== 0).length / y.length;
    // 200000 draws: the standard deviation of the fraction is 0.001.
    expect(Math.abs(kept - (1 - rate))).toBeLessThan(0.005);
  });

  it('scales kept values by exactly float32(1 / (1 - rate)), once', () => {
    const scale = Math.fround(1 / (1 - rate));
    expect(scale).not.toBe(1 / (1 - rate));
    const misscaled = Array.from(y.keys()).filter((i) => y[i] !== 0 && y[i] !== Math.fround((x[i] as number) * scale));
    expect(misscaled).toEqual([]);
  });

  it('draws one number per element, in row-major order, keeping when u >= rate', () => {
    const replay = new Random(0);
    replay.setState(start);
    const mask = handMask(replay, x.length, rate);
    expect(Array.from(y, (v) => v !== 0)).toEqual(mask);
    expect(Array.from(random.state())).toEqual(Array.from(replay.state()));
  });

  it('draws even at rate 0, so the stream never depends on the rate', () => {
    const generator = new Random(3);
    const replay = new Random(3);
    const out = new Float32Array(10);
    dropoutLayer(10, 0).forward(nonZeroInputs(10, new Random(4)), 1, out, true, generator);
    handMask(replay, 10, 0);
    expect(Array.from(generator.state())).toEqual(Array.from(replay.state()));
    expect(out.every((v) => v !== 0)).toBe(true);
  });
});

describe('dropout in a model', () => {
  it('is the identity in predict and evaluate, which draw nothing', async () => {
    const model = (await loadBackend('ts')).createModel([6], resolveLayers([6], [{ type: 'dropout', rate: 0.5 }]));
    const state = Uint32Array.of(9, 8, 7, 6);
    model.setRandomState(state);
    const x = nonZeroInputs(18, new Random(5));
    expect(model.predict(x, 3)).toEqual(x);
    expect(model.evaluate('meanSquaredError', x, x, 3).loss).toBe(0);
    expect(model.randomState()).toEqual(state);
  });

  it('draws batch by batch, then layer by layer, then element by element', async () => {
    // dropout(0.5) -> dense identity (no bias) -> dropout(0.25): the output of each batch is
    // x * maskA * scaleA * maskB * scaleB, computed exactly, so the recorded losses (learning
    // rate 0: nothing moves) must equal those of the hand-drawn masks bit for bit.
    const [features, samples] = [5, 6];
    const rates = [0.5, 0.25];
    const layers = resolveLayers([features], [{ type: 'dropout', rate: rates[0] }, { units: features, useBias: false }, { type: 'dropout', rate: rates[1] }]);
    const model = (await loadBackend('ts')).createModel([features], layers);
    model.setParameter(0, Float32Array.from({ length: features * features }, (_, i) => (i % (features + 1) === 0 ? 1 : 0)));
    const sgdAtRateZero: OptimizerSettings = { ...resolveOptimizer('sgd'), learningRate: 0 };
    model.configureTraining({ loss: 'meanSquaredError', optimizer: sgdAtRateZero, clipNorm: null });
    const data = new Random(6);
    const x = nonZeroInputs(samples * features, data);
    const targets = nonZeroInputs(samples * features, data);
    const start = new Random(7).state();
    model.setRandomState(start);
    // Shuffled, so the batches are gathered copies: the order of the draws follows the batch, not the data set.
    const indices = Uint32Array.of(4, 1, 5, 0, 3, 2);
    const batchEnds = Uint32Array.of(2, 3, 6);
    const losses = new Float64Array(3);
    model.trainBatches(model.bindData(x, targets, samples), indices, batchEnds, losses, new Uint32Array(3));

    const replay = new Random(0);
    replay.setState(start);
    const scales = rates.map((rate) => Math.fround(1 / (1 - rate)));
    let batchStart = 0;
    const expected = Array.from(batchEnds, (end) => {
      const rowsOfBatch = Array.from(indices.subarray(batchStart, end));
      batchStart = end;
      const n = rowsOfBatch.length * features;
      const masks = rates.map((rate) => handMask(replay, n, rate));
      let sum = 0;
      rowsOfBatch.forEach((row, r) => {
        for (let j = 0; j < features; j++) {
          const e = r * features + j;
          const first = masks[0]?.[e] === true ? Math.fround((x[row * features + j] as number) * (scales[0] as number)) : 0;
          const second = masks[1]?.[e] === true ? Math.fround(first * (scales[1] as number)) : 0;
          const difference = second - (targets[row * features + j] as number);
          sum += difference * difference;
        }
      });
      return sum / n;
    });
    expect(Array.from(losses)).toEqual(expected);
    expect(model.randomState()).toEqual(replay.state());
  });
});
