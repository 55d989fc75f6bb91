/**
 * Max and average pooling over each channel's windows of NHWC data. Both see only real input
 * elements: padding is never the maximum, and an average divides by the real elements it covers.
 */

import { checkWindowFits, imageInput, readPadding, readPair, type LayerKind } from './kind.js';
import type { Padding, Pool2dLayer } from './types.js';
import { windowGeometry } from './window.js';

/** A pooling layer as users write it. */
export interface Pool2dConfig {
  /** `'maxPool2d'` (the maximum of each window) or `'avgPool2d'` (its mean). */
  type: 'maxPool2d' | 'avgPool2d';
  /** The window: `n` for `n x n`, or `[height, width]`. */
  poolSize: number | readonly [number, number];
  /** The step between windows: `n` or `[height, width]`. Default: the pool size (windows side by side). */
  strides?: number | readonly [number, number];
  /** `'valid'` (default: no padding) or `'same'` (TensorFlow's: output `ceil(input / stride)`). */
  padding?: Padding;
}

/** The pooling kind `type`: `[h, w, c]` inputs to `[outH, outW, c]`, no parameters. */
function poolKind<Type extends Pool2dLayer['type']>(type: Type): LayerKind<Pool2dLayer & { type: Type }, Pool2dConfig & { type: Type }> {
  return {
    keys: ['poolSize', 'strides', 'padding'],
    resolve(fields, inputShape, name) {
      const [height, width, channels] = imageInput(name, type, inputShape);
      const poolSize = readPair(`${name}.poolSize`, fields.poolSize);
      const strides = fields.strides === undefined ? poolSize : readPair(`${name}.strides`, fields.strides);
      const padding = readPadding(`${name}.padding`, fields.padding);
      if (padding === 'valid') checkWindowFits(`${name}.poolSize`, poolSize, [height, width], "with 'valid' padding a larger window pools to zero size");
      const outputShape = [windowGeometry(height, poolSize[0], strides[0], padding).out, windowGeometry(width, poolSize[1], strides[1], padding).out, channels];
      return { type, inputShape: [height, width, channels], outputShape, poolSize, strides, padding };
    },
    parameters: () => [],
    config: ({ poolSize, strides, padding }) => ({ type, poolSize, strides, padding }),
    label: ({ poolSize: [ph, pw], strides: [sh, sw], padding }) =>
      [type, `${ph}x${pw}`, sh === ph && sw === pw ? '' : `stride ${sh}x${sw}`, padding === 'same' ? 'same' : ''].filter((part) => part !== '').join(' '),
  };
}

/** Max pooling: each window's largest real element (the gradient goes to the first one in scan order). */
export const maxPool2d = poolKind('maxPool2d');

/** Average pooling: each window's mean over its real elements. */
export const avgPool2d = poolKind('avgPool2d');
