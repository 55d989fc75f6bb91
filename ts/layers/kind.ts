/**
 * What each layer kind's file gives the registry (ts/layers/index.ts), and the checks of
 * config fields that several kinds share. Every check throws the usual TypeError or
 * RangeError naming `layers[i].field`, what was expected and what was given.
 */

import { checkFinite, checkOneOf, checkPositiveInteger, fail, reject } from '../validation.js';
import { ACTIVATIONS, type ActivationName, type Padding, type ParameterName, type ResolvedLayer } from './types.js';

/**
 * The most floats one parameter buffer may hold (units x inputs for dense weights), as the
 * Rust model's limit on any one buffer (1 GiB of floats): ferronet is for small and medium
 * networks, and refusing an absurd size up front beats the host process being killed for memory.
 */
export const MAX_LAYER_WEIGHTS = 2 ** 28;

/** The most values one sample may have at any layer's input or output, for the same reason. */
export const MAX_SAMPLE_VALUES = 2 ** 28;

/** The slope of `leakyRelu` for negative inputs when none is given (PyTorch's default). */
export const DEFAULT_LEAKY_RELU_ALPHA = 0.01;

/** One of a layer's parameter buffers (docs/layers.md, "Parameters"). */
export interface ParameterShape {
  /** The buffer's name, as `getWeights()` and model files name it. */
  name: ParameterName;
  /** Floats in the buffer. */
  length: number;
  /** Its extents, row-major: `[units, inputs]` for dense weights. */
  shape: number[];
  /** What each extent counts, for messages: `['units', 'inputs']`. */
  axes: string[];
  /** Whether the optimizer updates it (batch norm's moving statistics are not trained). */
  trainable: boolean;
}

/** The fan-in and fan-out of a layer's weights, for He and Glorot initialization. */
export interface Fans {
  /** Inputs that reach one output. */
  fanIn: number;
  /** Outputs that one input reaches. */
  fanOut: number;
}

/** A user's layer config as the registry hands it to its kind: an object whose keys are all in the kind's `keys` (and `type`). */
export type ConfigFields = Readonly<Record<string, unknown>>;

/**
 * One layer kind: how its config is read and checked, and what the resolved layer needs
 * (parameter buffers, initialization fans, its config for model files, a short label).
 * `Layer` is the kind's resolved type (ts/layers/types.ts), `Config` what users write.
 */
export interface LayerKind<Layer extends ResolvedLayer, Config> {
  /** The config keys the kind takes besides `type`, in the order error messages list them. */
  readonly keys: readonly string[];
  /**
   * Checks `fields` for the layer `name` (`layers[i]`) receiving samples of `inputShape` and
   * fills in every default. Throws a TypeError or RangeError naming the field.
   */
  resolve(fields: ConfigFields, inputShape: readonly number[], name: string): Layer;
  /** The layer's parameter buffers in the order backends store them; none for most kinds. */
  parameters(layer: Layer): ParameterShape[];
  /** The fans of the layer's `weights`, for kinds that have weights. */
  fans?(layer: Layer): Fans;
  /** The config that resolves back to `layer` (what model files store), with `type` and every field. */
  config(layer: Layer): Config;
  /** A few words for `toString` and the CLI: `4 tanh`, `conv2d 32 3x3 same relu`. */
  label(layer: Layer): string;
}

/** `[28, 28, 1]`. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

/** The number of values in a sample of `shape`. */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((product, extent) => product * extent, 1);
}

/** Throws for the first key of `fields` that `keys` does not list: `layers[0].unit: expected one of units, ..., type, got "unit"`. */
export function checkKeys(name: string, fields: ConfigFields, keys: readonly string[]): void {
  const extra = Object.keys(fields).find((key) => !keys.includes(key));
  if (extra !== undefined) fail('range', `${name}.${extra}`, `one of ${[...keys, 'type'].join(', ')}`, extra);
}

/** The input as `[features]`, or a RangeError telling the user to flatten first. */
export function flatInput(name: string, type: string, inputShape: readonly number[]): number {
  const [features] = inputShape;
  if (inputShape.length !== 1 || features === undefined) {
    throw new RangeError(`${name}: ${type} needs a flat input [features], got ${formatShape(inputShape)}; add { type: "flatten" } before it`);
  }
  return features;
}

/** The input as `[height, width, channels]`, or a RangeError saying the kind needs an image. */
export function imageInput(name: string, type: string, inputShape: readonly number[]): [height: number, width: number, channels: number] {
  const [height, width, channels] = inputShape;
  if (inputShape.length !== 3 || height === undefined || width === undefined || channels === undefined) {
    throw new RangeError(`${name}: ${type} needs an image input [height, width, channels], got ${formatShape(inputShape)}; give the network an inputShape of 3 extents`);
  }
  return [height, width, channels];
}

/** A window extent or stride given as `n` (both axes) or `[height, width]`, each a positive integer. */
export function readPair(argument: string, value: unknown): [number, number] {
  if (typeof value === 'number') {
    checkPositiveInteger(argument, value);
    return [value, value];
  }
  if (!Array.isArray(value)) fail('type', argument, 'a positive integer or [height, width]', value);
  if (value.length !== 2) fail('range', argument, 'a positive integer or [height, width]', value);
  const [height, width] = value as unknown[];
  checkPositiveInteger(`${argument}[0]`, height);
  checkPositiveInteger(`${argument}[1]`, width);
  return [height, width];
}

/** `'valid'` (the default) or `'same'`. */
export function readPadding(argument: string, value: unknown): Padding {
  const padding = value === undefined ? 'valid' : value;
  checkOneOf(argument, padding, ['valid', 'same'] as const);
  return padding;
}

/** A boolean, `true` when absent. */
export function readUseBias(argument: string, value: unknown): boolean {
  if (value === undefined) return true;
  if (typeof value !== 'boolean') fail('type', argument, 'a boolean', value);
  return value;
}

/**
 * An activation and its slope: `alpha` defaults to 0.01 for `leakyRelu`, must be positive, and
 * is refused with any other activation (the resolved slope is then 0). `fallback` is the
 * activation when none is given; without one the field is required.
 */
export function readActivation(name: string, fields: ConfigFields, fallback?: ActivationName): { activation: ActivationName; alpha: number } {
  const { activation = fallback, alpha } = fields;
  checkOneOf(`${name}.activation`, activation, ACTIVATIONS);
  if (activation !== 'leakyRelu') {
    if (alpha !== undefined) fail('range', `${name}.alpha`, "no alpha unless activation is 'leakyRelu'", alpha);
    return { activation, alpha: 0 };
  }
  const slope = alpha === undefined ? DEFAULT_LEAKY_RELU_ALPHA : alpha;
  checkFinite(`${name}.alpha`, slope);
  if (slope <= 0) fail('range', `${name}.alpha`, 'a positive number', slope);
  return { activation, alpha: slope };
}

/** The `activation` and `alpha` fields of a config for `layer`: `alpha` only with `leakyRelu`. */
export function activationConfig(layer: { activation: ActivationName; alpha: number }): { activation: ActivationName; alpha?: number } {
  return layer.activation === 'leakyRelu' ? { activation: layer.activation, alpha: layer.alpha } : { activation: layer.activation };
}

/** Throws a RangeError when a window of `window` does not fit an input of `extents` with 'valid' padding. */
export function checkWindowFits(argument: string, window: readonly [number, number], extents: readonly [number, number], consequence: string): void {
  if (window[0] <= extents[0] && window[1] <= extents[1]) return;
  reject('range', argument, `at most ${formatShape(extents)}, the input's height and width (${consequence}; or use padding: 'same')`, formatShape(window));
}
