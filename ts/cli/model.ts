/**
 * Which network `ferronet train` builds (`--model`): `mlp`, dense layers from `--hidden`;
 * `cnn`, the convolutional network below, for images; or `FILE.json`, any
 * `{ inputShape, layers }`. Also how a network is described in the output: a short title for
 * the pictures and, with `--json`, one JSON line of its layers.
 */

import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import {
  checkInputShape,
  formatShape,
  layerConfig,
  outputActivation,
  parameterShapes,
  resolveLayers,
  sizeOf,
  type ActivationName,
  type LayerConfig,
  type ResolvedLayer,
} from '../layers/index.js';
import type { Network } from '../network.js';
import { quote } from '../validation.js';
import { UsageError } from './args.js';
import type { ClassTarget, ValueTarget } from './data.js';
import { count, describeLayers } from './report.js';

/** The architectures `--model` names; anything ending in `.json` is a model file. */
export const MODEL_NAMES = ['mlp', 'cnn'] as const;

/** What `--model` chose: a named architecture, or the file of one. */
export type ModelChoice = (typeof MODEL_NAMES)[number] | { file: string };

/**
 * The layers of `--model cnn` before its output layer (one dense unit per class follows):
 * two 3x3 convolutions of 32 and 64 filters, each max-pooled by 2, batch norm after the first,
 * then dropout 0.25 and 128 relu units. Inputs are `[height, width, 1]` images. See
 * {@link cnnLayers} for `--dropout`.
 */
export const CNN_LAYERS: readonly LayerConfig[] = [
  { type: 'conv2d', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' },
  { type: 'maxPool2d', poolSize: 2 },
  { type: 'batchNorm' },
  { type: 'conv2d', filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' },
  { type: 'maxPool2d', poolSize: 2 },
  { type: 'flatten' },
  { type: 'dropout', rate: 0.25 },
  { type: 'dense', units: 128, activation: 'relu' },
];

/**
 * The layers of `--model cnn` before its output layer, with `--dropout RATE` in place of its
 * own 0.25 when given (0 drops the layer).
 */
export function cnnLayers(dropout: number | undefined): LayerConfig[] {
  if (dropout === undefined) return [...CNN_LAYERS];
  return CNN_LAYERS.flatMap((layer): LayerConfig[] => (layer.type !== 'dropout' ? [layer] : dropout > 0 ? [{ type: 'dropout', rate: dropout }] : []));
}

/**
 * The hidden layers of `--model mlp`: dense layers of `hidden` units, each followed by a
 * dropout layer of `dropout` when it is above 0.
 */
export function mlpLayers(hidden: readonly number[], activation: ActivationName, dropout: number): LayerConfig[] {
  return hidden.flatMap((units): LayerConfig[] => [{ units, activation }, ...(dropout > 0 ? [{ type: 'dropout' as const, rate: dropout }] : [])]);
}

/** A model file's network, checked: its input shape, its layers as written, and as resolved. */
export interface ModelFile {
  /** The file, for messages. */
  path: string;
  /** The shape of one example. */
  inputShape: number[];
  /** The layers as the file writes them (what `Network.create` takes). */
  layers: LayerConfig[];
  /** The same with every default filled in and every shape known. */
  resolved: ResolvedLayer[];
}

/**
 * Reads and checks `--model FILE.json`: a JSON object `{ inputShape, layers }` that
 * `Network.create` accepts. Every problem is a UsageError naming the file:
 * `net.json: layers[1].poolSize: expected a positive integer or [height, width], got 0`.
 */
export async function readModelFile(path: string): Promise<ModelFile> {
  const invalid = (problem: string): never => {
    throw new UsageError(`${path}: ${problem}`, 'train');
  };
  let text = '';
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    invalid(code === 'ENOENT' ? 'no such file or folder' : code === 'EISDIR' ? 'is a folder, expected a file' : error instanceof Error ? error.message : String(error));
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    invalid(`not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('expected a JSON object { "inputShape": [...], "layers": [...] }');
  const extra = Object.keys(value).find((key) => key !== 'inputShape' && key !== 'layers');
  if (extra !== undefined) invalid(`unknown key ${quote(extra)} (a model file has inputShape and layers)`);
  const { inputShape, layers } = value as Record<string, unknown>;
  if (inputShape === undefined) invalid('no inputShape ([features] or [height, width, channels])');
  if (layers === undefined) invalid('no layers');
  try {
    const shape = checkInputShape('inputShape', inputShape);
    return { path, inputShape: shape, layers: layers as LayerConfig[], resolved: resolveLayers(shape, layers) };
  } catch (error) {
    if (error instanceof TypeError || error instanceof RangeError) return invalid(error.message);
    throw error;
  }
}

/**
 * Checks that a model file's (or a checkpoint's) network fits the data: `inputShape` holds the `features` of an
 * example, and the outputs fit the target (a softmax unit per class, or one sigmoid unit for
 * two classes; one unit for regression). `source` names the data in messages.
 */
export function checkModelFitsData(model: { path: string; inputShape: readonly number[]; resolved: readonly ResolvedLayer[] }, features: number, target: ClassTarget | ValueTarget, source: string): void {
  const invalid = (problem: string): never => {
    throw new UsageError(`${model.path}: ${problem}`, 'train');
  };
  const values = sizeOf(model.inputShape);
  if (values !== features) invalid(`inputShape ${formatShape(model.inputShape)} holds ${values} values per example, but ${source} has ${features}`);
  const last = model.resolved.at(-1) as ResolvedLayer;
  const outputs = sizeOf(last.outputShape);
  const activation = outputActivation(model.resolved);
  const given = `the last layer gives ${formatShape(last.outputShape)} ${activation} outputs`;
  if (target.task === 'regression') {
    if (outputs !== 1) invalid(`${given}; regression needs 1 output (linear)`);
    return;
  }
  const classes = target.classes.length;
  const fits = (activation === 'softmax' && outputs === classes) || (classes === 2 && activation === 'sigmoid' && outputs === 1);
  if (!fits) invalid(`${given}; the ${classes} classes of ${source} need ${classes} softmax outputs${classes === 2 ? ' or 1 sigmoid output' : ''}`);
}

/** Parameters of `layer`: every buffer's floats. */
function parameterCount(layer: ResolvedLayer): number {
  return parameterShapes(layer).reduce((sum, { length }) => sum + length, 0);
}

/** Titles longer than this are too wide for the pictures; see {@link architectureTitle}. */
const MAX_TITLE_ARCHITECTURE = 80;

/**
 * The network for the pictures' titles: its layers (`784 → 256 relu → 128 relu → 10 softmax`)
 * when they fit on a line, else `name: 9 layers, 421,770 parameters`.
 */
export function architectureTitle(network: Network, name: string): string {
  const layers = describeLayers(network);
  if (layers.length <= MAX_TITLE_ARCHITECTURE) return layers;
  const parameters = network.layers.reduce((sum, layer) => sum + parameterCount(layer), 0);
  return `${name}: ${network.layers.length} layers, ${count(parameters)} parameters`;
}

/** The name of what `--model` chose, for titles: `mlp`, `cnn` or the file's name. */
export function modelName(choice: ModelChoice): string {
  return typeof choice === 'string' ? choice : basename(choice.file);
}

/**
 * The network as `--json` prints it before the epochs, the JSON form of `net.summary()`:
 * `{"inputShape", "layers": [{...config, "outputShape", "params"}], "params", "trainableParams"}`,
 * each layer's config with every default filled in.
 */
export function modelJson(network: Network): Record<string, unknown> {
  const layers = network.layers.map((layer) => ({ ...layerConfig(layer), outputShape: [...layer.outputShape], params: parameterCount(layer) }));
  const shapes = network.layers.flatMap(parameterShapes);
  return {
    inputShape: [...network.inputShape],
    layers,
    params: shapes.reduce((sum, { length }) => sum + length, 0),
    trainableParams: shapes.reduce((sum, { length, trainable }) => sum + (trainable ? length : 0), 0),
  };
}
