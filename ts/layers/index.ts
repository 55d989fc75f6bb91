/**
 * Layers: the registry of layer kinds (one line per kind; each kind is one file here), turning
 * what users write into {@link ResolvedLayer}s, and what every layer shares: its parameter
 * buffers, their initialization, and the network's output activation. docs/layers.md is the
 * semantics contract.
 */

import type { Random } from '../random.js';
import { checkAllFinite, checkFloat32Array, checkOneOf, checkPositiveInteger, fail, reject } from '../validation.js';
import { activation, type ActivationConfig } from './activation.js';
import { batchNorm, type BatchNormConfig } from './batch-norm.js';
import { conv2d, type Conv2dConfig } from './conv2d.js';
import { dense, type DenseConfig } from './dense.js';
import { dropout, type DropoutConfig } from './dropout.js';
import { flatten, type FlattenConfig } from './flatten.js';
import { checkKeys, formatShape, MAX_SAMPLE_VALUES, sizeOf, type LayerKind, type ParameterShape } from './kind.js';
import { avgPool2d, maxPool2d, type Pool2dConfig } from './pool.js';
import { LAYER_TYPES, type ActivationName, type LayerType, type ParameterName, type ResolvedLayer } from './types.js';

export {
  ACTIVATIONS,
  LAYER_TYPES,
  type ActivationLayer,
  type ActivationName,
  type BatchNormLayer,
  type Conv2dLayer,
  type DenseLayer,
  type DropoutLayer,
  type FlattenLayer,
  type LayerType,
  type Padding,
  type ParameterName,
  type Pool2dLayer,
  type ResolvedLayer,
} from './types.js';
export { DEFAULT_LEAKY_RELU_ALPHA, MAX_LAYER_WEIGHTS, MAX_SAMPLE_VALUES, formatShape, sizeOf, type ParameterShape } from './kind.js';
export { windowGeometry, type WindowGeometry } from './window.js';
export type { ActivationConfig, BatchNormConfig, Conv2dConfig, DenseConfig, DropoutConfig, FlattenConfig, Pool2dConfig };

/** One layer as users write it, chosen by `type`; a config without `type` is a dense layer. */
export type LayerConfig = DenseConfig | Conv2dConfig | Pool2dConfig | BatchNormConfig | DropoutConfig | FlattenConfig | ActivationConfig;

/** Weight initialization: `'auto'` picks He for the ReLU family and Glorot otherwise. */
export const INITIALIZERS = ['auto', 'he', 'glorot', 'normal0.01'] as const;
/** A weight initialization's name. */
export type InitializerName = (typeof INITIALIZERS)[number];

/** The resolved layer of kind `Type` (`Pool2dLayer` for both pooling kinds). */
type LayerOf<Type extends LayerType> = ResolvedLayer extends infer Layer ? (Layer extends { type: infer Types } ? (Type extends Types ? Layer : never) : never) : never;

/** Every kind, by its `type`. */
const KINDS: { [Type in LayerType]: LayerKind<LayerOf<Type>, LayerConfig> } = {
  dense,
  conv2d,
  maxPool2d,
  avgPool2d,
  batchNorm,
  dropout,
  flatten,
  activation,
};

function kindOf(layer: ResolvedLayer): LayerKind<ResolvedLayer, LayerConfig> {
  return KINDS[layer.type];
}

/** Validates a network's `inputShape` (`argument` names it): `[features]` or `[height, width, channels]`. */
export function checkInputShape(argument: string, value: unknown): number[] {
  const expected = '[features] or [height, width, channels] of positive integers';
  if (!Array.isArray(value)) fail('type', argument, expected, value);
  if (value.length !== 1 && value.length !== 3) fail('range', argument, expected, value);
  value.forEach((extent: unknown, i) => {
    checkPositiveInteger(`${argument}[${i}]`, extent);
  });
  const shape = [...(value as number[])];
  const size = sizeOf(shape);
  if (size > MAX_SAMPLE_VALUES) reject('range', argument, `at most ${MAX_SAMPLE_VALUES} values per sample`, `${formatShape(shape)} (${size} values)`);
  return shape;
}

/**
 * Validates `layers` (the argument of `Network.create`) for samples of `inputShape` (already
 * valid) and fills in every default. Throws a TypeError or RangeError naming `layers[i].field`.
 */
export function resolveLayers(inputShape: readonly number[], layers: unknown): ResolvedLayer[] {
  if (!Array.isArray(layers)) fail('type', 'layers', 'an array of layer configs', layers);
  if (layers.length === 0) fail('range', 'layers', 'at least one layer', layers);
  let shape = inputShape;
  return layers.map((config: unknown, i): ResolvedLayer => {
    const name = `layers[${i}]`;
    if (typeof config !== 'object' || config === null || Array.isArray(config)) {
      fail('type', name, "a layer config like { units: 4 } or { type: 'flatten' }", config);
    }
    const { type = 'dense', ...fields } = config as Record<string, unknown>;
    checkOneOf(`${name}.type`, type, LAYER_TYPES);
    const kind: LayerKind<ResolvedLayer, LayerConfig> = KINDS[type];
    checkKeys(name, fields, kind.keys);
    const layer = kind.resolve(fields, shape, name);
    const size = sizeOf(layer.outputShape);
    if (size > MAX_SAMPLE_VALUES) {
      reject('range', name, `an output of at most ${MAX_SAMPLE_VALUES} values per sample`, `${formatShape(layer.outputShape)} (${size} values)`);
    }
    shape = layer.outputShape;
    return layer;
  });
}

/** The layer's parameter buffers, in the order backends store them, model files hold them and `getWeights()` names them. */
export function parameterShapes(layer: ResolvedLayer): ParameterShape[] {
  return kindOf(layer).parameters(layer);
}

/** The config that resolves back to `layer`, with `type` and every field (what model files store). */
export function layerConfig(layer: ResolvedLayer): LayerConfig {
  return kindOf(layer).config(layer);
}

/** A few words describing `layer`: `4 tanh`, `conv2d 32 3x3 same relu`, `maxPool2d 2x2`. */
export function describeLayer(layer: ResolvedLayer): string {
  return kindOf(layer).label(layer);
}

/**
 * The activation of the network's output, which decides the default loss and which losses fit:
 * the last layer's when it is a dense, conv2d or activation layer, else linear.
 */
export function outputActivation(layers: readonly ResolvedLayer[]): ActivationName {
  const last = layers.at(-1);
  return last !== undefined && 'activation' in last ? last.activation : 'linear';
}

/**
 * Checks `value` as the parameter buffer `shape` (`argument` names it in messages): a
 * Float32Array of its length holding finite values, and non-negative ones for a variance.
 */
export function checkParameter(argument: string, shape: ParameterShape, value: unknown): asserts value is Float32Array {
  const layout = `${shape.shape.map((extent) => `[${extent}]`).join('')} = ${shape.axes.map((axis) => `[${axis}]`).join('')}`;
  checkFloat32Array(argument, value, shape.length, layout);
  checkAllFinite(argument, value, shape.shape.slice(1));
  if (shape.name === 'movingVariance') {
    const at = value.findIndex((variance) => variance < 0);
    if (at >= 0) reject('range', argument, 'values of at least 0 (a variance)', `${String(value[at])} at ${argument}[${at}]`);
  }
}

/** Where the parameters other than weights start (docs/layers.md, "Parameters"). */
const CONSTANT_START: Record<Exclude<ParameterName, 'weights'>, number> = { bias: 0, gamma: 1, beta: 0, movingMean: 0, movingVariance: 1 };

/**
 * Every layer's initial parameters, in parameter order (layer by layer, each in
 * {@link parameterShapes} order): weights drawn from `random` by `init` with the layer's fans,
 * every other buffer a constant. The same seed gives the same parameters on every backend.
 */
export function initialParameters(layers: readonly ResolvedLayer[], init: InitializerName, random: Random): Float32Array[] {
  return layers.flatMap((layer) =>
    parameterShapes(layer).map(({ name, length }) => (name === 'weights' ? initialWeights(layer, length, init, random) : new Float32Array(length).fill(CONSTANT_START[name]))),
  );
}

/** He (`normal * sqrt(2 / fanIn)`), Glorot (`uniform(-l, l)`, `l = sqrt(6 / (fanIn + fanOut))`) or `normal * 0.01`. */
function initialWeights(layer: ResolvedLayer, length: number, init: InitializerName, random: Random): Float32Array {
  const fans = kindOf(layer).fans?.(layer);
  if (fans === undefined) throw new Error(`layers/${layer.type}: a kind with weights must give their fans`);
  const weights = new Float32Array(length);
  const reluFamily = 'activation' in layer && (layer.activation === 'relu' || layer.activation === 'leakyRelu');
  const scheme = init === 'auto' ? (reluFamily ? 'he' : 'glorot') : init;
  if (scheme === 'he') {
    const std = Math.sqrt(2 / fans.fanIn);
    for (let i = 0; i < weights.length; i++) weights[i] = random.normal() * std;
  } else if (scheme === 'glorot') {
    const limit = Math.sqrt(6 / (fans.fanIn + fans.fanOut));
    for (let i = 0; i < weights.length; i++) weights[i] = (2 * random.uniform() - 1) * limit;
  } else {
    for (let i = 0; i < weights.length; i++) weights[i] = random.normal() * 0.01;
  }
  return weights;
}
