/**
 * The networks every exporter is checked on (ONNX, safetensors): every layer kind and
 * activation, with non-trivial parameters (random biases and batch-norm statistics, not the
 * zeros and ones they start at), and the geometry that tells other libraries' conventions from
 * ferronet's: 'same' windows whose padding is uneven (the larger half after), 'valid' windows
 * that leave inputs over, average pooling that must not count padding, max pooling over
 * negative inputs (zero padding would win), softmax over channels while the data is channels
 * first, flatten of channels-first data, batch norm after a flatten, and image outputs.
 */

import type { LayerWeights, Network, NetworkOptions } from '../../ts/index.js';
import type { Random } from '../../ts/random.js';
import { uniformArray } from '../helpers.js';

/** One network to export. */
export interface Case {
  name: string;
  options: NetworkOptions;
  /** The range the inputs are drawn from; default [-1, 1]. */
  inputs?: [number, number];
}

export const CASES: Case[] = [
  {
    name: 'dense layers with every activation',
    options: {
      inputSize: 6,
      layers: [
        { units: 8, activation: 'relu' },
        { units: 8, activation: 'leakyRelu', alpha: 0.2 },
        { units: 7, activation: 'tanh' },
        { units: 7, activation: 'linear', useBias: false },
        { units: 6, activation: 'sigmoid' },
        { units: 4, activation: 'softmax' },
      ],
    },
  },
  {
    name: 'batch norm, dropout and activation layers on flat data',
    options: {
      inputSize: 5,
      layers: [
        { units: 6 },
        { type: 'batchNorm', epsilon: 0.01 },
        { type: 'activation', activation: 'leakyRelu', alpha: 0.3 },
        { type: 'dropout', rate: 0.5 },
        { units: 4 },
        { type: 'activation', activation: 'softmax' },
      ],
    },
  },
  {
    // conv [3, 2] 'same' pads rows 1 + 1 and columns 0 + 1; the pool pads likewise; the 2x2
    // 'valid' conv with strides 2 leaves the fifth row over.
    name: 'conv same and valid, kernel [3, 2], strides 2, max pooling, batch norm after conv',
    options: {
      inputShape: [9, 8, 3],
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: [3, 2], padding: 'same', activation: 'relu' },
        { type: 'batchNorm' },
        { type: 'maxPool2d', poolSize: 3, strides: 2, padding: 'same' },
        { type: 'conv2d', filters: 5, kernelSize: 2, strides: 2, padding: 'valid', activation: 'tanh' },
        { type: 'flatten' },
        { units: 3, activation: 'softmax' },
      ],
    },
  },
  {
    // The first average pool pads rows and columns 0 + 1: its edge windows have 2 real elements of 4.
    name: 'average pooling same and valid, softmax over channels, batch norm after flatten',
    options: {
      inputShape: [7, 7, 2],
      layers: [
        { type: 'conv2d', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'leakyRelu', alpha: 0.1 },
        { type: 'avgPool2d', poolSize: 2, strides: 1, padding: 'same' },
        { type: 'activation', activation: 'softmax' },
        { type: 'avgPool2d', poolSize: 2, padding: 'valid' },
        { type: 'flatten' },
        { type: 'batchNorm' },
        { type: 'dropout', rate: 0.25 },
        { units: 2, activation: 'sigmoid' },
      ],
    },
  },
  {
    // Every input is negative, so a window counting its padding as 0 would return 0.
    name: 'max pooling of negative images ignores padding, image output',
    options: { inputShape: [5, 5, 2], layers: [{ type: 'maxPool2d', poolSize: 3, strides: 2, padding: 'same' }, { type: 'batchNorm' }] },
    inputs: [-2, -0.5],
  },
  {
    name: 'softmax and batch norm on an image before flatten, no convolution',
    options: {
      inputShape: [4, 3, 2],
      layers: [{ type: 'activation', activation: 'softmax' }, { type: 'batchNorm' }, { type: 'flatten' }, { units: 3, activation: 'relu' }],
    },
  },
  {
    name: 'conv output with softmax over the filters',
    options: { inputShape: [6, 5, 1], layers: [{ type: 'conv2d', filters: 3, kernelSize: 3, padding: 'valid', activation: 'softmax' }] },
  },
  {
    name: 'dropout alone is the identity',
    options: { inputSize: 3, layers: [{ type: 'dropout', rate: 0.5 }] },
  },
  {
    // The output is a flatten of an image: a reader that flattens channels first must reorder it.
    name: 'ends in a flatten of an image',
    options: {
      inputShape: [4, 5, 3],
      layers: [{ type: 'maxPool2d', poolSize: [3, 2], strides: [1, 2], padding: 'same' }, { type: 'flatten' }, { type: 'activation', activation: 'sigmoid' }],
    },
  },
  {
    // Only the first dense layer after a flatten sees pixels; the batch norm after the second flatten sees units.
    name: 'a flatten of flat data, batch norm after a dense layer after a flatten',
    options: {
      inputShape: [6, 6, 2],
      layers: [{ type: 'conv2d', filters: 2, kernelSize: 1 }, { type: 'flatten' }, { units: 3 }, { type: 'flatten' }, { type: 'batchNorm', momentum: 0.9 }, { units: 2, activation: 'tanh' }],
    },
  },
  {
    name: "a kernel larger than the input, 'same', strides 3, no bias",
    options: { inputShape: [2, 3, 1], layers: [{ type: 'conv2d', filters: 2, kernelSize: 5, strides: 3, padding: 'same', activation: 'sigmoid', useBias: false }] },
  },
  {
    name: "average pooling 3x3 with strides 2 'same' on 4x4, leakyRelu's default alpha",
    options: {
      inputShape: [4, 4, 2],
      layers: [{ type: 'avgPool2d', poolSize: 3, strides: 2, padding: 'same' }, { type: 'activation', activation: 'leakyRelu' }, { type: 'flatten' }, { units: 2, activation: 'linear' }],
    },
  },
];

/** Each buffer's values besides initialized weights: biases and batch-norm parameters away from their 0 and 1 starts. */
const RANGES: Record<string, [number, number]> = {
  bias: [-0.5, 0.5],
  gamma: [0.5, 1.5],
  beta: [-0.5, 0.5],
  movingMean: [-0.5, 0.5],
  movingVariance: [0.2, 2],
};

/** `net`'s weights with every buffer but conv and dense weights (already random) drawn from {@link RANGES}. */
export function variedWeights(net: Network, random: Random): LayerWeights[] {
  return net.getWeights().map((entry) =>
    Object.fromEntries(
      Object.entries(entry).map(([name, values]) => {
        const range = RANGES[name];
        return [name, range ? uniformArray(random, values.length, ...range) : values];
      }),
    ),
  );
}

