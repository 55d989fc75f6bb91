/**
 * Backpropagation of a whole network on every backend against central finite differences of
 * the loss, for every hidden activation and every output activation x loss pair (leakyRelu with
 * alpha 0.2, so that a backend using the default 0.01 fails).
 *
 * The finite differences are taken once per case on the ts backend, whose evaluate() works in
 * float64 between float32 buffers; each backend's gradient is its first update of one SGD step
 * with learning rate 1 over the whole set (w_before - w_after). A compiled backend's gradient
 * is within 6e-6 relative of the ts one (float32 rounding in other orders), so it meets the
 * same tolerance as ts, while a wrong derivative (or alpha) is off by tens of percent.
 */

import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../ts/backends/backend.js';
import { Network, Random, Trainer, type ActivationName, type BackendName, type LayerConfig, type LayerWeights, type LossName } from '../ts/index.js';
import { denseEntry, uniformArray } from './helpers.js';

const ALPHA = 0.2;

const HIDDEN: ActivationName[] = ['linear', 'relu', 'leakyRelu', 'tanh', 'sigmoid', 'softmax'];
const OUTPUTS: [ActivationName, LossName][] = [
  ['sigmoid', 'binaryCrossEntropy'],
  ['softmax', 'categoricalCrossEntropy'],
  ['linear', 'meanSquaredError'],
  ['tanh', 'meanSquaredError'],
  ['relu', 'meanSquaredError'],
  ['leakyRelu', 'meanSquaredError'],
  ['sigmoid', 'meanSquaredError'],
  ['softmax', 'meanSquaredError'],
];

function targetsFor(loss: LossName, samples: number, outputs: number, random: Random): Float32Array {
  if (loss === 'categoricalCrossEntropy') {
    const y = new Float32Array(samples * outputs);
    for (let i = 0; i < samples; i++) y[i * outputs + random.below(outputs)] = 1;
    return y;
  }
  return loss === 'binaryCrossEntropy'
    ? Float32Array.from({ length: samples * outputs }, () => random.below(2))
    : uniformArray(random, samples * outputs, -1, 1);
}

/** Every parameter as one flat list, in layer order (weights then bias). */
type DenseWeights = ReturnType<typeof denseEntry>;

function flatten(weights: LayerWeights[]): number[] {
  return weights.map(denseEntry).flatMap((layer) => [...layer.weights, ...layer.bias]);
}

/** Pre-activations of both layers, in float64. */
function preActivations(weights: LayerWeights[], x: Float32Array, inputs: number, hidden: ActivationName): number[][] {
  const [first, second] = weights.map(denseEntry) as [DenseWeights, DenseWeights];
  const layer = (input: number[], w: DenseWeights, width: number): number[] =>
    Array.from(w.bias, (b, unit) => input.reduce((sum, v, i) => sum + v * (w.weights[unit * width + i] as number), b));
  const act = (z: number[]): number[] => {
    if (hidden === 'softmax') {
      const total = z.reduce((sum, v) => sum + Math.exp(v), 0);
      return z.map((v) => Math.exp(v) / total);
    }
    const f: Record<Exclude<ActivationName, 'softmax'>, (v: number) => number> = {
      linear: (v) => v,
      relu: (v) => Math.max(v, 0),
      leakyRelu: (v) => (v > 0 ? v : ALPHA * v),
      tanh: Math.tanh,
      sigmoid: (v) => 1 / (1 + Math.exp(-v)),
    };
    return z.map(f[hidden]);
  };
  const rows = x.length / inputs;
  return Array.from({ length: rows }, (_, r) => {
    const z1 = layer(Array.from(x.subarray(r * inputs, (r + 1) * inputs)), first, inputs);
    return [...z1, ...layer(act(z1), second, z1.length)];
  });
}

/** True when a pre-activation sits so close to 0 that a finite difference would step over a relu kink. */
function nearKink(z: number[][]): boolean {
  return z.some((row) => row.some((v) => Math.abs(v) < 0.02));
}

function unflatten(values: number[], like: LayerWeights[]): LayerWeights[] {
  let offset = 0;
  const take = (length: number): Float32Array => Float32Array.from(values.slice(offset, (offset += length)));
  return like.map(denseEntry).map((layer) => ({ weights: take(layer.weights.length), bias: take(layer.bias.length) }));
}

function layer(units: number, activation: ActivationName): LayerConfig {
  return activation === 'leakyRelu' ? { units, activation, alpha: ALPHA } : { units, activation };
}

interface GradientCase {
  samples: number;
  inputs: number;
  layers: LayerConfig[];
  x: Float32Array;
  y: Float32Array;
  loss: LossName;
  /** The initial parameters, flat in layer order (weights then bias). */
  parameters: number[];
  /** Central differences of the ts loss with respect to each parameter. */
  numeric: number[];
}

/** The case's network and data, and its finite differences on ts. */
async function gradientCase(hidden: ActivationName, output: ActivationName, loss: LossName): Promise<GradientCase> {
  const random = new Random(HIDDEN.indexOf(hidden) * 31 + OUTPUTS.findIndex(([a, l]) => a === output && l === loss));
  const [samples, inputs, outputs] = [5, 3, output === 'sigmoid' && loss === 'binaryCrossEntropy' ? 1 : 3];
  const layers = [layer(4, hidden), layer(outputs, output)];
  const net = await Network.create({ inputSize: inputs, layers, backend: 'ts', seed: 7 });
  const start = net.getWeights();
  const kinked = [hidden, output].some((a) => a === 'relu' || a === 'leakyRelu');
  let x = uniformArray(random, samples * inputs, -1, 1);
  while (kinked && nearKink(preActivations(start, x, inputs, hidden))) x = uniformArray(random, samples * inputs, -1, 1);
  const y = targetsFor(loss, samples, outputs, random);
  const parameters = flatten(start);
  const lossAt = (values: number[]): number => {
    net.setWeights(unflatten(values, start));
    return net.evaluate(x, y, { loss }).loss;
  };
  // Perturbations stay representable in float32: the weights are stored as float32.
  const h = 1e-3;
  const numeric = parameters.map((value, i) => {
    const plus = [...parameters];
    const minus = [...parameters];
    plus[i] = Math.fround(value + h);
    minus[i] = Math.fround(value - h);
    return (lossAt(plus) - lossAt(minus)) / (plus[i] - minus[i]);
  });
  net.dispose();
  return { samples, inputs, layers, x, y, loss, parameters, numeric };
}

/** One SGD step with learning rate 1 over the whole set moves each parameter by minus its gradient. */
async function backpropagated(backend: BackendName, c: GradientCase): Promise<number[]> {
  const net = await Network.create({ inputSize: c.inputs, layers: c.layers, backend, seed: 7 });
  await new Trainer(net, { loss: c.loss, optimizer: { name: 'sgd', learningRate: 1 }, batchSize: c.samples, shuffle: false }).fit(c.x, c.y);
  const after = flatten(net.getWeights());
  net.dispose();
  return after.map((value, i) => (c.parameters[i] as number) - value);
}

describe.each(HIDDEN)('hidden %s', (hidden) => {
  describe.each(OUTPUTS)('output %s with %s', (output, loss) => {
    let reference: Promise<GradientCase> | undefined;

    it.each(BACKEND_NAMES)('%s backpropagates the finite-difference gradient', async (backend) => {
      reference ??= gradientCase(hidden, output, loss);
      const c = await reference;
      const analytic = await backpropagated(backend, c);
      analytic.forEach((g, i) => {
        const n = c.numeric[i] as number;
        expect(Math.abs(g - n), `parameter ${i}: backprop ${g}, finite difference ${n}`).toBeLessThanOrEqual(2e-3 * Math.max(Math.abs(n), 1e-2));
      });
    });
  });
});
