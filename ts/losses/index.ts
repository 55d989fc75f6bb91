/** Losses by name, the default for an output layer, and which losses fit which outputs. */

import type { ActivationName } from '../layers/index.js';

/** Every loss, by the name the API and the Rust kernels share. */
export const LOSSES = ['meanSquaredError', 'binaryCrossEntropy', 'categoricalCrossEntropy'] as const;
/** A loss's name. */
export type LossName = (typeof LOSSES)[number];

/**
 * The output activation a loss needs: the cross-entropies are fused with their activation
 * (their gradient is taken with respect to its input), so they need exactly that one.
 */
export const REQUIRED_OUTPUT: Partial<Record<LossName, ActivationName>> = {
  binaryCrossEntropy: 'sigmoid',
  categoricalCrossEntropy: 'softmax',
};

/** The loss a network is evaluated with when none is given: the one its output layer suggests. */
export function defaultLoss(outputActivation: ActivationName): LossName {
  if (outputActivation === 'sigmoid') return 'binaryCrossEntropy';
  if (outputActivation === 'softmax') return 'categoricalCrossEntropy';
  return 'meanSquaredError';
}

/** Throws a RangeError naming `loss` when it cannot be used with this output activation. */
export function checkLossFitsOutput(loss: LossName, outputActivation: ActivationName): void {
  const required = REQUIRED_OUTPUT[loss];
  if (required !== undefined && required !== outputActivation) {
    throw new RangeError(`loss: '${loss}' needs a '${required}' output layer, got '${outputActivation}'`);
  }
}
