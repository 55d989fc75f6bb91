/**
 * predict and evaluate over more rows than one inference chunk. Every backend runs inference
 * in chunks of min(1024, 2^22 / the widest per-sample buffer) rows (INFERENCE_CHUNK_ROWS and
 * INFERENCE_CHUNK_FLOATS in crates/kernels/src/model.rs and ts/backends/ts/model.ts), so a
 * chunk boundary that dropped, repeated or misplaced rows, or a loss averaged per chunk
 * instead of per row, would show here: each backend's whole-set results are compared with
 * ts and with the same backend's row-by-row results.
 */

import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../ts/backends/backend.js';
import { Network, Random, type BackendName, type LayerConfig } from '../../ts/index.js';
import { COMPILED_BACKENDS, expectClose, uniformArray } from '../helpers.js';

interface ChunkCase {
  name: string;
  inputShape: number[];
  layers: LayerConfig[];
  rows: number;
}

const CASES: ChunkCase[] = [
  // Chunks of 1024 rows: two whole ones and a partial one of 452.
  { name: 'an MLP on 2,500 rows', inputShape: [6], layers: [{ units: 16, activation: 'relu' }, { units: 3, activation: 'softmax' }], rows: 2500 },
  // The convolution's patches (16 x 16 positions x 36 floats = 9,216 per sample) make its
  // chunk 455 rows: two whole ones and a partial one of 90.
  {
    name: 'a CNN on 1,000 rows, past its 455-row chunk',
    inputShape: [16, 16, 4],
    layers: [
      { type: 'conv2d', filters: 2, kernelSize: 3, padding: 'same', activation: 'relu' },
      { type: 'maxPool2d', poolSize: 2 },
      { type: 'flatten' },
      { units: 3, activation: 'softmax' },
    ],
    rows: 1000,
  },
];

interface Inference {
  predictions: Float32Array;
  loss: number;
  accuracy: number;
  /** predict() and evaluate() one row at a time: the predictions joined, the mean loss, the accuracy. */
  rowByRow?: { predictions: Float32Array; loss: number; accuracy: number };
}

function data(c: ChunkCase): { x: Float32Array; y: Uint8Array } {
  const random = new Random(31);
  const inputs = c.inputShape.reduce((product, extent) => product * extent, 1);
  return { x: uniformArray(random, c.rows * inputs), y: Uint8Array.from({ length: c.rows }, () => random.below(3)) };
}

async function infer(c: ChunkCase, backend: BackendName, rowByRow: boolean): Promise<Inference> {
  const net = await Network.create({ inputShape: c.inputShape, layers: c.layers, seed: 2, backend });
  try {
    const { x, y } = data(c);
    const { loss, accuracy } = net.evaluate(x, y);
    const result: Inference = { predictions: net.predict(x), loss, accuracy };
    if (rowByRow) {
      const predictions = new Float32Array(c.rows * net.outputSize);
      let [lossSum, correct] = [0, 0];
      for (let row = 0; row < c.rows; row++) {
        const input = x.subarray(row * net.inputSize, (row + 1) * net.inputSize);
        predictions.set(net.predict(input), row * net.outputSize);
        const one = net.evaluate(input, y.subarray(row, row + 1));
        lossSum += one.loss;
        correct += one.accuracy;
      }
      result.rowByRow = { predictions, loss: lossSum / c.rows, accuracy: correct / c.rows };
    }
    return result;
  } finally {
    net.dispose();
  }
}

describe.each(CASES)('$name', (c) => {
  let reference: Promise<Inference> | undefined;
  const ts = (): Promise<Inference> => (reference ??= infer(c, 'ts', false));

  it.each(COMPILED_BACKENDS)('%s predicts and evaluates like ts', async (backend) => {
    const [expected, got] = [await ts(), await infer(c, backend, false)];
    expectClose(got.predictions, expected.predictions, 1e-5, 1e-3);
    expectClose([got.loss], [expected.loss], 1e-6);
    expect(got.accuracy).toBe(expected.accuracy);
  });

  it.each(BACKEND_NAMES)('%s gives the whole set what it gives each row alone', async (backend) => {
    const got = await infer(c, backend, true);
    const alone = got.rowByRow as NonNullable<Inference['rowByRow']>;
    expectClose(got.predictions, alone.predictions, 1e-5, 1e-3);
    expectClose([got.loss], [alone.loss], 1e-6);
    expect(got.accuracy).toBe(alone.accuracy);
  });
});
