/**
 * Batch normalization over every axis but the last (per channel of an image, per feature of a
 * flat input), with Keras's moving statistics: `moving = momentum * moving + (1 - momentum) * batch`.
 */

import { checkFinite, checkInRange, fail } from '../validation.js';
import type { LayerKind, ParameterShape } from './kind.js';
import type { BatchNormLayer } from './types.js';

/** A batch normalization layer as users write it. */
export interface BatchNormConfig {
  /** Selects this kind. */
  type: 'batchNorm';
  /** The moving statistics' decay, in [0, 1]. Default 0.99 (Keras's). */
  momentum?: number;
  /** Added to the variance before its square root; positive. Default 1e-3 (Keras's). */
  epsilon?: number;
}

/** The moving statistics' decay when none is given. */
const DEFAULT_MOMENTUM = 0.99;
/** The variance guard when none is given. */
const DEFAULT_EPSILON = 1e-3;

/** Batch normalization of any input shape; parameters `gamma`, `beta`, `movingMean`, `movingVariance`, each `[channels]`. */
export const batchNorm: LayerKind<BatchNormLayer, BatchNormConfig> = {
  keys: ['momentum', 'epsilon'],
  resolve(fields, inputShape, name) {
    const { momentum = DEFAULT_MOMENTUM, epsilon = DEFAULT_EPSILON } = fields;
    checkInRange(`${name}.momentum`, momentum, 0, 1);
    checkFinite(`${name}.epsilon`, epsilon);
    if (epsilon <= 0) fail('range', `${name}.epsilon`, 'a positive finite number', epsilon);
    return { type: 'batchNorm', inputShape: [...inputShape], outputShape: [...inputShape], momentum, epsilon };
  },
  parameters({ inputShape }) {
    const channels = inputShape.at(-1) as number;
    const buffer = (name: ParameterShape['name'], trainable: boolean): ParameterShape => ({ name, length: channels, shape: [channels], axes: ['channels'], trainable });
    return [buffer('gamma', true), buffer('beta', true), buffer('movingMean', false), buffer('movingVariance', false)];
  },
  config: ({ momentum, epsilon }) => ({ type: 'batchNorm', momentum, epsilon }),
  label: () => 'batchNorm',
};
