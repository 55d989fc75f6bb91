/**
 * Layer networks (conv2d, pooling, batch norm, flatten, activation, dense) trained on every
 * backend against float64 PyTorch reference runs: test/fixtures/layers-reference.json, written
 * by scripts/fixtures/make_layers_reference.py with docs/layers.md's semantics (NHWC,
 * TensorFlow 'same' padding, biased batch-norm variance, Keras moving statistics) and
 * ferronet's training step, SGD and Adam over several minibatches, no shuffling.
 *
 * Tolerances. The issue asks for the reference reproduced to 2e-4: losses and predictions
 * within 2e-4 * max(1, |expected|). Weights (every buffer, moving statistics included) within
 * 2e-4 * max(|expected|, 0.05): the weights are O(0.1-1), and the same runs redone in float32
 * by the generator drift from float64 by at most 4e-7 absolute and 5e-6 in this measure (each
 * case's `float32Drift`), and the three backends land within 4e-6 (losses and predictions
 * within 2e-6), so the bound leaves a margin of 50x for a backend's own float32 summation
 * orders while still catching any semantic slip: the larger half of 'same' padding before, a
 * window-size divisor in average pooling, zero padding in max pooling, an unbiased or
 * PyTorch-momentum moving variance, or flattening channels first each move some case by
 * 0.1 or more in these measures (500x the tolerance).
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Network, Trainer, type BackendName, type LayerWeights, type NetworkOptions } from '../../ts/index.js';
import { expectClose } from '../helpers.js';

/** A getWeights() entry as the fixture stores it: buffer name to flat row-major numbers. */
type Entry = Record<string, number[]>;

interface ReferenceCase {
  name: string;
  description: string;
  inputShape: number[];
  layers: unknown[];
  loss: 'meanSquaredError' | 'binaryCrossEntropy' | 'categoricalCrossEntropy';
  optimizer: { name: 'sgd'; learningRate: number } | { name: 'adam'; learningRate: number; beta1: number; beta2: number; epsilon: number };
  batchSize: number;
  epochs: number;
  samples: number;
  x: number[];
  y: number[];
  initialWeights: Entry[];
  initialPredict: number[];
  batchLoss: number[];
  epochLoss: number[];
  finalWeights: Entry[];
  predict: number[];
  float32Drift: { epochLoss: number; weights: number; predict: number };
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/layers-reference.json', import.meta.url), 'utf8')) as {
  cases: ReferenceCase[];
};

const TOLERANCE = 2e-4;
/** Below this magnitude a weight is compared absolutely (2e-4 * 0.05 = 1e-5). */
const WEIGHT_FLOOR = 0.05;
const BACKENDS = ['ts', 'wasm', 'native'] as const satisfies readonly BackendName[];

function expectLoss(got: number | undefined, expected: number, what: string): void {
  expect(got, what).toBeTypeOf('number');
  const error = Math.abs((got as number) - expected);
  expect(error, `${what}: got ${got}, expected ${expected}`).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(expected)));
}

/** The fixture's entries as setWeights() takes them: every buffer a Float32Array, `{}` for layers without parameters. */
function toWeights(entries: Entry[]): LayerWeights[] {
  return entries.map((entry) => Object.fromEntries(Object.entries(entry).map(([name, values]) => [name, Float32Array.from(values)])));
}

/** A network with the case's layers and its initial weights. */
async function build(backend: BackendName, c: ReferenceCase): Promise<Network> {
  const options = { inputShape: c.inputShape, layers: c.layers, backend } as unknown as NetworkOptions;
  const net = await Network.create(options);
  net.setWeights(toWeights(c.initialWeights));
  return net;
}

function trainer(net: Network, c: ReferenceCase): Trainer {
  return new Trainer(net, { loss: c.loss, optimizer: c.optimizer, batchSize: c.batchSize, shuffle: false });
}

/** Compares every buffer of every layer, by name, and names the one that differs. */
function expectWeights(net: Network, expected: Entry[]): void {
  const got = net.getWeights() as unknown as Record<string, Float32Array>[];
  expect(got.length, 'getWeights(): one entry per layer').toBe(expected.length);
  expected.forEach((entry, l) => {
    const layer = got[l] as Record<string, Float32Array>;
    expect(Object.keys(layer).sort(), `layer ${l}: buffers`).toEqual(Object.keys(entry).sort());
    for (const [name, values] of Object.entries(entry)) {
      try {
        expectClose(layer[name] as Float32Array, values, TOLERANCE, WEIGHT_FLOOR);
      } catch (error) {
        throw new Error(`layer ${l} ${name}: ${(error as Error).message}`);
      }
    }
  });
}

function expectOutputs(got: Float32Array, expected: number[], what: string): void {
  try {
    expectClose(got, expected, TOLERANCE, 1);
  } catch (error) {
    throw new Error(`${what}: ${(error as Error).message}`);
  }
}

describe('the reference fixture', () => {
  it.each(fixture.cases.map((c) => [c.name, c] as const))('%s is self-consistent', (_, c) => {
    const batches = Math.ceil(c.samples / c.batchSize);
    expect(c.batchLoss).toHaveLength(batches * c.epochs);
    expect(c.epochLoss).toHaveLength(c.epochs);
    // The epoch loss is the row-weighted mean of its batch losses, as the Trainer computes it.
    c.epochLoss.forEach((loss, epoch) => {
      let sum = 0;
      for (let b = 0; b < batches; b++) {
        const rows = Math.min(c.batchSize, c.samples - b * c.batchSize);
        sum += (c.batchLoss[epoch * batches + b] as number) * rows;
      }
      expect(sum / c.samples).toBeCloseTo(loss, 12);
    });
    // Float32 arithmetic alone stays far inside the tolerances (see the header).
    expect(c.float32Drift.epochLoss).toBeLessThan(TOLERANCE / 20);
    expect(c.float32Drift.weights).toBeLessThan(TOLERANCE / 20);
    expect(c.float32Drift.predict).toBeLessThan(TOLERANCE / 20);
  });
});

describe.each(BACKENDS)('%s backend', (backend) => {
  describe.each(fixture.cases.map((c) => [c.name, c] as const))('%s', (_, c) => {
    const x = Float32Array.from(c.x);
    const y = Float32Array.from(c.y);

    it('predicts like the reference before training (inference mode)', async () => {
      const net = await build(backend, c);
      expectOutputs(net.predict(x), c.initialPredict, 'predict before training');
      net.dispose();
    });

    it('trains like the reference: epoch losses, every final buffer, predictions', async () => {
      const net = await build(backend, c);
      const history = await trainer(net, c).fit(x, y, { epochs: c.epochs });
      expect(history.loss).toHaveLength(c.epochs);
      c.epochLoss.forEach((loss, epoch) => expectLoss(history.loss[epoch], loss, `epoch ${epoch} loss`));
      expectWeights(net, c.finalWeights);
      expectOutputs(net.predict(x), c.predict, 'predict after training');
      net.dispose();
    });

    // One fit per batch (fitting again continues with the same optimizer state) gives every
    // batch's loss, which says where a run first departs. Needs equal batches: a fit's batch
    // size may not exceed its samples.
    it.runIf(c.samples % c.batchSize === 0)('matches the loss of every batch', async () => {
      const net = await build(backend, c);
      const fitter = trainer(net, c);
      const [inputs, outputs] = [x.length / c.samples, y.length / c.samples];
      const batches = c.samples / c.batchSize;
      for (let step = 0; step < c.batchLoss.length; step++) {
        const start = (step % batches) * c.batchSize;
        const end = start + c.batchSize;
        const history = await fitter.fit(x.slice(start * inputs, end * inputs), y.slice(start * outputs, end * outputs));
        expectLoss(history.loss[0], c.batchLoss[step] as number, `batch ${step} (epoch ${Math.floor(step / batches)}) loss`);
      }
      expectWeights(net, c.finalWeights);
      net.dispose();
    });
  });
});
