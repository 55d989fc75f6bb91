/** The dense (fully connected) layer: `y = f(x W^T + b)`, weights `[units][inputs]`. */

import { checkPositiveInteger, fail } from '../validation.js';
import { activationConfig, flatInput, MAX_LAYER_WEIGHTS, readActivation, readUseBias, type LayerKind, type ParameterShape } from './kind.js';
import type { ActivationName, DenseLayer } from './types.js';

/** A dense layer as users write it; `type` may be left out, since dense is the default kind. */
export interface DenseConfig {
  /** Selects this kind (the default). */
  type?: 'dense';
  /** Number of outputs (neurons). */
  units: number;
  /** Defaults to `'linear'`. */
  activation?: ActivationName;
  /** Negative slope of `leakyRelu` (default 0.01); not allowed with other activations. */
  alpha?: number;
  /** Whether the layer adds a bias. Default true. */
  useBias?: boolean;
}

/** Dense layers: a flat input of `inputs` features to `units` outputs. */
export const dense: LayerKind<DenseLayer, DenseConfig> = {
  keys: ['units', 'activation', 'alpha', 'useBias'],
  resolve(fields, inputShape, name) {
    const inputs = flatInput(name, 'dense', inputShape);
    const { units } = fields;
    checkPositiveInteger(`${name}.units`, units);
    if (units * inputs > MAX_LAYER_WEIGHTS) {
      fail('range', `${name}.units`, `at most ${Math.floor(MAX_LAYER_WEIGHTS / inputs)} units after ${inputs} inputs (${MAX_LAYER_WEIGHTS} weights per layer)`, units);
    }
    const { activation, alpha } = readActivation(name, fields, 'linear');
    const useBias = readUseBias(`${name}.useBias`, fields.useBias);
    return { type: 'dense', inputShape: [inputs], outputShape: [units], inputs, units, activation, alpha, useBias };
  },
  parameters({ inputs, units, useBias }) {
    const weights: ParameterShape = { name: 'weights', length: units * inputs, shape: [units, inputs], axes: ['units', 'inputs'], trainable: true };
    return useBias ? [weights, { name: 'bias', length: units, shape: [units], axes: ['units'], trainable: true }] : [weights];
  },
  fans: ({ inputs, units }) => ({ fanIn: inputs, fanOut: units }),
  config: (layer) => ({ type: 'dense', units: layer.units, ...activationConfig(layer), useBias: layer.useBias }),
  label: (layer) => `${layer.units} ${layer.activation}${layer.useBias ? '' : ' (no bias)'}`,
};
