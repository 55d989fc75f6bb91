/**
 * TensorFlow.js layers models in and out: `model.json` (a Keras architecture and a weights
 * manifest) with its float32 weight shards, as `model.save` writes them and
 * `tf.loadLayersModel` reads them. The rules (docs/interop.md):
 *
 * - Sequential models of InputLayer, Dense, Conv2D, MaxPooling2D, AveragePooling2D,
 *   BatchNormalization, Flatten, Dropout, Activation and LeakyReLU; channels_last, float32.
 * - Keras keeps a kernel's output axis last (dense `[in][out]`, conv `[kh][kw][in][out]`) where
 *   ferronet keeps it first; weights are found by name, `<layer name>/<weight>`.
 * - Keras has no leaky-ReLU activation string: a dense or conv2d layer whose activation is
 *   `leakyRelu` is written as that layer with `linear` followed by a LeakyReLU named
 *   `<layer name>_leaky_relu`, and on import only a LeakyReLU so named, right after a linear
 *   Dense or Conv2D, folds back into it. Any other LeakyReLU becomes an activation layer, so
 *   round trips give back the same layers.
 * - The network's metadata is the model's `userDefinedMetadata`.
 *
 * It imports nothing from Node, so browsers bundle it: {@link readTfjs} is handed a file reader.
 */

import { ModelFileError, type JsonObject, type ModelContents } from '../io/model-file.js';
import { checkInputShape, formatShape, parameterShapes, resolveLayers, type ActivationName, type Conv2dLayer, type DenseLayer, type ParameterName, type ResolvedLayer } from '../layers/index.js';
import { clip, describe, fail, quote } from '../validation.js';
import { VERSION } from '../version.js';
import { importedContents } from './contents.js';
import { inverse, permute } from './layout.js';

/** One layer of a Keras Sequential model, as model.json holds it (config keys in snake_case). */
export interface KerasLayerJson {
  /** The Keras layer class: `Dense`, `Conv2D`, ... */
  class_name: string;
  /** The layer's config, `name` included. */
  config: JsonObject;
}

/** One weight in a weights manifest: `<layer name>/<weight>` (`dense_1/kernel`), its shape in Keras's layout. */
export interface TfjsWeightSpec {
  /** The weight's name. */
  name: string;
  /** Its extents, row-major. */
  shape: number[];
  /** Always float32 here. */
  dtype: 'float32';
}

/** A `model.json` as `tf.loadLayersModel` reads it. */
export interface TfjsModelJson {
  /** The Keras architecture: a Sequential model whose first layer is an InputLayer. */
  modelTopology: {
    /** The Keras model class. */
    class_name: 'Sequential';
    /** The model's name and its layers, first to last. */
    config: {
      /** `ferronet`. */
      name: string;
      /** The layers, the InputLayer first. */
      layers: KerasLayerJson[];
    };
  };
  /** What kind of TensorFlow.js model this is. */
  format: 'layers-model';
  /** `ferronet <version>`. */
  generatedBy: string;
  /** Null: nothing converted the model, ferronet wrote it. */
  convertedBy: null;
  /** One group: the one weight shard and every weight in it, in order. */
  weightsManifest: {
    /** The shard files, relative to model.json: `['weights.bin']`. */
    paths: string[];
    /** The weights, in the order their bytes follow each other. */
    weights: TfjsWeightSpec[];
  }[];
  /** The network's `metadata` (`model.getUserDefinedMetadata()` in TensorFlow.js). */
  userDefinedMetadata: JsonObject;
}

/**
 * A network as a TensorFlow.js layers model: what `model.json` holds, and the one weight shard
 * it names (`weights.bin`): every weight as little-endian float32, in manifest order. Write both
 * into a folder for `tf.loadLayersModel('…/model.json')`, or hand them over in memory with
 * `tf.io.fromMemory({ modelTopology, weightSpecs: weightsManifest[0].weights, weightData })`.
 */
export interface TfjsArtifacts {
  /** The `model.json` object: modelTopology, format, generatedBy, convertedBy, weightsManifest, userDefinedMetadata. */
  modelJson: TfjsModelJson;
  /** The weight shard's bytes. */
  weightData: ArrayBuffer;
}

/** The file name of the one shard {@link encodeTfjs} writes, beside model.json. */
const SHARD_NAME = 'weights.bin';

/** Appended to a Dense or Conv2D layer's name to name the LeakyReLU that is its activation. */
const LEAKY_RELU_SUFFIX = '_leaky_relu';

/** Keras's default LeakyReLU slope (ferronet's is PyTorch's 0.01). */
const KERAS_LEAKY_RELU_ALPHA = 0.3;

/** The Keras activation strings ferronet has (leaky ReLU is a layer in Keras). */
const KERAS_ACTIVATIONS = ['linear', 'relu', 'tanh', 'sigmoid', 'softmax'] as const satisfies readonly ActivationName[];

/** Keras's names for ferronet's parameter buffers. */
const KERAS_WEIGHT_NAMES: Record<ParameterName, string> = {
  weights: 'kernel',
  bias: 'bias',
  gamma: 'gamma',
  beta: 'beta',
  movingMean: 'moving_mean',
  movingVariance: 'moving_variance',
};

/** The axis order taking a ferronet buffer of `rank` axes to Keras's layout: the output axis, ferronet's first, moves last. */
function kerasOrder(rank: number): number[] {
  return Array.from({ length: rank }, (_, axis) => (axis + 1) % rank);
}

/**
 * The network in `contents` as a TensorFlow.js layers model (see {@link TfjsArtifacts}). Layers
 * are named `<type>_<position>` (`dense_1`, `conv2d_2`) and weights `<layer>/<weight>`. Throws a
 * RangeError for a flatten of a flat input, which TensorFlow.js's Flatten refuses.
 */
export function encodeTfjs({ header, parameters }: ModelContents): TfjsArtifacts {
  const inputLayer: KerasLayerJson = { class_name: 'InputLayer', config: { name: 'input', batch_input_shape: [null, ...header.inputShape], dtype: 'float32', sparse: false } };
  const layers = [inputLayer];
  const weights: TfjsWeightSpec[] = [];
  const buffers: Float32Array[] = [];
  header.layers.forEach((layer, index) => {
    const name = `${layer.type}_${index + 1}`;
    if (layer.type === 'flatten' && layer.inputShape.length === 1) {
      throw new RangeError(
        `toTfjs: layers[${index}] flattens a flat ${formatShape(layer.inputShape)} input, which TensorFlow.js cannot load (its Flatten needs 2 or more axes); the layer changes nothing, so remove it`,
      );
    }
    layers.push(...kerasLayers(layer, name));
    for (const shape of parameterShapes(layer)) {
      const order = kerasOrder(shape.shape.length);
      weights.push({ name: `${name}/${KERAS_WEIGHT_NAMES[shape.name]}`, shape: order.map((axis) => shape.shape[axis] as number), dtype: 'float32' });
      // One Keras weight per ferronet buffer, in the same order: the next buffer is parameters[buffers.length].
      buffers.push(permute(parameters[buffers.length] as Float32Array, shape.shape, order));
    }
  });
  const weightData = new ArrayBuffer(4 * buffers.reduce((sum, values) => sum + values.length, 0));
  const view = new DataView(weightData);
  let offset = 0;
  for (const values of buffers) {
    for (const value of values) {
      view.setFloat32(offset, value, true);
      offset += 4;
    }
  }
  const modelJson: TfjsModelJson = {
    modelTopology: { class_name: 'Sequential', config: { name: 'ferronet', layers } },
    format: 'layers-model',
    generatedBy: `ferronet ${VERSION}`,
    convertedBy: null,
    weightsManifest: [{ paths: [SHARD_NAME], weights }],
    // A copy, so that changing the artifacts never changes the network's metadata.
    userDefinedMetadata: structuredClone(header.metadata),
  };
  return { modelJson, weightData };
}

/** The Keras layers that compute `layer`, named `name` (two for a dense or conv2d with leakyRelu). */
function kerasLayers(layer: ResolvedLayer, name: string): KerasLayerJson[] {
  switch (layer.type) {
    case 'dense':
      return withActivation(layer, 'Dense', { name, units: layer.units, use_bias: layer.useBias });
    case 'conv2d':
      return withActivation(layer, 'Conv2D', {
        name,
        filters: layer.filters,
        kernel_size: [...layer.kernelSize],
        strides: [...layer.strides],
        padding: layer.padding,
        data_format: 'channels_last',
        dilation_rate: [1, 1],
        use_bias: layer.useBias,
      });
    case 'maxPool2d':
    case 'avgPool2d':
      return [
        {
          class_name: layer.type === 'maxPool2d' ? 'MaxPooling2D' : 'AveragePooling2D',
          config: { name, pool_size: [...layer.poolSize], strides: [...layer.strides], padding: layer.padding, data_format: 'channels_last' },
        },
      ];
    case 'batchNorm':
      return [{ class_name: 'BatchNormalization', config: { name, axis: -1, momentum: layer.momentum, epsilon: layer.epsilon, center: true, scale: true } }];
    case 'dropout':
      return [{ class_name: 'Dropout', config: { name, rate: layer.rate, noise_shape: null, seed: null } }];
    case 'flatten':
      return [{ class_name: 'Flatten', config: { name } }];
    case 'activation':
      return [layer.activation === 'leakyRelu' ? leakyReluLayer(name, layer.alpha) : { class_name: 'Activation', config: { name, activation: layer.activation } }];
  }
}

/** A Dense or Conv2D with `config`; a leakyRelu activation becomes `linear` and the LeakyReLU named after the layer. */
function withActivation(layer: DenseLayer | Conv2dLayer, className: string, config: JsonObject & { name: string }): KerasLayerJson[] {
  if (layer.activation !== 'leakyRelu') return [{ class_name: className, config: { ...config, activation: layer.activation } }];
  return [{ class_name: className, config: { ...config, activation: 'linear' } }, leakyReluLayer(`${config.name}${LEAKY_RELU_SUFFIX}`, layer.alpha)];
}

function leakyReluLayer(name: string, alpha: number): KerasLayerJson {
  return { class_name: 'LeakyReLU', config: { name, alpha } };
}

/**
 * Reads a TensorFlow.js layers model: `modelJson` as model.json holds it (parsed), `weightData`
 * its weight shards concatenated in manifest order. Everything is checked (the architecture,
 * every weight's name, dtype and shape, the byte count); any problem is a ModelFileError
 * prefixed with `source`. A `weightData` of another type is a TypeError.
 */
export function decodeTfjs(modelJson: unknown, weightData: ArrayBuffer | Uint8Array, source: string): ModelContents {
  const bytes = weightData instanceof Uint8Array ? weightData : weightData instanceof ArrayBuffer ? new Uint8Array(weightData) : null;
  if (bytes === null) fail('type', 'weightData', 'an ArrayBuffer or a Uint8Array (the weight shards, concatenated in manifest order)', weightData);
  return asModelFileError(source, () => {
    const json = modelJsonObject(modelJson);
    const weights = readWeights(readManifest(json), bytes);
    const model = readSequential(json);
    const used = new Set<string>();
    const contents = importedContents(
      source,
      model.inputShape,
      model.layers,
      (_, index, shapes) =>
        shapes.map((shape) => {
          const origin = model.origins[index] as LayerOrigin;
          const constant = origin.constants[shape.name];
          if (constant !== undefined) return new Float32Array(shape.length).fill(constant);
          const name = `${origin.name}/${KERAS_WEIGHT_NAMES[shape.name]}`;
          const weight = weights.get(name);
          if (weight === undefined) throw new RangeError(`${origin.label}: the weights manifest has no weight ${quote(name)}`);
          const order = kerasOrder(shape.shape.length);
          const kerasShape = order.map((axis) => shape.shape[axis] as number);
          if (formatShape(weight.shape) !== formatShape(kerasShape)) {
            throw new RangeError(`weight ${quote(name)}: shape ${formatShape(weight.shape)}, where ${origin.label} needs ${formatShape(kerasShape)}`);
          }
          used.add(name);
          return permute(weight.values, kerasShape, inverse(order));
        }),
      metadataOf(json),
    );
    const leftover = [...weights.keys()].find((name) => !used.has(name));
    if (leftover !== undefined) throw new RangeError(`weightsManifest: weight ${quote(leftover)} belongs to none of the layers' weights`);
    return contents;
  });
}

/**
 * Reads `path` (a model.json) with `readFile`, then each of its `weightsManifest[].paths` from
 * model.json's folder, and decodes them as {@link decodeTfjs} does. A shard path that could leave
 * that folder (absolute, a URL, a drive, `..`, a backslash) is a ModelFileError before anything
 * else is read; errors from `readFile` itself (a missing shard) pass through.
 */
export async function readTfjs(path: string, readFile: (path: string) => Promise<Uint8Array>): Promise<ModelContents> {
  const text = await readFile(path);
  const modelJson = asModelFileError(path, () => {
    try {
      return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(text)) as unknown;
    } catch (error) {
      throw new RangeError(`not JSON (${error instanceof Error ? error.message : String(error)}); expected a TensorFlow.js model.json`);
    }
  });
  // Either separator ends model.json's folder: Windows paths use backslashes.
  const folder = path.slice(0, Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')) + 1);
  const shardPaths = asModelFileError(path, () =>
    readManifest(modelJsonObject(modelJson)).flatMap(({ paths }, group) => paths.map((shard, p) => folder + checkShardPath(`weightsManifest[${group}].paths[${p}]`, shard))),
  );
  const shards: Uint8Array[] = [];
  for (const shardPath of shardPaths) shards.push(await readFile(shardPath));
  const weightData = new Uint8Array(shards.reduce((sum, shard) => sum + shard.length, 0));
  let offset = 0;
  for (const shard of shards) {
    weightData.set(shard, offset);
    offset += shard.length;
  }
  return decodeTfjs(modelJson, weightData, path);
}

/** `run()`, with its TypeErrors and RangeErrors as ModelFileErrors prefixed with `source`. */
function asModelFileError<T>(source: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof ModelFileError) throw error;
    if (error instanceof TypeError || error instanceof RangeError) throw new ModelFileError(`${source}: ${error.message}`);
    throw error;
  }
}

/** `shard` when it names a file inside model.json's folder, as a path relative to it with '/' between folders. */
function checkShardPath(where: string, shard: string): string {
  const leaves = shard === '' || shard.startsWith('/') || shard.includes(':') || shard.includes('\\') || shard.includes('\0') || shard.split('/').includes('..');
  if (leaves) {
    throw new RangeError(
      `${where}: expected a file inside model.json's folder, relative to it with '/' between folders (no '..', absolute path, drive, URL or backslash, which Windows reads as a separator), got ${clip(JSON.stringify(shard))}`,
    );
  }
  return shard;
}

type Fields = Record<string, unknown>;

function objectAt(where: string, value: unknown): Fields {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`${where}: expected an object, got ${describe(value)}`);
  return value as Fields;
}

function modelJsonObject(modelJson: unknown): Fields {
  if (typeof modelJson !== 'object' || modelJson === null || Array.isArray(modelJson)) {
    throw new TypeError(`expected the model.json object (its parsed JSON, with modelTopology and weightsManifest), got ${describe(modelJson)}`);
  }
  const json = modelJson as Fields;
  if (json.format !== undefined && json.format !== 'layers-model') {
    throw new RangeError(`format: expected "layers-model", got ${describe(json.format)} (a "graph-model" is for tf.loadGraphModel, and ferronet reads layers models only)`);
  }
  return json;
}

/** One weight of a weights manifest; `model` is false for a model saved with its optimizer's weights. */
interface ManifestWeight {
  name: string;
  shape: number[];
  model: boolean;
}

/** The manifest's groups: their shard paths and weights, in order, each weight checked. */
function readManifest(json: Fields): { paths: string[]; weights: ManifestWeight[] }[] {
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest)) throw new TypeError(`weightsManifest: expected an array of { paths, weights }, got ${describe(manifest)}`);
  return manifest.map((item: unknown, g) => {
    const where = `weightsManifest[${g}]`;
    const { paths, weights } = objectAt(where, item);
    if (!Array.isArray(paths) || !paths.every((path) => typeof path === 'string')) {
      throw new TypeError(`${where}.paths: expected an array of shard file names, got ${describe(paths)}`);
    }
    if (!Array.isArray(weights)) throw new TypeError(`${where}.weights: expected an array of weight specs, got ${describe(weights)}`);
    return { paths, weights: weights.map((spec: unknown, w) => readWeightSpec(`${where}.weights[${w}]`, spec)) };
  });
}

function readWeightSpec(where: string, spec: unknown): ManifestWeight {
  const { name, shape, dtype, group, quantization } = objectAt(where, spec);
  if (typeof name !== 'string') throw new TypeError(`${where}.name: expected a string, got ${describe(name)}`);
  const label = `weight ${quote(name)}`;
  if (!Array.isArray(shape) || !shape.every((extent) => Number.isSafeInteger(extent) && (extent as number) >= 0)) {
    throw new RangeError(`${label}: shape: expected an array of non-negative integers, got ${clip(JSON.stringify(shape))}`);
  }
  if (quantization !== undefined && quantization !== null) {
    const to = typeof quantization === 'object' && 'dtype' in quantization ? describe(quantization.dtype) : describe(quantization);
    throw new RangeError(`${label}: quantized (to ${to}); ferronet reads float32 weights: save the model without quantization`);
  }
  // An optimizer's weights (model.save with includeOptimizer) are skipped; its step count is int32.
  const model = group !== 'optimizer';
  if (dtype !== 'float32' && (model || dtype !== 'int32')) throw new RangeError(`${label}: dtype ${describe(dtype)}; ferronet reads float32 weights`);
  return { name, shape: shape as number[], model };
}

/** The model's weights by name, read from `bytes`, which must hold exactly the manifest's weights. */
function readWeights(groups: readonly { weights: readonly ManifestWeight[] }[], bytes: Uint8Array): Map<string, { shape: number[]; values: Float32Array }> {
  const specs = groups.flatMap((group) => group.weights);
  const needed = specs.reduce((sum, { shape }) => sum + 4 * shape.reduce((product, extent) => product * extent, 1), 0);
  if (needed !== bytes.length) {
    const problem = needed > bytes.length ? 'truncated weight data' : 'weight data too long';
    throw new RangeError(`${problem}: ${bytes.length} bytes, where the weights manifest's weights take ${needed}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const weights = new Map<string, { shape: number[]; values: Float32Array }>();
  let offset = 0;
  for (const { name, shape, model } of specs) {
    const values = new Float32Array(shape.reduce((product, extent) => product * extent, 1));
    for (let i = 0; i < values.length; i++, offset += 4) values[i] = view.getFloat32(offset, true);
    if (!model) continue;
    if (weights.has(name)) throw new RangeError(`weightsManifest: two weights named ${quote(name)}`);
    weights.set(name, { shape, values });
  }
  return weights;
}

function metadataOf(json: Fields): JsonObject {
  const { userDefinedMetadata } = json;
  if (userDefinedMetadata === undefined || userDefinedMetadata === null) return {};
  // A copy, so that the network's metadata and the caller's object never change together.
  return structuredClone(objectAt('userDefinedMetadata', userDefinedMetadata)) as JsonObject;
}

/** Where a ferronet layer came from: its Keras layer's name, a label for messages, and the buffers Keras left out. */
interface LayerOrigin {
  name: string;
  label: string;
  /** Buffers the Keras layer does not have, with their constant value (a BatchNormalization without center or scale). */
  constants: Partial<Record<ParameterName, number>>;
}

/** A Keras layer as a ferronet layer config, and the buffers it leaves out. */
interface Converted {
  config: Fields;
  constants?: Partial<Record<ParameterName, number>>;
}

/** Converts one Keras layer (`label` names it in messages) receiving samples of `inputShape`. */
type Converter = (config: Fields, label: string, inputShape: readonly number[]) => Converted;

/** Every Keras class ferronet reads besides InputLayer, with Keras's defaults for absent fields. */
const CONVERTERS = new Map<string, Converter>([
  [
    'Dense',
    (config, label, inputShape) => {
      if (inputShape.length !== 1) {
        throw new RangeError(`${label}: Keras applies Dense to the last axis of its ${formatShape(inputShape)} input; ferronet's dense takes flat inputs: put a Flatten before it`);
      }
      return { config: { type: 'dense', units: config.units, activation: activationOf(label, config.activation), useBias: config.use_bias ?? true } };
    },
  ],
  [
    'Conv2D',
    (config, label) => {
      checkChannelsLast(label, config);
      const dilation = config.dilation_rate ?? 1;
      if (!(dilation === 1 || (Array.isArray(dilation) && dilation.every((rate) => rate === 1)))) {
        throw new RangeError(`${label}: dilation_rate ${clip(JSON.stringify(dilation))}; ferronet's convolutions are not dilated (1 only)`);
      }
      if ((config.groups ?? 1) !== 1) throw new RangeError(`${label}: groups ${describe(config.groups)}; ferronet's convolutions are not grouped (1 only)`);
      const fields = { filters: config.filters, kernelSize: config.kernel_size, strides: config.strides ?? 1, padding: config.padding ?? 'valid' };
      return { config: { type: 'conv2d', ...fields, activation: activationOf(label, config.activation), useBias: config.use_bias ?? true } };
    },
  ],
  ['MaxPooling2D', (config, label) => ({ config: { type: 'maxPool2d', ...poolFields(config, label) } })],
  ['AveragePooling2D', (config, label) => ({ config: { type: 'avgPool2d', ...poolFields(config, label) } })],
  [
    'BatchNormalization',
    (config, label, inputShape) => {
      // Keras counts the batch axis: the last axis of a sample of rank r is r.
      const axis = Array.isArray(config.axis) && config.axis.length === 1 ? (config.axis[0] as unknown) : (config.axis ?? -1);
      if (axis !== -1 && axis !== inputShape.length) {
        throw new RangeError(`${label}: axis ${clip(JSON.stringify(config.axis))}; ferronet normalizes over the last axis only (-1 or ${inputShape.length} here)`);
      }
      const constants: Partial<Record<ParameterName, number>> = {};
      if (!flag(label, 'center', config.center)) constants.beta = 0;
      if (!flag(label, 'scale', config.scale)) constants.gamma = 1;
      return { config: { type: 'batchNorm', momentum: config.momentum ?? 0.99, epsilon: config.epsilon ?? 1e-3 }, constants };
    },
  ],
  [
    'Flatten',
    (config, label) => {
      checkChannelsLast(label, config);
      return { config: { type: 'flatten' } };
    },
  ],
  [
    'Dropout',
    (config, label) => {
      if (config.noise_shape !== undefined && config.noise_shape !== null) {
        throw new RangeError(`${label}: noise_shape ${clip(JSON.stringify(config.noise_shape))}; ferronet drops each element on its own (noise_shape null)`);
      }
      return { config: { type: 'dropout', rate: config.rate } };
    },
  ],
  ['Activation', (config, label) => ({ config: { type: 'activation', activation: activationOf(label, config.activation) } })],
  ['LeakyReLU', (config) => ({ config: { type: 'activation', activation: 'leakyRelu', alpha: leakyReluAlpha(config) } })],
]);

/** The classes a model may have, for messages. */
const SUPPORTED_CLASSES = ['InputLayer', ...CONVERTERS.keys()];

/** The layers of a Sequential model as ferronet configs, its input shape, and each layer's origin. */
function readSequential(json: Fields): { inputShape: number[]; layers: Fields[]; origins: LayerOrigin[] } {
  let topology = objectAt('modelTopology', json.modelTopology);
  // The Python converter wraps the Keras model with its training config.
  if (topology.model_config !== undefined && topology.model_config !== null) topology = objectAt('modelTopology.model_config', topology.model_config);
  if (topology.class_name !== 'Sequential') {
    const functional = topology.class_name === 'Model' || topology.class_name === 'Functional' ? ', a functional model (tf.model)' : '';
    throw new RangeError(`modelTopology.class_name: expected "Sequential" (ferronet reads Sequential models), got ${describe(topology.class_name)}${functional}`);
  }
  // Old Keras writes a Sequential config as its array of layers.
  const list = Array.isArray(topology.config) ? topology.config : objectAt('modelTopology.config', topology.config).layers;
  if (!Array.isArray(list)) throw new TypeError(`modelTopology.config.layers: expected an array of layers, got ${describe(list)}`);

  let inputShape: number[] | null = null;
  const layers: Fields[] = [];
  const origins: LayerOrigin[] = [];
  const placed: ResolvedLayer[] = [];
  const names = new Set<string>();
  for (const [i, item] of (list as unknown[]).entries()) {
    const { class_name: className, config: rawConfig } = objectAt(`modelTopology.config.layers[${i}]`, item);
    if (typeof className !== 'string') throw new TypeError(`modelTopology.config.layers[${i}].class_name: expected a string, got ${describe(className)}`);
    const config = objectAt(`modelTopology.config.layers[${i}].config`, rawConfig);
    const { name } = config;
    if (typeof name !== 'string') throw new TypeError(`modelTopology.config.layers[${i}].config.name: expected a string, got ${describe(name)}`);
    const label = `layer ${quote(name)} (${clip(className)})`;
    if (names.has(name)) throw new RangeError(`${label}: a second layer named ${quote(name)}`);
    names.add(name);
    if (typeof config.dtype === 'string' && config.dtype !== 'float32') throw new RangeError(`${label}: dtype ${describe(config.dtype)}; ferronet computes in float32`);
    if (className === 'InputLayer') {
      if (i !== 0) throw new RangeError(`${label}: an InputLayer must come first`);
      inputShape = batchShape(label, 'batch_input_shape' in config ? config.batch_input_shape : config.batch_shape);
      continue;
    }
    const convert = CONVERTERS.get(className);
    if (convert === undefined) throw new RangeError(`${label}: ferronet has no ${clip(className)} layer; it reads ${SUPPORTED_CLASSES.join(', ')}`);
    if (inputShape === null) {
      if (config.batch_input_shape === undefined || config.batch_input_shape === null) {
        throw new RangeError(`${label}: no input shape: expected an InputLayer first, or batch_input_shape on the first layer`);
      }
      inputShape = batchShape(label, config.batch_input_shape);
    }
    const previous = placed.at(-1);
    if (className === 'LeakyReLU' && previous !== undefined && isFoldTarget(previous) && name === `${(origins.at(-1) as LayerOrigin).name}${LEAKY_RELU_SUFFIX}`) {
      const folded = { ...(layers.at(-1) as Fields), activation: 'leakyRelu', alpha: leakyReluAlpha(config) };
      placed[placed.length - 1] = resolveOne(label, previous.inputShape, folded);
      layers[layers.length - 1] = folded;
      continue;
    }
    const converted = convert(config, label, previous?.outputShape ?? inputShape);
    placed.push(resolveOne(label, previous?.outputShape ?? inputShape, converted.config));
    layers.push(converted.config);
    origins.push({ name, label, constants: converted.constants ?? {} });
  }
  if (inputShape === null || layers.length === 0) throw new RangeError(`modelTopology.config.layers: expected at least one layer besides an InputLayer, got ${list.length}`);
  return { inputShape, layers, origins };
}

/** Whether a LeakyReLU named after `layer` is its activation: a linear Dense or Conv2D. */
function isFoldTarget(layer: ResolvedLayer): layer is DenseLayer | Conv2dLayer {
  return (layer.type === 'dense' || layer.type === 'conv2d') && layer.activation === 'linear';
}

/** `config` resolved as ferronet's layer for samples of `inputShape`, with messages naming the Keras layer. */
function resolveOne(label: string, inputShape: readonly number[], config: Fields): ResolvedLayer {
  try {
    return resolveLayers(inputShape, [config])[0] as ResolvedLayer;
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    const message = error.message.replace(/^layers\[0\](\.|: )/, `${label}: `);
    throw error instanceof TypeError ? new TypeError(message) : new RangeError(message);
  }
}

/** A sample's shape from Keras's `[null, ...shape]`. */
function batchShape(label: string, value: unknown): number[] {
  if (!Array.isArray(value) || value.length < 2) {
    throw new RangeError(`${label}: batch_input_shape: expected [null, features] or [null, height, width, channels], got ${clip(JSON.stringify(value))}`);
  }
  return checkInputShape(`${label}: batch_input_shape[1:]`, value.slice(1));
}

/** A Keras activation string as ferronet's activation. */
function activationOf(label: string, value: unknown): ActivationName {
  const activation = value ?? 'linear';
  const known = KERAS_ACTIVATIONS.find((name) => name === activation);
  if (known === undefined) {
    throw new RangeError(`${label}: activation ${describe(activation)} is not one ferronet has (${KERAS_ACTIVATIONS.join(', ')}; leaky ReLU as a LeakyReLU layer)`);
  }
  return known;
}

/** A LeakyReLU's slope: `alpha` (Keras 3 says `negative_slope`), Keras's 0.3 when absent. */
function leakyReluAlpha(config: Fields): unknown {
  return config.alpha ?? config.negative_slope ?? KERAS_LEAKY_RELU_ALPHA;
}

function poolFields(config: Fields, label: string): Fields {
  checkChannelsLast(label, config);
  return { poolSize: config.pool_size, strides: config.strides ?? config.pool_size, padding: config.padding ?? 'valid' };
}

function checkChannelsLast(label: string, config: Fields): void {
  const format = config.data_format ?? 'channels_last';
  if (format !== 'channels_last') throw new RangeError(`${label}: data_format ${describe(format)}; ferronet's images are channels_last ([height, width, channels])`);
}

/** A boolean config field, true when absent (Keras's default for center and scale). */
function flag(label: string, key: string, value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (typeof value !== 'boolean') throw new TypeError(`${label}: ${key}: expected a boolean, got ${describe(value)}`);
  return value;
}
