/** An activation on its own (Keras's `Activation` layer), e.g. after a batch norm: `y = f(x)`. */

import { activationConfig, readActivation, type LayerKind } from './kind.js';
import type { ActivationLayer, ActivationName } from './types.js';

/** An activation layer as users write it. */
export interface ActivationConfig {
  /** Selects this kind. */
  type: 'activation';
  /** The function applied to the input. Required. */
  activation: ActivationName;
  /** Negative slope of `leakyRelu` (default 0.01); not allowed with other activations. */
  alpha?: number;
}

/** Activations of any input shape; no parameters. */
export const activation: LayerKind<ActivationLayer, ActivationConfig> = {
  keys: ['activation', 'alpha'],
  resolve(fields, inputShape, name) {
    return { type: 'activation', inputShape: [...inputShape], outputShape: [...inputShape], ...readActivation(name, fields) };
  },
  parameters: () => [],
  config: (layer) => ({ type: 'activation', ...activationConfig(layer) }),
  label: (layer) => `activation ${layer.activation}`,
};
