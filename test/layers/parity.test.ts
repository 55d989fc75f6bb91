/**
 * wasm and native train every layer kind like the ts reference, on awkward shapes: odd sizes,
 * strides 2, 'same' and 'valid', one and several channels, kernels 1, 3 and 5, batch norm's
 * moving statistics and dropout's masks (which every backend draws from the same generator).
 * Each run is a few shuffled minibatch steps; afterwards every parameter buffer, the history
 * and the inference-mode predictions are compared with ts.
 */

import { describe, expect, it } from 'vitest';
import { Network, Random, Trainer, type BackendName, type LayerConfig, type OptimizerConfig } from '../../ts/index.js';
import { COMPILED_BACKENDS, expectClose, uniformArray } from '../helpers.js';

interface ParityCase {
  name: string;
  inputShape: number[];
  layers: LayerConfig[];
  optimizer: OptimizerConfig;
}

const CASES: ParityCase[] = [
  {
    name: "conv2d 'same' stride 2, kernel 5, 3 channels; max pooling 'valid'; dense softmax",
    inputShape: [9, 7, 3],
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 5, strides: 2, padding: 'same', activation: 'relu' },
      { type: 'maxPool2d', poolSize: 2, strides: 1 },
      { type: 'flatten' },
      { units: 3, activation: 'softmax' },
    ],
    optimizer: { name: 'adam', learningRate: 0.01 },
  },
  {
    name: "conv2d 'valid' [3, 2] kernel, 1 channel; average pooling 'same' stride 2; batch norm; sigmoid",
    inputShape: [8, 5, 1],
    layers: [
      { type: 'conv2d', filters: 3, kernelSize: [3, 2], padding: 'valid', activation: 'tanh' },
      { type: 'avgPool2d', poolSize: 3, strides: 2, padding: 'same' },
      { type: 'batchNorm', momentum: 0.9 },
      { type: 'flatten' },
      { units: 3, activation: 'sigmoid' },
    ],
    optimizer: { name: 'sgd', learningRate: 0.1 },
  },
  {
    name: 'conv2d kernel 1 without bias; batch norm; activation layer; dropout; dense',
    inputShape: [5, 5, 2],
    layers: [
      { type: 'conv2d', filters: 3, kernelSize: 1, useBias: false },
      { type: 'batchNorm' },
      { type: 'activation', activation: 'leakyRelu', alpha: 0.1 },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.3 },
      { type: 'dense', units: 6, activation: 'relu' },
      { units: 3, activation: 'softmax' },
    ],
    optimizer: { name: 'momentum', learningRate: 0.05 },
  },
  {
    name: "two convolutions, the second 'valid' with kernel [2, 3] and stride 2 (the first gets an input gradient through col2im)",
    inputShape: [7, 9, 2],
    layers: [
      { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh' },
      { type: 'conv2d', filters: 4, kernelSize: [2, 3], strides: 2, activation: 'relu' },
      { type: 'avgPool2d', poolSize: 2, padding: 'same' },
      { type: 'flatten' },
      { units: 3, activation: 'softmax' },
    ],
    optimizer: { name: 'adam', learningRate: 0.02 },
  },
  {
    name: 'dense, batch norm, dropout and a linear output on flat data',
    inputShape: [7],
    layers: [
      { units: 9, activation: 'tanh' },
      { type: 'batchNorm', momentum: 0.8, epsilon: 1e-2 },
      { type: 'dropout', rate: 0.5 },
      { units: 3 },
    ],
    optimizer: { name: 'adam', learningRate: 0.01 },
  },
];

const SAMPLES = 24;

interface RunResult {
  weights: Float32Array[];
  loss: number[];
  predictions: Float32Array;
}

/** Eight shuffled batches of 6 over two epochs, seeded: the same batches and masks on every backend. */
async function run(testCase: ParityCase, backend: BackendName): Promise<RunResult> {
  const net = await Network.create({ inputShape: testCase.inputShape, layers: testCase.layers, seed: 5, backend });
  const random = new Random(17);
  const x = uniformArray(random, SAMPLES * net.inputSize, -1, 1);
  const classes = Int32Array.from({ length: SAMPLES }, () => random.below(net.outputSize));
  const y = Float32Array.from({ length: SAMPLES * net.outputSize }, (_, i) => (classes[Math.floor(i / net.outputSize)] === i % net.outputSize ? 1 : 0));
  const trainer = new Trainer(net, { optimizer: testCase.optimizer, batchSize: 6, seed: 3 });
  const history = await trainer.fit(x, y, { epochs: 2 });
  const weights = net.getWeights().flatMap((entry) => Object.values(entry));
  const result = { weights, loss: history.loss, predictions: net.predict(x) };
  net.dispose();
  return result;
}

describe.each(CASES)('$name', (testCase) => {
  it.each(COMPILED_BACKENDS)('%s matches ts', async (backend) => {
    const [reference, got] = [await run(testCase, 'ts'), await run(testCase, backend)];
    expect(got.weights.length).toBe(reference.weights.length);
    expect(got.weights.length).toBeGreaterThan(0);
    got.weights.forEach((buffer, i) => {
      expectClose(buffer, reference.weights[i] as Float32Array, 1e-4, 1e-2);
    });
    expectClose(got.loss, reference.loss, 1e-5);
    expectClose(got.predictions, reference.predictions, 1e-4, 1e-2);
  });

  it.each(['ts', ...COMPILED_BACKENDS] as BackendName[])('%s is bit-identical run twice', async (backend) => {
    const [first, second] = [await run(testCase, backend), await run(testCase, backend)];
    expect(second).toEqual(first);
  });
});
