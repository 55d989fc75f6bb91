/**
 * The playground's whole state, how it reads from and writes to the URL (a link reproduces
 * it), and the ferronet options it stands for. The page, its worker, "Show the code" and the
 * end-to-end test all go through {@link networkOptions} and {@link trainerOptions}.
 */

import type { ActivationName, LayerConfig, NetworkOptions, OptimizerConfig, OptimizerName, TrainerOptions } from 'ferronet';
import { DATASETS, FEATURES, featurize, split, type DatasetName, type FeatureName, type Points } from './playground-data.js';

export const HIDDEN_ACTIVATIONS = ['tanh', 'relu', 'leakyRelu', 'sigmoid', 'linear'] as const satisfies readonly ActivationName[];
export type HiddenActivation = (typeof HIDDEN_ACTIVATIONS)[number];
export const PLAYGROUND_OPTIMIZERS = ['sgd', 'momentum', 'adam', 'adamw', 'rmsprop'] as const satisfies readonly OptimizerName[];
export const FEATURE_NAMES = Object.keys(FEATURES) as FeatureName[];
export const MAX_LAYERS = 6;
export const MAX_UNITS = 8;
/** The largest batch: at most the training samples of the smallest split (10% of 400). */
export const MAX_BATCH = 40;

export interface PlaygroundState {
  dataset: DatasetName;
  /** The data set's noise (a standard deviation, in the plane's units). */
  noise: number;
  /** Percent of the samples that train; the rest test. */
  trainPercent: number;
  /** Seeds the data, the split, the initial weights, the shuffling and the dropout masks. */
  seed: number;
  /** Inputs, in {@link FEATURE_NAMES} order. */
  features: FeatureName[];
  /** Units of each hidden layer, first to last. */
  layers: number[];
  activation: HiddenActivation;
  optimizer: OptimizerName;
  learningRate: number;
  batchSize: number;
  weightDecay: number;
  /** Dropout rate after each hidden layer; 0 for none. */
  dropout: number;
  /** Epochs trained: a link with `epoch=N` trains N epochs when it opens, then pauses. */
  epoch: number;
}

export const DEFAULT_STATE: PlaygroundState = {
  dataset: 'circles',
  noise: 0.2,
  trainPercent: 50,
  seed: 1,
  features: ['x1', 'x2'],
  layers: [4, 2],
  activation: 'tanh',
  optimizer: 'adam',
  learningRate: 0.03,
  batchSize: 10,
  weightDecay: 0,
  dropout: 0,
  epoch: 0,
};

/** The state as URL search parameters (the page keeps them in its hash). */
export function encodeState(state: PlaygroundState): string {
  const params = new URLSearchParams({
    dataset: state.dataset,
    noise: String(state.noise),
    train: String(state.trainPercent),
    seed: String(state.seed),
    features: state.features.join(','),
    layers: state.layers.join(','),
    activation: state.activation,
    optimizer: state.optimizer,
    lr: String(state.learningRate),
    batch: String(state.batchSize),
    decay: String(state.weightDecay),
    dropout: String(state.dropout),
    epoch: String(state.epoch),
  });
  return params.toString();
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}

/** Reads a state from URL search parameters; anything missing or unreadable takes its default. */
export function decodeState(query: string): PlaygroundState {
  const params = new URLSearchParams(query.replace(/^[#?]/, ''));
  const state = structuredClone(DEFAULT_STATE);
  const number = (key: string, fallback: number, low: number, high: number, integer = false): number => {
    const text = params.get(key);
    const value = text === null || text.trim() === '' ? Number.NaN : Number(text);
    if (!Number.isFinite(value)) return fallback;
    return clamp(integer ? Math.round(value) : value, low, high);
  };
  const dataset = params.get('dataset');
  if (dataset !== null && dataset in DATASETS) state.dataset = dataset as DatasetName;
  state.noise = number('noise', state.noise, 0, 2);
  state.trainPercent = number('train', state.trainPercent, 10, 90, true);
  state.seed = number('seed', state.seed, 0, 2 ** 31 - 1, true);
  const features = params.get('features');
  if (features !== null) {
    const chosen = FEATURE_NAMES.filter((name) => features.split(',').includes(name));
    if (chosen.length > 0) state.features = chosen;
  }
  const layers = params.get('layers');
  if (layers !== null) {
    const units = layers === '' ? [] : layers.split(',').map(Number);
    if (units.length <= MAX_LAYERS && units.every((n) => Number.isInteger(n) && n >= 1 && n <= MAX_UNITS)) state.layers = units;
  }
  const activation = params.get('activation');
  if ((HIDDEN_ACTIVATIONS as readonly string[]).includes(activation ?? '')) state.activation = activation as HiddenActivation;
  const optimizer = params.get('optimizer');
  if ((PLAYGROUND_OPTIMIZERS as readonly string[]).includes(optimizer ?? '')) state.optimizer = optimizer as OptimizerName;
  state.learningRate = number('lr', state.learningRate, 1e-6, 10);
  state.batchSize = number('batch', state.batchSize, 1, MAX_BATCH, true);
  state.weightDecay = number('decay', state.weightDecay, 0, 1);
  state.dropout = number('dropout', state.dropout, 0, 0.9);
  state.epoch = number('epoch', state.epoch, 0, 100_000, true);
  return state;
}

/** The layers the state describes: each hidden dense layer (then dropout, if any), and one sigmoid unit. */
export function layerConfigs(state: PlaygroundState): LayerConfig[] {
  const hidden = state.layers.flatMap((units): LayerConfig[] =>
    state.dropout > 0 ? [{ units, activation: state.activation }, { type: 'dropout', rate: state.dropout }] : [{ units, activation: state.activation }],
  );
  return [...hidden, { units: 1, activation: 'sigmoid' }];
}

export function networkOptions(state: PlaygroundState): NetworkOptions {
  // The playground trains on wasm; said explicitly, since 'auto' would take the native addon in Node.
  return { inputSize: state.features.length, layers: layerConfigs(state), seed: state.seed, backend: 'wasm' };
}

export function optimizerConfig(state: PlaygroundState): OptimizerConfig {
  const { optimizer: name, learningRate, weightDecay } = state;
  return { name, learningRate, weightDecay };
}

export function trainerOptions(state: PlaygroundState): TrainerOptions {
  return { loss: 'binaryCrossEntropy', optimizer: optimizerConfig(state), batchSize: state.batchSize, seed: state.seed };
}

/** The state's data: points split into train and test, and the networks' inputs for each. */
export interface PlaygroundData {
  train: Points;
  test: Points;
  trainInputs: Float32Array;
  testInputs: Float32Array;
}

export function makeData(state: PlaygroundState): PlaygroundData {
  const all = DATASETS[state.dataset].make(state.noise, state.seed);
  const { train, test } = split(all, state.trainPercent, state.seed + 1);
  return { train, test, trainInputs: featurize(train.x, state.features), testInputs: featurize(test.x, state.features) };
}
