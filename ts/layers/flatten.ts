/** Flatten: a sample of any shape to `[values]`, the same floats in NHWC (row-major) order. */

import { sizeOf, type LayerKind } from './kind.js';
import type { FlattenLayer } from './types.js';

/** A flatten layer as users write it. */
export interface FlattenConfig {
  /** Selects this kind. */
  type: 'flatten';
}

/** Flatten, typically between the convolutional part of a network and its dense part. */
export const flatten: LayerKind<FlattenLayer, FlattenConfig> = {
  keys: [],
  resolve: (_, inputShape) => ({ type: 'flatten', inputShape: [...inputShape], outputShape: [sizeOf(inputShape)] }),
  parameters: () => [],
  config: () => ({ type: 'flatten' }),
  label: () => 'flatten',
};
