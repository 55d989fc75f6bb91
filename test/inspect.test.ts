/**
 * Inspecting the maths from the API: `net.trace(x)` and `trainer.gradients(x, y)` on every backend.
 *
 * - trace: each layer's pre-activation and activation against a float64 reference written out
 *   here (dense, an activation layer, conv2d with 'same' padding, max pooling, batch norm with
 *   its moving statistics, dropout in inference, flatten), the last activation against predict
 *   bit for bit, and the compiled backends against ts.
 * - gradients: against float64 central differences of the ts backend's training-mode mean loss
 *   over the batch (the dropout generator reset to the trainer's state for every evaluation, so
 *   the mask is fixed; batch norm on the batch's statistics), for relu/linear/leakyRelu/tanh
 *   hidden layers, sigmoid/softmax/linear outputs with each loss, conv2d, both poolings, batch
 *   norm after dense and after conv2d, and dropout; the compiled backends against ts; against a
 *   real SGD step (the same mask, no weight decay, no clipping); and the promise that nothing
 *   changes, bit for bit, checked through the trainer's whole checkpoint and a fit afterwards.
 */

import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../ts/backends/backend.js';
import { Network, Random, Trainer, type BackendName, type LayerConfig, type LayerGradients, type LayerTrace, type LayerWeights, type LossName, type TrainerOptions } from '../ts/index.js';
import { parameterShapes } from '../ts/layers/index.js';
import { internalsOf } from '../ts/network.js';
import { COMPILED_BACKENDS, expectClose, uniformArray } from './helpers.js';

const ROWS = 6;

interface Case {
  name: string;
  inputShape: number[];
  layers: LayerConfig[];
  loss: LossName;
}

/** The networks whose gradients are checked: every layer kind, every output activation x loss kind. */
const CASES: Case[] = [
  {
    name: 'dense relu -> dense softmax, categorical cross-entropy',
    inputShape: [3],
    layers: [{ units: 5, activation: 'relu' }, { units: 3, activation: 'softmax' }],
    loss: 'categoricalCrossEntropy',
  },
  {
    name: 'dense linear -> dense leakyRelu (alpha 0.2) -> dense linear, mean squared error',
    inputShape: [3],
    layers: [{ units: 4, activation: 'linear' }, { units: 4, activation: 'leakyRelu', alpha: 0.2 }, { units: 2, activation: 'linear' }],
    loss: 'meanSquaredError',
  },
  {
    name: 'dense tanh -> batchNorm -> dropout 0.4 -> dense sigmoid, binary cross-entropy',
    inputShape: [3],
    layers: [{ units: 4, activation: 'tanh' }, { type: 'batchNorm' }, { type: 'dropout', rate: 0.4 }, { units: 2, activation: 'sigmoid' }],
    loss: 'binaryCrossEntropy',
  },
  {
    name: "conv2d relu 'same' -> maxPool2d -> flatten -> dense softmax, categorical cross-entropy",
    inputShape: [4, 4, 2],
    layers: [
      { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' },
      { type: 'maxPool2d', poolSize: 2 },
      { type: 'flatten' },
      { units: 3, activation: 'softmax' },
    ],
    loss: 'categoricalCrossEntropy',
  },
  {
    name: 'conv2d without bias -> batchNorm (per channel) -> relu -> avgPool2d -> dropout 0.3 -> flatten -> dense tanh, mean squared error',
    inputShape: [4, 4, 2],
    layers: [
      { type: 'conv2d', filters: 2, kernelSize: 2, padding: 'same', useBias: false },
      { type: 'batchNorm' },
      { type: 'activation', activation: 'relu' },
      { type: 'avgPool2d', poolSize: 2 },
      { type: 'dropout', rate: 0.3 },
      { type: 'flatten' },
      { units: 2, activation: 'tanh' },
    ],
    loss: 'meanSquaredError',
  },
];

/** Every parameter but the initial weights drawn afresh, so biases, gamma, beta and the moving statistics are not their constants. */
function randomize(net: Network, random: Random): void {
  const ranges: Record<string, [number, number]> = { bias: [-0.3, 0.3], gamma: [0.6, 1.4], beta: [-0.3, 0.3], movingMean: [-0.2, 0.2], movingVariance: [0.5, 1.5] };
  net.setWeights(
    net.getWeights().map((entry) =>
      Object.fromEntries(Object.entries(entry).map(([name, values]) => [name, name === 'weights' ? values : uniformArray(random, values.length, ...(ranges[name] as [number, number]))])),
    ),
  );
}

async function build(backend: BackendName, { inputShape, layers }: Case, seed = 4): Promise<Network> {
  const net = await Network.create({ inputShape, layers, seed, backend });
  randomize(net, new Random(seed + 100));
  return net;
}

/** Inputs and targets (one-hot, 0/1 or regression values, as the loss takes) for `rows` samples. */
function data(net: Network, loss: LossName, rows: number, seed: number): { x: Float32Array; y: Float32Array } {
  const random = new Random(seed);
  const x = uniformArray(random, rows * net.inputSize, -1, 1);
  const outputs = net.outputSize;
  const y = new Float32Array(rows * outputs);
  for (let r = 0; r < rows; r++) {
    if (loss === 'categoricalCrossEntropy') y[r * outputs + random.below(outputs)] = 1;
    else for (let o = 0; o < outputs; o++) y[r * outputs + o] = loss === 'binaryCrossEntropy' ? random.below(2) : random.uniform() * 2 - 1;
  }
  return { x, y };
}

/** The dropout generator's state of a fresh trainer with `seed` (docs/layers.md, "Dropout masks"). */
function dropoutState(seed: number): Uint32Array {
  return new Random((seed ^ 0x6a09e667) >>> 0).state();
}

/**
 * Central differences, in float64, of the ts backend's training-mode mean loss on `(x, y)` with
 * the dropout generator at `state` for every evaluation, for every trained parameter: one entry
 * per layer, named as {@link LayerGradients}. The step is the float32 distance actually taken.
 */
function finiteDifferences(net: Network, loss: LossName, x: Float32Array, y: Float32Array, state: Uint32Array, h = 1e-3): Record<string, Float64Array>[] {
  const { model } = internalsOf(net, 'test');
  const rows = x.length / net.inputSize;
  const lossAt = (): number => model.gradients(loss, x, y, rows, state).loss;
  let index = 0;
  return net.layers.map((layer) => {
    const entry: Record<string, Float64Array> = {};
    for (const { name, trainable } of parameterShapes(layer)) {
      const i = index++;
      if (!trainable) continue;
      const values = model.parameter(i);
      const numeric = new Float64Array(values.length);
      for (let j = 0; j < values.length; j++) {
        const original = values[j] as number;
        const [up, down] = [Math.fround(original + h), Math.fround(original - h)];
        values[j] = up;
        model.setParameter(i, values);
        const above = lossAt();
        values[j] = down;
        model.setParameter(i, values);
        const below = lossAt();
        values[j] = original;
        model.setParameter(i, values);
        numeric[j] = (above - below) / (up - down);
      }
      entry[name] = numeric;
    }
    return entry;
  });
}

/**
 * Each buffer within `tolerance` of the oracle's, measured against the buffer's largest
 * oracle magnitude: `|got - expected| <= tolerance * max|expected|` elementwise.
 */
function expectGradientsClose(got: LayerGradients[], expected: readonly Record<string, ArrayLike<number>>[], tolerance: number, label: string): void {
  expect(got.length).toBe(expected.length);
  got.forEach((entry, l) => {
    const oracle = expected[l] as Record<string, ArrayLike<number>>;
    expect(Object.keys(entry), `${label}: layer ${l}`).toEqual(Object.keys(oracle));
    for (const [name, values] of Object.entries(entry)) {
      const want = oracle[name] as ArrayLike<number>;
      expect(values).toBeInstanceOf(Float32Array);
      expect(values.length).toBe(want.length);
      let scale = 0;
      for (let j = 0; j < want.length; j++) scale = Math.max(scale, Math.abs(want[j] as number));
      expect(scale, `${label}: layer ${l} ${name} is all zeros`).toBeGreaterThan(1e-4);
      let [worst, worstError] = [-1, -1];
      for (let j = 0; j < want.length; j++) {
        const error = Math.abs((values[j] as number) - (want[j] as number));
        if (!(error <= worstError)) [worst, worstError] = [j, error];
      }
      if (!(worstError <= tolerance * scale)) {
        expect.fail(`${label}: layer ${l} ${name}[${worst}]: got ${values[worst]}, expected ${want[worst]} (error ${(worstError / scale).toExponential(2)} of the largest, tolerance ${tolerance})`);
      }
    }
  });
}

function bits(values: Float32Array): Uint32Array {
  return new Uint32Array(values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength));
}

// --- float64 references for trace ---------------------------------------------------------

function dense(input: number[][], weights: Float32Array, bias: Float32Array | undefined, units: number): number[][] {
  const inputs = (input[0] as number[]).length;
  return input.map((row) => Array.from({ length: units }, (_, u) => row.reduce((sum, v, i) => sum + v * (weights[u * inputs + i] as number), bias ? (bias[u] as number) : 0)));
}

const F: Record<string, (v: number) => number> = { relu: (v) => Math.max(v, 0), tanh: Math.tanh, linear: (v) => v, sigmoid: (v) => 1 / (1 + Math.exp(-v)) };

function softmax(row: number[]): number[] {
  const max = Math.max(...row);
  const e = row.map((v) => Math.exp(v - max));
  const total = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / total);
}

function rowsOf(values: Float32Array, width: number): number[][] {
  return Array.from({ length: values.length / width }, (_, r) => Array.from(values.subarray(r * width, (r + 1) * width)));
}

/** A 3x3 'same' convolution with stride 1 over `[h][w][c]` samples (flat NHWC rows), weights `[f][ky][kx][c]`. */
function conv3x3Same(input: number[][], [h, w, c]: number[], weights: Float32Array, bias: Float32Array, filters: number): number[][] {
  return input.map((sample) => {
    const out: number[] = [];
    for (let y = 0; y < (h as number); y++) {
      for (let x = 0; x < (w as number); x++) {
        for (let f = 0; f < filters; f++) {
          let sum = bias[f] as number;
          for (let ky = 0; ky < 3; ky++) {
            for (let kx = 0; kx < 3; kx++) {
              const [iy, ix] = [y + ky - 1, x + kx - 1];
              if (iy < 0 || iy >= (h as number) || ix < 0 || ix >= (w as number)) continue;
              for (let ch = 0; ch < (c as number); ch++) sum += (sample[(iy * (w as number) + ix) * (c as number) + ch] as number) * (weights[((f * 3 + ky) * 3 + kx) * (c as number) + ch] as number);
            }
          }
          out.push(sum);
        }
      }
    }
    return out;
  });
}

/** 2x2 max pooling with stride 2, 'valid'. */
function maxPool2(input: number[][], [h, w, c]: number[]): number[][] {
  const [oh, ow] = [Math.floor((h as number) / 2), Math.floor((w as number) / 2)];
  return input.map((sample) => {
    const out: number[] = [];
    for (let y = 0; y < oh; y++) {
      for (let x = 0; x < ow; x++) {
        for (let ch = 0; ch < (c as number); ch++) {
          const at = (iy: number, ix: number): number => sample[(iy * (w as number) + ix) * (c as number) + ch] as number;
          out.push(Math.max(at(2 * y, 2 * x), at(2 * y, 2 * x + 1), at(2 * y + 1, 2 * x), at(2 * y + 1, 2 * x + 1)));
        }
      }
    }
    return out;
  });
}

function expectLayer(entry: LayerTrace | undefined, type: string, shape: number[], pre: number[][], activation: number[][], tolerance: number): void {
  if (!entry) throw new Error('missing trace entry');
  expect(entry.type).toBe(type);
  expect(entry.shape).toEqual(shape);
  expect(entry.preActivation).toBeInstanceOf(Float32Array);
  expect(entry.activation).toBeInstanceOf(Float32Array);
  expectClose(entry.preActivation, pre.flat(), tolerance, 1e-3);
  expectClose(entry.activation, activation.flat(), tolerance, 1e-3);
}

describe.each(BACKEND_NAMES)('net.trace on %s', (backend) => {
  it('gives each dense and activation layer its pre-activation x W^T + b (or its input) and its activation, the last equal to predict', async () => {
    const net = await Network.create({
      inputSize: 3,
      layers: [{ units: 4, activation: 'relu' }, { type: 'activation', activation: 'tanh' }, { units: 3, activation: 'linear' }, { units: 3, activation: 'softmax' }],
      seed: 3,
      backend,
    });
    randomize(net, new Random(8));
    const x = uniformArray(new Random(1), 5 * 3, -1, 1);
    const trace = net.trace(x);
    expect(trace).toHaveLength(4);
    const w = net.getWeights();
    const z1 = dense(rowsOf(x, 3), w[0]?.weights as Float32Array, w[0]?.bias, 4);
    const a1 = z1.map((row) => row.map(F.relu as (v: number) => number));
    const a2 = a1.map((row) => row.map(Math.tanh));
    const z3 = dense(a2, w[2]?.weights as Float32Array, w[2]?.bias, 3);
    const z4 = dense(z3, w[3]?.weights as Float32Array, w[3]?.bias, 3);
    expectLayer(trace[0], 'dense', [5, 4], z1, a1, 1e-5);
    expect(trace[0]?.preActivation.some((v) => v < 0)).toBe(true); // relu has something to cut
    expectLayer(trace[1], 'activation', [5, 4], a1, a2, 1e-5);
    expectLayer(trace[2], 'dense', [5, 3], z3, z3, 1e-5);
    expectLayer(trace[3], 'dense', [5, 3], z4, z4.map(softmax), 1e-5);
    expect(bits(trace[3]?.activation as Float32Array)).toEqual(bits(net.predict(x)));
    // Each layer's activation is the next layer's input, as computed (no copy drift).
    expect(bits(trace[1]?.preActivation as Float32Array)).toEqual(bits(trace[0]?.activation as Float32Array));
    net.dispose();
  });

  it("gives conv2d, maxPool2d, batchNorm (moving statistics), dropout (identity) and flatten their values, pre-activation = activation where there is no activation", async () => {
    const net = await Network.create({
      inputShape: [4, 4, 2],
      layers: [
        { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' },
        { type: 'maxPool2d', poolSize: 2 },
        { type: 'batchNorm', epsilon: 0.01 },
        { type: 'dropout', rate: 0.5 },
        { type: 'flatten' },
        { units: 2, activation: 'sigmoid' },
      ],
      seed: 5,
      backend,
    });
    randomize(net, new Random(9));
    const rows = 3;
    const x = uniformArray(new Random(2), rows * 32, -1, 1);
    const trace = net.trace(x);
    const w = net.getWeights();
    const z1 = conv3x3Same(rowsOf(x, 32), [4, 4, 2], w[0]?.weights as Float32Array, w[0]?.bias as Float32Array, 3);
    const a1 = z1.map((row) => row.map(F.relu as (v: number) => number));
    const p = maxPool2(a1, [4, 4, 3]);
    const { gamma, beta, movingMean, movingVariance } = w[2] as Required<LayerWeights>;
    const bn = p.map((row) => row.map((v, i) => ((v - (movingMean[i % 3] as number)) / Math.sqrt((movingVariance[i % 3] as number) + 0.01)) * (gamma[i % 3] as number) + (beta[i % 3] as number)));
    const z6 = dense(bn, w[5]?.weights as Float32Array, w[5]?.bias, 2);
    expectLayer(trace[0], 'conv2d', [rows, 4, 4, 3], z1, a1, 1e-5);
    expectLayer(trace[1], 'maxPool2d', [rows, 2, 2, 3], p, p, 1e-5);
    expectLayer(trace[2], 'batchNorm', [rows, 2, 2, 3], bn, bn, 1e-5);
    expectLayer(trace[3], 'dropout', [rows, 2, 2, 3], bn, bn, 1e-5);
    expectLayer(trace[4], 'flatten', [rows, 12], bn, bn, 1e-5);
    expectLayer(trace[5], 'dense', [rows, 2], z6, z6.map((row) => row.map(F.sigmoid as (v: number) => number)), 1e-5);
    for (const entry of trace.slice(1, 5)) {
      expect(entry.preActivation).not.toBe(entry.activation);
      expect(bits(entry.preActivation)).toEqual(bits(entry.activation));
    }
    expect(bits(trace[5]?.activation as Float32Array)).toEqual(bits(net.predict(x)));
    net.dispose();
  });

  it('stitches inference chunks: 1500 rows give predict and every row its own trace', async () => {
    const net = await Network.create({ inputSize: 2, layers: [{ units: 3, activation: 'tanh' }, { type: 'dropout', rate: 0.5 }, { units: 1, activation: 'sigmoid' }], seed: 1, backend });
    const x = uniformArray(new Random(3), 1500 * 2, -2, 2);
    const trace = net.trace(x);
    expect(bits(trace[2]?.activation as Float32Array)).toEqual(bits(net.predict(x)));
    for (const r of [0, 1023, 1024, 1499]) {
      const single = net.trace(x.subarray(r * 2, r * 2 + 2));
      single.forEach((entry, l) => {
        const width = entry.activation.length;
        expect(bits(entry.preActivation)).toEqual(bits((trace[l] as LayerTrace).preActivation.subarray(r * width, (r + 1) * width)));
        expect(bits(entry.activation)).toEqual(bits((trace[l] as LayerTrace).activation.subarray(r * width, (r + 1) * width)));
      });
    }
    net.dispose();
  });

  it('validates x as predict does, and refuses a disposed network', async () => {
    const net = await Network.create({ inputSize: 2, layers: [{ units: 1 }], backend });
    const message = (run: () => unknown): Error => {
      try {
        run();
      } catch (error) {
        return error as Error;
      }
      throw new Error('expected a throw');
    };
    for (const bad of [[1, 2], new Float64Array(2), new Float32Array(3), new Float32Array(0), Float32Array.of(1, NaN), undefined]) {
      const expected = message(() => net.predict(bad as Float32Array));
      const got = message(() => net.trace(bad as Float32Array));
      expect(got.constructor).toBe(expected.constructor);
      expect(got.message).toBe(expected.message);
      expect(got.message).toMatch(/^x: /);
    }
    expect(() => net.trace(new Float32Array(3))).toThrow(RangeError);
    expect(() => net.trace([1, 2] as unknown as Float32Array)).toThrow(TypeError);
    net.dispose();
    expect(() => net.trace(new Float32Array(2))).toThrow(/^trace: the network was disposed$/);
  });
});

describe.each(COMPILED_BACKENDS)('net.trace on %s agrees with ts', (backend) => {
  it.each(CASES)('$name', async (spec) => {
    const [reference, net] = [await build('ts', spec), await build(backend, spec)];
    const { x } = data(net, spec.loss, ROWS, 12);
    const [want, got] = [reference.trace(x), net.trace(x)];
    got.forEach((entry, l) => {
      const expected = want[l] as LayerTrace;
      expect(entry.type).toBe(expected.type);
      expect(entry.shape).toEqual(expected.shape);
      expectClose(entry.preActivation, expected.preActivation, 2e-5, 1e-2);
      expectClose(entry.activation, expected.activation, 2e-5, 1e-2);
    });
  });
});

describe('trainer.gradients on ts against float64 central differences of the mean training-mode loss', () => {
  it.each(CASES)('$name', async (spec) => {
    const net = await build('ts', spec);
    const seed = 21;
    const trainer = new Trainer(net, { loss: spec.loss, seed });
    const { x, y } = data(net, spec.loss, ROWS, 13);
    const numeric = finiteDifferences(net, spec.loss, x, y, dropoutState(seed));
    if (!spec.layers.some((layer) => layer.type === 'batchNorm' || layer.type === 'dropout')) {
      // The function differenced is the mean loss: without batch norm or dropout, training mode is evaluate's.
      const { model } = internalsOf(net, 'test');
      expect(model.gradients(spec.loss, x, y, ROWS, dropoutState(seed)).loss).toBeCloseTo(net.evaluate(x, y, { loss: spec.loss }).loss, 6);
    }
    expectGradientsClose(trainer.gradients(x, y), numeric, 2e-3, spec.name);
  });

  it('takes class indices for categorical cross-entropy, as fit does', async () => {
    const spec = CASES[0] as Case;
    const net = await build('ts', spec);
    const trainer = new Trainer(net);
    const { x, y } = data(net, spec.loss, ROWS, 14);
    const labels = Int32Array.from({ length: ROWS }, (_, r) => y.subarray(r * 3, r * 3 + 3).indexOf(1));
    expect(trainer.gradients(x, labels)).toEqual(trainer.gradients(x, y));
  });
});

describe.each(COMPILED_BACKENDS)('trainer.gradients on %s agrees with ts', (backend) => {
  it.each(CASES)('$name', async (spec) => {
    const [reference, net] = [await build('ts', spec), await build(backend, spec)];
    const { x, y } = data(net, spec.loss, ROWS, 13);
    const want = new Trainer(reference, { loss: spec.loss, seed: 21 }).gradients(x, y);
    const got = new Trainer(net, { loss: spec.loss, seed: 21 }).gradients(x, y);
    expectGradientsClose(got, want, 5e-6, `${backend} ${spec.name}`);
  });
});

/** A network with both batch norm and dropout, so that both kinds of hidden state are at stake. */
const STATEFUL: Case = {
  name: 'stateful',
  inputShape: [4],
  layers: [{ units: 6, activation: 'tanh' }, { type: 'batchNorm', momentum: 0.5 }, { type: 'dropout', rate: 0.5 }, { units: 2, activation: 'sigmoid' }],
  loss: 'binaryCrossEntropy',
};

/** Per trained buffer, in order: `before - after` in float64. */
function steps(before: LayerWeights[], after: LayerWeights[], net: Network): Record<string, Float64Array>[] {
  return net.layers.map((layer, l) =>
    Object.fromEntries(
      parameterShapes(layer)
        .filter(({ trainable }) => trainable)
        .map(({ name }) => {
          const [b, a] = [before[l]?.[name] as Float32Array, after[l]?.[name] as Float32Array];
          return [name, Float64Array.from(b, (v, i) => v - (a[i] as number))];
        }),
    ),
  );
}

describe.each(BACKEND_NAMES)('trainer.gradients on %s', (backend) => {
  it('are what the next SGD step applies (the same dropout mask), and follow the dropout stream afterwards', async () => {
    const net = await build(backend, STATEFUL);
    const { x, y } = data(net, STATEFUL.loss, 8, 15);
    const trainer = new Trainer(net, { optimizer: { name: 'sgd', learningRate: 1 }, batchSize: 8, shuffle: false, seed: 5 });
    for (let round = 0; round < 2; round++) {
      const gradients = trainer.gradients(x, y);
      const before = net.getWeights();
      await trainer.fit(x, y, { epochs: 1 });
      // p - (p - g) recovers g to float32 rounding of p (|p| < 2 here).
      expectGradientsClose(gradients, steps(before, net.getWeights(), net), 2e-5, `round ${round}`);
    }
  });

  it('leave out weight decay and come before clipping, as a step computes them before its update', async () => {
    const { x, y } = data(await build('ts', STATEFUL), STATEFUL.loss, 8, 16);
    const options: TrainerOptions = { batchSize: 8, shuffle: false, seed: 6 };
    const decayed = await build(backend, STATEFUL);
    const decay = new Trainer(decayed, { ...options, optimizer: { name: 'sgd', learningRate: 1, weightDecay: 0.5 } });
    const g = decay.gradients(x, y);
    const before = decayed.getWeights();
    await decay.fit(x, y, { epochs: 1 });
    // A step moves weights by g + 0.5 p, everything else by g.
    const decaySteps = steps(before, decayed.getWeights(), decayed).map((entry, l) =>
      Object.fromEntries(Object.entries(entry).map(([name, step]) => [name, name === 'weights' ? step.map((s, i) => s - 0.5 * (before[l]?.weights?.[i] as number)) : step])),
    );
    expectGradientsClose(g, decaySteps, 2e-5, 'weight decay');

    const clipped = await build(backend, STATEFUL);
    const norm = Math.hypot(...g.flatMap((entry) => Object.values(entry).flatMap((values) => [...values])));
    const clip = new Trainer(clipped, { ...options, optimizer: { name: 'sgd', learningRate: 1 }, clipNorm: norm / 4 });
    expectGradientsClose(clip.gradients(x, y), g, 0, 'same network, same batch');
    await clip.fit(x, y, { epochs: 1 });
    const scale = norm / 4 / (norm + 1e-6);
    const unclipped = steps(before, clipped.getWeights(), clipped).map((entry) => Object.fromEntries(Object.entries(entry).map(([name, step]) => [name, step.map((s) => s / scale)])));
    expectGradientsClose(g, unclipped, 1e-4, 'clipping');
  });

  it('change nothing: checkpoint, generators, moving statistics and the next fit are bit for bit as without the call', async () => {
    const options: TrainerOptions = { optimizer: { name: 'adam', learningRate: 0.01, weightDecay: 0.01 }, batchSize: 3, clipNorm: 0.5, seed: 9 };
    const [net, twin] = [await build(backend, STATEFUL), await build(backend, STATEFUL)];
    const { x, y } = data(net, STATEFUL.loss, 10, 17);
    const [trainer, twinTrainer] = [new Trainer(net, options), new Trainer(twin, options)];
    await trainer.fit(x, y, { epochs: 2 });
    await twinTrainer.fit(x, y, { epochs: 2 });
    const { model } = internalsOf(net, 'test');
    const checkpoint = trainer.toBytes();
    expect(checkpoint).toEqual(twinTrainer.toBytes());
    const modelRandom = model.randomState();
    const weights = net.getWeights();
    const batch = { x: x.subarray(0, 4 * 4), y: y.subarray(0, 4 * 2) };
    const first = trainer.gradients(batch.x, batch.y);
    const second = trainer.gradients(batch.x, batch.y);
    first.forEach((entry, l) => {
      for (const [name, values] of Object.entries(entry)) expect(bits(values)).toEqual(bits(second[l]?.[name as 'weights'] as Float32Array));
    });
    expect(trainer.toBytes()).toEqual(checkpoint); // parameters, moving statistics, optimizer state and step, both generators
    expect(model.randomState()).toEqual(modelRandom);
    // A trainer that does not own the network's optimizer state does not take it over (which would reset it).
    const other = new Trainer(net, { optimizer: 'sgd', seed: 1 });
    expect(Object.keys(other.gradients(batch.x, batch.y)[1] ?? {})).toEqual(['gamma', 'beta']);
    expect(trainer.toBytes()).toEqual(checkpoint);
    expect(model.randomState()).toEqual(modelRandom);
    net.getWeights().forEach((entry, l) => {
      for (const [name, values] of Object.entries(entry)) expect(bits(values)).toEqual(bits(weights[l]?.[name as 'weights'] as Float32Array));
    });
    // And from inside a fit, where the dropout stream lives in the backend's model.
    await trainer.fit(x, y, { epochs: 2, onEpochEnd: () => void trainer.gradients(batch.x, batch.y) });
    await twinTrainer.fit(x, y, { epochs: 2, onEpochEnd: () => undefined });
    expect(trainer.toBytes()).toEqual(twinTrainer.toBytes());
  });

  it('validate x and y as fit does, and refuse a disposed network', async () => {
    const net = await build(backend, STATEFUL);
    const trainer = new Trainer(net);
    const { x, y } = data(net, STATEFUL.loss, 4, 18);
    const thrown = (run: () => unknown): Error => {
      try {
        run();
      } catch (error) {
        return error as Error;
      }
      throw new Error('expected a throw');
    };
    const cases: [unknown, unknown, RegExp][] = [
      [[1, 2, 3, 4], y, /^x: expected a Float32Array/],
      [new Float32Array(5), y, /^x: /],
      [Float32Array.from(x, (v, i) => (i === 3 ? Infinity : v)), y, /^x: /],
      [x, new Float64Array(8), /^y: expected a Float32Array/],
      [x, new Float32Array(7), /^y: /],
      [x, Float32Array.from(y, (v, i) => (i === 0 ? 2 : v)), /^y: expected targets in \[0, 1\]/],
    ];
    for (const [badX, badY, pattern] of cases) {
      const error = thrown(() => trainer.gradients(badX as Float32Array, badY as Float32Array));
      expect(error.message).toMatch(pattern);
      expect(error).toBeInstanceOf(Array.isArray(badX) || badY instanceof Float64Array ? TypeError : RangeError);
      const fitError = await trainer.fit(badX as Float32Array, badY as Float32Array).then(
        () => new Error('fit accepted it'),
        (e: unknown) => e as Error,
      );
      expect(error.constructor).toBe(fitError.constructor);
      expect(error.message).toBe(fitError.message);
    }
    net.dispose();
    expect(() => trainer.gradients(x, y)).toThrow(/^gradients: the network was disposed$/);
  });
});
