/** Dense layers: their configuration, its validation, and weight initialization. */

import type { Random } from '../random.js';
import { checkFinite, checkOneOf, checkPositiveInteger, fail } from '../validation.js';

/** Every activation, by the name the API and the Rust kernels share. */
export const ACTIVATIONS = ['linear', 'relu', 'leakyRelu', 'tanh', 'sigmoid', 'softmax'] as const;
/** An activation's name. */
export type ActivationName = (typeof ACTIVATIONS)[number];

/** The slope of `leakyRelu` for negative inputs when none is given (PyTorch's default). */
export const DEFAULT_LEAKY_RELU_ALPHA = 0.01;

/** One dense layer as users write it. */
export interface LayerConfig {
  /** Number of outputs (neurons). */
  units: number;
  /** Defaults to `'linear'`. */
  activation?: ActivationName;
  /** Negative slope of `leakyRelu` (default 0.01); not allowed with other activations. */
  alpha?: number;
}

/** A layer with every default filled in and its input size known. */
export interface LayerShape {
  /** Inputs per sample (the previous layer's units). */
  inputs: number;
  /** Outputs per sample. */
  units: number;
  /** The activation applied to the outputs. */
  activation: ActivationName;
  /** The leaky-ReLU slope; 0 for other activations. */
  alpha: number;
}

/**
 * The most weights one layer may have (units x inputs), as the Rust model's limit on any one
 * buffer (1 GiB of floats): ferronet is for small and medium networks, and refusing an absurd
 * size up front beats the host process being killed for memory.
 */
export const MAX_LAYER_WEIGHTS = 2 ** 28;

/** Weight initialization: `'auto'` picks He for the ReLU family and Glorot otherwise. */
export const INITIALIZERS = ['auto', 'he', 'glorot', 'normal0.01'] as const;
/** A weight initialization's name. */
export type InitializerName = (typeof INITIALIZERS)[number];

/** Validates `layers` (the argument of `Network.create`) and fills in defaults. */
export function resolveLayers(inputSize: number, layers: unknown): LayerShape[] {
  if (!Array.isArray(layers)) fail('type', 'layers', 'an array of layer configs', layers);
  if (layers.length === 0) fail('range', 'layers', 'at least one layer', layers);
  let inputs = inputSize;
  return layers.map((config: unknown, i): LayerShape => {
    const name = `layers[${i}]`;
    if (typeof config !== 'object' || config === null) fail('type', name, 'a layer config like { units: 4 }', config);
    const { units, activation = 'linear', alpha, ...unknown } = config as Partial<LayerConfig>;
    const extra = Object.keys(unknown)[0];
    if (extra !== undefined) fail('range', `${name}.${extra}`, 'one of units, activation, alpha', extra);
    checkPositiveInteger(`${name}.units`, units);
    if (units * inputs > MAX_LAYER_WEIGHTS) {
      fail('range', `${name}.units`, `at most ${Math.floor(MAX_LAYER_WEIGHTS / inputs)} units after ${inputs} inputs (${MAX_LAYER_WEIGHTS} weights per layer)`, units);
    }
    checkOneOf(`${name}.activation`, activation, ACTIVATIONS);
    let slope = 0;
    if (activation === 'leakyRelu') {
      slope = alpha ?? DEFAULT_LEAKY_RELU_ALPHA;
      checkFinite(`${name}.alpha`, slope);
      if (slope <= 0) fail('range', `${name}.alpha`, 'a positive number', slope);
    } else if (alpha !== undefined) {
      fail('range', `${name}.alpha`, "no alpha unless activation is 'leakyRelu'", alpha);
    }
    const shape = { inputs, units, activation, alpha: slope };
    inputs = units;
    return shape;
  });
}

/**
 * Initial weights and zero biases for every layer, in parameter order (weights then bias,
 * layer by layer), drawn from `random`: the same seed gives the same weights on every backend.
 */
export function initialParameters(layers: readonly LayerShape[], init: InitializerName, random: Random): Float32Array[] {
  return layers.flatMap((layer) => {
    const weights = new Float32Array(layer.units * layer.inputs);
    const scheme = init === 'auto' ? (layer.activation === 'relu' || layer.activation === 'leakyRelu' ? 'he' : 'glorot') : init;
    if (scheme === 'he') {
      const std = Math.sqrt(2 / layer.inputs);
      for (let i = 0; i < weights.length; i++) weights[i] = random.normal() * std;
    } else if (scheme === 'glorot') {
      const limit = Math.sqrt(6 / (layer.inputs + layer.units));
      for (let i = 0; i < weights.length; i++) weights[i] = (2 * random.uniform() - 1) * limit;
    } else {
      for (let i = 0; i < weights.length; i++) weights[i] = random.normal() * 0.01;
    }
    return [weights, new Float32Array(layer.units)];
  });
}
