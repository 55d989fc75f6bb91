/**
 * Inverted dropout: in training each element is kept, scaled by `1 / (1 - rate)`, when its
 * draw `u >= rate`, else zeroed; in `predict` and `evaluate` the identity. Masks come from the
 * Trainer's dropout generator (docs/layers.md, "Dropout masks").
 */

import { checkInRange } from '../validation.js';
import type { LayerKind } from './kind.js';
import type { DropoutLayer } from './types.js';

/** A dropout layer as users write it. */
export interface DropoutConfig {
  /** Selects this kind. */
  type: 'dropout';
  /** The fraction of elements dropped in training, in [0, 1). */
  rate: number;
}

/** Dropout of any input shape; no parameters. */
export const dropout: LayerKind<DropoutLayer, DropoutConfig> = {
  keys: ['rate'],
  resolve(fields, inputShape, name) {
    const { rate } = fields;
    checkInRange(`${name}.rate`, rate, 0, 1, { high: true });
    return { type: 'dropout', inputShape: [...inputShape], outputShape: [...inputShape], rate };
  },
  parameters: () => [],
  config: ({ rate }) => ({ type: 'dropout', rate }),
  label: ({ rate }) => `dropout ${rate}`,
};
