/**
 * Backpropagation on the ts backend against central finite differences of the loss, for every
 * hidden activation and every output activation x loss pair.
 */

import { describe, expect, it } from 'vitest';
import { Network, Random, Trainer, type ActivationName, type LayerWeights, type LossName } from '../ts/index.js';
import { denseEntry, uniformArray } from './helpers.js';

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
      leakyRelu: (v) => (v > 0 ? v : 0.01 * v),
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

describe.each(HIDDEN)('hidden %s', (hidden) => {
  it.each(OUTPUTS)('output %s with %s', async (output, loss) => {
    const random = new Random(HIDDEN.indexOf(hidden) * 31 + OUTPUTS.findIndex(([a, l]) => a === output && l === loss));
    const [samples, inputs, outputs] = [5, 3, output === 'sigmoid' && loss === 'binaryCrossEntropy' ? 1 : 3];
    const net = await Network.create({
      inputSize: inputs,
      layers: [
        { units: 4, activation: hidden },
        { units: outputs, activation: output },
      ],
      backend: 'ts',
      seed: 7,
    });
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
      return (lossAt(plus) - lossAt(minus)) / ((plus[i]) - (minus[i]));
    });
    net.setWeights(start);
    // One SGD step with learning rate 1 moves each parameter by minus its gradient.
    await new Trainer(net, { loss, optimizer: { name: 'sgd', learningRate: 1 }, batchSize: samples, shuffle: false }).fit(x, y);
    const analytic = flatten(net.getWeights()).map((after, i) => (parameters[i] as number) - after);
    analytic.forEach((g, i) => {
      const n = numeric[i] as number;
      expect(Math.abs(g - n), `parameter ${i}: backprop ${g}, finite difference ${n}`).toBeLessThanOrEqual(
        2e-3 * Math.max(Math.abs(n), 1e-2),
      );
    });
  });
});
