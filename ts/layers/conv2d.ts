/**
 * The 2-D convolution over NHWC data: weights `[filters][kh][kw][inChannels]` (each filter's
 * row is one input patch in NHWC order, so im2col and the one GEMM compute it), bias `[filters]`.
 */

import { checkPositiveInteger, fail } from '../validation.js';
import {
  activationConfig,
  checkWindowFits,
  imageInput,
  MAX_LAYER_WEIGHTS,
  readActivation,
  readPadding,
  readPair,
  readUseBias,
  type LayerKind,
  type ParameterShape,
} from './kind.js';
import type { ActivationName, Conv2dLayer, Padding } from './types.js';
import { windowGeometry } from './window.js';

/** A convolution as users write it. */
export interface Conv2dConfig {
  /** Selects this kind. */
  type: 'conv2d';
  /** Output channels. */
  filters: number;
  /** The window: `n` for `n x n`, or `[height, width]`. */
  kernelSize: number | readonly [number, number];
  /** The step between windows: `n` or `[height, width]`. Default 1. */
  strides?: number | readonly [number, number];
  /** `'valid'` (default: no padding) or `'same'` (TensorFlow's: output `ceil(input / stride)`). */
  padding?: Padding;
  /** Defaults to `'linear'`. */
  activation?: ActivationName;
  /** Negative slope of `leakyRelu` (default 0.01); not allowed with other activations. */
  alpha?: number;
  /** Whether the layer adds a bias per filter. Default true. */
  useBias?: boolean;
}

/** Convolutions of `[h, w, c]` inputs to `[outH, outW, filters]`. */
export const conv2d: LayerKind<Conv2dLayer, Conv2dConfig> = {
  keys: ['filters', 'kernelSize', 'strides', 'padding', 'activation', 'alpha', 'useBias'],
  resolve(fields, inputShape, name) {
    const [height, width, channels] = imageInput(name, 'conv2d', inputShape);
    const { filters } = fields;
    checkPositiveInteger(`${name}.filters`, filters);
    const kernelSize = readPair(`${name}.kernelSize`, fields.kernelSize);
    const strides = fields.strides === undefined ? ([1, 1] as [number, number]) : readPair(`${name}.strides`, fields.strides);
    const padding = readPadding(`${name}.padding`, fields.padding);
    const [kh, kw] = kernelSize;
    const patch = kh * kw * channels;
    if (patch > MAX_LAYER_WEIGHTS) fail('range', `${name}.kernelSize`, `a window of at most ${MAX_LAYER_WEIGHTS} weights over ${channels} channels`, fields.kernelSize);
    if (filters * patch > MAX_LAYER_WEIGHTS) {
      fail('range', `${name}.filters`, `at most ${Math.floor(MAX_LAYER_WEIGHTS / patch)} filters of ${kh}x${kw}x${channels} (${MAX_LAYER_WEIGHTS} weights per layer)`, filters);
    }
    if (padding === 'valid') checkWindowFits(`${name}.kernelSize`, kernelSize, [height, width], "'valid' padding adds none");
    const { activation, alpha } = readActivation(name, fields, 'linear');
    const useBias = readUseBias(`${name}.useBias`, fields.useBias);
    const outputShape = [windowGeometry(height, kh, strides[0], padding).out, windowGeometry(width, kw, strides[1], padding).out, filters];
    return { type: 'conv2d', inputShape: [height, width, channels], outputShape, filters, kernelSize, strides, padding, activation, alpha, useBias };
  },
  parameters({ filters, kernelSize: [kh, kw], inputShape, useBias }) {
    const channels = inputShape[2] as number;
    const weights: ParameterShape = {
      name: 'weights',
      length: filters * kh * kw * channels,
      shape: [filters, kh, kw, channels],
      axes: ['filters', 'kh', 'kw', 'inChannels'],
      trainable: true,
    };
    return useBias ? [weights, { name: 'bias', length: filters, shape: [filters], axes: ['filters'], trainable: true }] : [weights];
  },
  fans: ({ filters, kernelSize: [kh, kw], inputShape }) => ({ fanIn: kh * kw * (inputShape[2] as number), fanOut: kh * kw * filters }),
  config: (layer) => ({
    type: 'conv2d',
    filters: layer.filters,
    kernelSize: layer.kernelSize,
    strides: layer.strides,
    padding: layer.padding,
    ...activationConfig(layer),
    useBias: layer.useBias,
  }),
  label: ({ filters, kernelSize: [kh, kw], strides: [sh, sw], padding, activation, useBias }) =>
    ['conv2d', filters, `${kh}x${kw}`, sh === 1 && sw === 1 ? '' : `stride ${sh}x${sw}`, padding === 'same' ? 'same' : '', activation, useBias ? '' : '(no bias)']
      .filter((part) => part !== '')
      .join(' '),
};
