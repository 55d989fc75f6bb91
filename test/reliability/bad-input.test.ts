/**
 * Bad input at every public entry point, on every backend: each case must throw a TypeError or
 * RangeError whose message names the argument, and must leave the network's weights unchanged.
 */

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../ts/backends/backend.js';
import { Network, planarDataset, Trainer, type NetworkOptions } from '../../ts/index.js';
import { denseEntry } from '../helpers.js';

const { x, y } = planarDataset();

interface Context {
  net: Network;
  softmaxNet: Network;
  trainer: Trainer;
  options: NetworkOptions;
}

type Case = [label: string, call: (c: Context) => unknown, type: typeof TypeError | typeof RangeError, message: RegExp];

const weightsLike = (c: Context): ReturnType<typeof denseEntry>[] => c.net.getWeights().map(denseEntry);
const withOptions = (c: Context, patch: Record<string, unknown>): Promise<Network> => Network.create({ ...c.options, ...patch });
const layer = (c: Context, patch: Record<string, unknown>): Promise<Network> => withOptions(c, { layers: [{ units: 4, ...patch }, { units: 1, activation: 'sigmoid' }] });
const trainerWith = (c: Context, options: Record<string, unknown>): Trainer => new Trainer(c.net, options);

const CASES: Case[] = [
  // Network.create
  ['options not an object', () => Network.create(null as never), TypeError, /^options: expected \{ inputShape or inputSize, layers/],
  ['inputSize missing', (c) => withOptions(c, { inputSize: undefined }), TypeError, /^options: expected inputShape \(\[features\] or \[height, width, channels\]\) or inputSize, got neither$/],
  ['inputSize 0', (c) => withOptions(c, { inputSize: 0 }), RangeError, /^inputSize: expected a positive integer, got 0$/],
  ['inputSize fractional', (c) => withOptions(c, { inputSize: 2.5 }), RangeError, /^inputSize: .* got 2\.5$/],
  ['inputSize a string', (c) => withOptions(c, { inputSize: '2' }), TypeError, /^inputSize: .* got "2"$/],
  ['layers not an array', (c) => withOptions(c, { layers: { units: 1 } }), TypeError, /^layers: expected an array of layer configs, got an object$/],
  ['layers empty', (c) => withOptions(c, { layers: [] }), RangeError, /^layers: expected at least one layer/],
  ['layer null', (c) => withOptions(c, { layers: [null] }), TypeError, /^layers\[0\]: expected a layer config/],
  ['units 0', (c) => layer(c, { units: 0 }), RangeError, /^layers\[0\]\.units: expected a positive integer, got 0$/],
  ['unknown activation', (c) => layer(c, { activation: 'swish' }), RangeError, /^layers\[0\]\.activation: expected one of .*got "swish"$/],
  ['activation not a string', (c) => layer(c, { activation: 5 }), TypeError, /^layers\[0\]\.activation: .* got 5$/],
  ['alpha without leakyRelu', (c) => layer(c, { activation: 'relu', alpha: 0.2 }), RangeError, /^layers\[0\]\.alpha: expected no alpha/],
  ['negative leakyRelu alpha', (c) => layer(c, { activation: 'leakyRelu', alpha: -1 }), RangeError, /^layers\[0\]\.alpha: expected a positive number, got -1$/],
  ['units beyond the per-layer limit', (c) => layer(c, { units: 2 ** 28 }), RangeError, /^layers\[0\]\.units: expected at most 134217728 units after 2 inputs \(268435456 weights per layer\), got 268435456$/],
  ['unknown layer key', (c) => layer(c, { unit: 3 }), RangeError, /^layers\[0\]\.unit: expected one of units, activation, alpha/],
  ['unknown backend', (c) => withOptions(c, { backend: 'webgpu' }), RangeError, /^backend: expected one of 'auto', 'native', 'wasm', 'ts', got "webgpu"$/],
  ['unknown init', (c) => withOptions(c, { init: 'xavier' }), RangeError, /^init: expected one of 'auto', 'he', 'glorot', 'normal0\.01', got "xavier"$/],
  ['seed NaN', (c) => withOptions(c, { seed: NaN }), RangeError, /^seed: expected an integer, got NaN$/],
  ['seed a string', (c) => withOptions(c, { seed: '1' }), TypeError, /^seed: expected an integer, got "1"$/],
  // predict
  ['x a Float64Array', (c) => c.net.predict(new Float64Array(4) as never), TypeError, /^x: expected a Float32Array \[samples\]\[2\] \(row-major\), got a Float64Array of length 4$/],
  ['x a plain array', (c) => c.net.predict([1, 2] as never), TypeError, /^x: .* got an Array of length 2$/],
  ['x of the wrong length', (c) => c.net.predict(new Float32Array(3)), RangeError, /^x: .*a multiple of 2, got a Float32Array of length 3$/],
  ['x empty', (c) => c.net.predict(new Float32Array(0)), RangeError, /^x: .*at least one sample, got an empty Float32Array$/],
  ['x with NaN', (c) => c.net.predict(Float32Array.of(0, 1, NaN, 2)), RangeError, /^x: expected finite values, got NaN at x\[1\]\[0\]$/],
  ['x with Infinity', (c) => c.net.predict(Float32Array.of(-Infinity, 1)), RangeError, /^x: expected finite values, got -Infinity at x\[0\]\[0\]$/],
  // evaluate
  ['y of the wrong length', (c) => c.net.evaluate(x, new Float32Array(399)), RangeError, /^y: expected a Float32Array \[400\]\[1\] \(length 400\), got a Float32Array of length 399$/],
  ['y a Float64Array', (c) => c.net.evaluate(x, new Float64Array(400) as never), TypeError, /^y: expected a Float32Array \[400\]\[1\], got a Float64Array/],
  ['y with NaN', (c) => c.net.evaluate(x, y.map((v, i) => (i === 7 ? NaN : v))), RangeError, /^y: expected finite values, got NaN at y\[7\]\[0\]$/],
  ['y outside [0, 1] for cross-entropy', (c) => c.net.evaluate(x, y.map((v) => v - 0.5)), RangeError, /^y: expected targets in \[0, 1\] for binaryCrossEntropy, got -0\.5 at y\[0\]\[0\]$/],
  ['unknown loss', (c) => c.net.evaluate(x, y, { loss: 'hinge' as never }), RangeError, /^loss: expected one of 'meanSquaredError', .* got "hinge"$/],
  ['loss that does not fit the output', (c) => c.net.evaluate(x, y, { loss: 'categoricalCrossEntropy' }), RangeError, /^loss: 'categoricalCrossEntropy' needs a 'softmax' output layer, got 'sigmoid'$/],
  ['class index out of range', (c) => c.softmaxNet.evaluate(x, Uint8Array.from(y, (v) => v * 3)), RangeError, /^y: expected class indices in \[0, 1\], got 3 at y\[200\]$/],
  ['class indices of the wrong length', (c) => c.softmaxNet.evaluate(x, new Int32Array(10)), RangeError, /^y: expected 400 class indices \(one per sample\), got a Int32Array of length 10$/],
  // setWeights
  ['weights not an array', (c) => c.net.setWeights({} as never), TypeError, /^weights: expected an array of 2 \{ weights, bias \}, got an object$/],
  ['weights for the wrong number of layers', (c) => c.net.setWeights(weightsLike(c).slice(0, 1)), RangeError, /^weights: expected an array of 2 .* got an Array of length 1$/],
  ['a layer entry null', (c) => c.net.setWeights([null, null] as never), TypeError, /^weights\[0\]: expected \{ weights, bias \}, got null$/],
  ['layer weights a plain array', (c) => c.net.setWeights(weightsLike(c).map((l) => ({ ...l, weights: Array.from(l.weights) })) as never), TypeError, /^weights\[0\]\.weights: expected a Float32Array of length 8/],
  ['layer weights too short', (c) => c.net.setWeights(weightsLike(c).map((l) => ({ ...l, weights: l.weights.subarray(1) }))), RangeError, /^weights\[0\]\.weights: expected a Float32Array of length 8 \(\[4\]\[2\] = \[units\]\[inputs\]\), got a Float32Array of length 7$/],
  ['layer bias too long', (c) => c.net.setWeights(weightsLike(c).map((l) => ({ ...l, bias: new Float32Array(l.bias.length + 1) }))), RangeError, /^weights\[0\]\.bias: expected a Float32Array of length 4/],
  ['layer weights with Infinity', (c) => c.net.setWeights(weightsLike(c).map((l, i) => ({ ...l, weights: i === 1 ? l.weights.map(() => Infinity) : l.weights }))), RangeError, /^weights\[1\]\.weights: expected finite values, got Infinity at weights\[1\]\.weights\[0\]\[0\]$/],
  // Trainer
  ['trainer without a network', () => new Trainer({} as never), TypeError, /^network: expected a Network, got an object$/],
  ['trainer options null', (c) => new Trainer(c.net, null as never), TypeError, /^options: expected a TrainerOptions object, got null$/],
  ['unknown trainer loss', (c) => trainerWith(c, { loss: 'l1' }), RangeError, /^loss: expected one of/],
  ['batchSize 0', (c) => trainerWith(c, { batchSize: 0 }), RangeError, /^batchSize: expected a positive integer, got 0$/],
  ['batchSize fractional', (c) => trainerWith(c, { batchSize: 1.5 }), RangeError, /^batchSize: expected a positive integer, got 1\.5$/],
  ['shuffle not a boolean', (c) => trainerWith(c, { shuffle: 'yes' }), TypeError, /^shuffle: expected a boolean, got "yes"$/],
  ['optimizer a number', (c) => trainerWith(c, { optimizer: 3 }), TypeError, /^optimizer: expected an optimizer name or config/],
  ['unknown optimizer', (c) => trainerWith(c, { optimizer: { name: 'lbfgs' } }), RangeError, /^optimizer\.name: expected one of 'sgd', 'momentum', 'adam', 'adamw', 'rmsprop', got "lbfgs"$/],
  ['learning rate NaN', (c) => trainerWith(c, { optimizer: { name: 'adam', learningRate: NaN } }), RangeError, /^optimizer\.learningRate: expected a finite number, got NaN$/],
  ['learning rate Infinity', (c) => trainerWith(c, { optimizer: { name: 'sgd', learningRate: Infinity } }), RangeError, /^optimizer\.learningRate: expected a finite number, got Infinity$/],
  ['learning rate negative', (c) => trainerWith(c, { optimizer: { name: 'sgd', learningRate: -0.1 } }), RangeError, /^optimizer\.learningRate: expected a positive finite number, got -0\.1$/],
  ['learning rate a string', (c) => trainerWith(c, { optimizer: { name: 'sgd', learningRate: '0.1' } }), TypeError, /^optimizer\.learningRate: expected a finite number, got "0\.1"$/],
  ['momentum of 1', (c) => trainerWith(c, { optimizer: { name: 'momentum', momentum: 1 } }), RangeError, /^optimizer\.momentum: expected a number in \[0, 1\), got 1$/],
  ['adam beta2 negative', (c) => trainerWith(c, { optimizer: { name: 'adam', beta2: -0.5 } }), RangeError, /^optimizer\.beta2: expected a number in \[0, 1\), got -0\.5$/],
  ['adam epsilon 0', (c) => trainerWith(c, { optimizer: { name: 'adam', epsilon: 0 } }), RangeError, /^optimizer\.epsilon: expected a positive finite number, got 0$/],
  ['hyperparameter of another optimizer', (c) => trainerWith(c, { optimizer: { name: 'adam', momentum: 0.9 } }), RangeError, /^optimizer\.momentum: expected one of name, learningRate, beta1, beta2, epsilon/],
  // fit
  ['epochs 0', (c) => c.trainer.fit(x, y, { epochs: 0 }), RangeError, /^epochs: expected a positive integer, got 0$/],
  ['epochs a string', (c) => c.trainer.fit(x, y, { epochs: '3' as never }), TypeError, /^epochs: expected a positive integer, got "3"$/],
  ['batchSize larger than the data', (c) => trainerWith(c, { batchSize: 401 }).fit(x, y), RangeError, /^batchSize: expected at most the number of samples \(400\), got 401$/],
  ['targets for fewer samples than x', (c) => c.trainer.fit(x, y.subarray(0, 300)), RangeError, /^y: expected a Float32Array \[400\]\[1\]/],
  ['class indices for binary cross-entropy', (c) => c.trainer.fit(x, Uint8Array.from(y)), TypeError, /^y: expected a Float32Array \[400\]\[1\], got a Uint8Array of length 400$/],
  ['validation data of the wrong width', (c) => c.trainer.fit(x, y, { validationData: { x: new Float32Array(3), y } }), RangeError, /^validationData\.x: .*a multiple of 2/],
  ['validation data null', (c) => c.trainer.fit(x, y, { validationData: null as never }), TypeError, /^validationData: expected \{ x, y \}, got null$/],
  ['x with NaN in fit', (c) => c.trainer.fit(x.map((v, i) => (i === 11 ? NaN : v)), y), RangeError, /^x: expected finite values, got NaN at x\[5\]\[1\]$/],
];

describe.each(BACKEND_NAMES)('%s backend', (backend) => {
  const context = {} as Context;
  beforeAll(async () => {
    context.options = { inputSize: 2, layers: [{ units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }], backend, seed: 5 };
    context.net = await Network.create(context.options);
    context.softmaxNet = await Network.create({ ...context.options, layers: [{ units: 3, activation: 'relu' }, { units: 2, activation: 'softmax' }] });
    context.trainer = new Trainer(context.net, { batchSize: 40 });
  });
  afterAll(() => {
    context.net.dispose();
    context.softmaxNet.dispose();
  });

  it(`has at least 40 cases`, () => {
    expect(CASES.length).toBeGreaterThanOrEqual(40);
  });

  it.each(CASES)('%s', async (_, call, type, message) => {
    const before = context.net.getWeights();
    const outcome = await Promise.resolve()
      .then(() => call(context))
      .then(
        () => 'no error',
        (error: unknown) => error,
      );
    expect(outcome).toBeInstanceOf(type);
    expect((outcome as Error).message).toMatch(message);
    expect(context.net.getWeights()).toEqual(before);
  });

  it('throws TypeError for every call after dispose', async () => {
    const net = await Network.create(context.options);
    const trainer = new Trainer(net);
    net.dispose();
    const calls: [string, () => unknown][] = [
      ['predict', () => net.predict(x)],
      ['evaluate', () => net.evaluate(x, y)],
      ['getWeights', () => net.getWeights()],
      ['setWeights', () => net.setWeights([])],
      ['fit', () => trainer.fit(x, y)],
      ['Trainer', () => new Trainer(net)],
    ];
    for (const [name, call] of calls) {
      const outcome = await Promise.resolve().then(call).catch((error: unknown) => error);
      expect(outcome).toBeInstanceOf(TypeError);
      expect((outcome as Error).message).toBe(`${name}: the network was disposed`);
    }
  });
});
