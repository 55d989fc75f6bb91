/** The Network: layers and weights on a backend, forward passes and evaluation. */

import type { Backend, BackendModel, BackendName } from './backends/backend.js';
import { loadBackend, safetensorsReader } from './backends/index.js';
import { currentPlatform } from './platform/index.js';
import { checkInputs, prepareTargets } from './data.js';
import { decodeModelFile, encodeModelFile, ModelFileError, type JsonObject, type ModelContents } from './io/model-file.js';
import { encodeOnnx } from './interop/onnx.js';
import { decodeSafetensors, encodeSafetensors } from './interop/safetensors.js';
import { decodeTfjs, encodeTfjs, readTfjs, type TfjsArtifacts } from './interop/tfjs.js';
import {
  checkInputShape,
  checkParameter,
  describeLayer,
  formatShape,
  INITIALIZERS,
  initialParameters,
  MAX_SAMPLE_VALUES,
  outputActivation,
  parameterShapes,
  resolveLayers,
  sizeOf,
  type InitializerName,
  type LayerConfig,
  type LayerType,
  type ParameterName,
  type ParameterShape,
  type ResolvedLayer,
} from './layers/index.js';
import { checkLossFitsOutput, defaultLoss, LOSSES, type LossName } from './losses/index.js';
import type { OptimizerSettings } from './optimizers/index.js';
import { Random } from './random.js';
import { checkOneOf, checkPositiveInteger, describe, fail } from './validation.js';
import { VERSION } from './version.js';

/** How to build a {@link Network}: give `inputShape` or `inputSize`, not both. */
export interface NetworkOptions {
  /**
   * The shape of one sample: `[features]`, or `[height, width, channels]` for images, whose
   * inputs `x` are then `[samples][height][width][channels]` row-major (NHWC).
   */
  inputShape?: readonly number[];
  /** Features per sample: `inputSize: n` means `inputShape: [n]`. */
  inputSize?: number;
  /** The layers, first to last (docs/layers.md); the last one's output is the network's. */
  layers: LayerConfig[];
  /** Initial weights are a function of this seed alone, on every backend. Default 0. */
  seed?: number;
  /** `'auto'` (default) takes native in Node when the addon loads, else wasm, else ts. */
  backend?: BackendName | 'auto';
  /** Weight initialization; `'auto'` (default) is He for relu/leakyRelu and Glorot otherwise. */
  init?: InitializerName;
}

/**
 * One layer's parameters by name: dense and conv2d `{ weights, bias }` (no `bias` with
 * `useBias: false`), batchNorm `{ gamma, beta, movingMean, movingVariance }`, other kinds `{}`.
 * Dense weights are `[units][inputs]` and conv2d weights `[filters][kh][kw][inChannels]`, row-major.
 */
export type LayerWeights = Partial<Record<ParameterName, Float32Array>>;

/**
 * One layer's part of {@link Network.trace}: what the layer computed for each sample, in
 * inference mode.
 */
export interface LayerTrace {
  /** The layer's kind (`'dense'`, `'conv2d'`, ...). */
  type: LayerType;
  /** The extents of both arrays, row-major: `[samples, ...outputShape]` (the layer's output shape per sample). */
  shape: readonly number[];
  /**
   * What the layer computes before its activation: dense and conv2d `x W^T + b` (softmax's
   * logits), an activation layer its input. Layers without an activation function of their own
   * (maxPool2d, avgPool2d, batchNorm, dropout, flatten) give their output here too, in an array
   * of its own: for them the pre-activation equals the activation.
   */
  preActivation: Float32Array;
  /** The layer's output, the next layer's input; the last layer's equals {@link Network.predict}'s, bit for bit. */
  activation: Float32Array;
}

/** Loss and accuracy of a network on a data set. */
export interface EvaluationResult {
  /** Mean loss over the samples. */
  loss: number;
  /**
   * Fraction of samples classified correctly, in [0, 1]: with one output, prediction and target
   * on the same side of 0.5; with several, the same argmax.
   */
  accuracy: number;
}

/** How to load a saved {@link Network}. */
export interface LoadOptions {
  /** The backend to load onto; any backend reads any model. Default `'auto'`. */
  backend?: BackendName | 'auto';
}

/** How a network's weights were trained, saved with it (see {@link Network.training}). */
export interface TrainingRecord {
  /** The loss the last Trainer minimized (and `evaluate` uses by default). */
  loss: LossName;
  /** The last Trainer's optimizer. */
  optimizer: OptimizerSettings;
  /** The last Trainer's batch size. */
  batchSize: number;
  /** Epochs completed over the network's whole life, by every Trainer, before and after saving. */
  epochs: number;
}

/** What the Trainer needs from a Network and users do not. */
export interface NetworkInternals {
  readonly model: BackendModel;
  /** How the model was last configured to train (its loss is the one evaluate uses by default), or null. */
  training: TrainingRecord | null;
  /** The object (a Trainer) whose settings the model's optimizer state belongs to. */
  trainingOwner: object | null;
  /** True while a fit runs: a second concurrent fit is refused. */
  fitting: boolean;
}

const internals = new WeakMap<Network, NetworkInternals>();

/** Builds a network from a decoded model file (package-internal: checkpoints use it). */
export let networkFromContents: (contents: ModelContents, options: LoadOptions) => Promise<Network>;
/** A network's model-file contents (package-internal: checkpoints use it). */
export let networkContents: (network: Network) => ModelContents;

/**
 * The package-internal side of a network. A disposed network throws a TypeError, as the
 * platform does for a detached buffer: the object can no longer be used as one.
 */
export function internalsOf(network: Network, call: string): NetworkInternals {
  const found = internals.get(network);
  if (!found) throw new TypeError(`${call}: the network was disposed`);
  return found;
}

/** The shape `inputShape` or `inputSize` gives (exactly one of them). */
function resolveInputShape(inputShape: unknown, inputSize: unknown): number[] {
  if (inputShape !== undefined && inputSize !== undefined) {
    const shape = Array.isArray(inputShape) ? formatShape(inputShape as unknown[] as number[]) : describe(inputShape);
    throw new TypeError(`options: expected inputShape or inputSize, not both, got inputShape ${shape} and inputSize ${describe(inputSize)}`);
  }
  if (inputShape !== undefined) return checkInputShape('inputShape', inputShape);
  if (inputSize === undefined) throw new TypeError('options: expected inputShape ([features] or [height, width, channels]) or inputSize, got neither');
  checkPositiveInteger('inputSize', inputSize);
  if (inputSize > MAX_SAMPLE_VALUES) fail('range', 'inputSize', `at most ${MAX_SAMPLE_VALUES} features`, inputSize);
  return [inputSize];
}

/** A copy of `layer` that nothing can change, its shape arrays included. */
function frozenLayer(layer: ResolvedLayer): Readonly<ResolvedLayer> {
  const entries = Object.entries(layer).map(([key, value]: [string, unknown]) => [key, Array.isArray(value) ? Object.freeze([...(value as number[])]) : value]);
  return Object.freeze(Object.fromEntries(entries) as ResolvedLayer);
}

/** `{ weights, bias }`, or `{}` for a layer without parameters. */
function entryLayout(shapes: readonly ParameterShape[]): string {
  return shapes.length === 0 ? '{}' : `{ ${shapes.map(({ name }) => name).join(', ')} }`;
}

/** `1,234,567`, the same in every locale. */
function withThousands(value: number): string {
  return String(value).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

/** The contents of the safetensors file `bytes` (named `source` in errors), indexed by a compiled module's reader. */
async function readSafetensors(bytes: Uint8Array, source: string): Promise<ModelContents> {
  const index = await safetensorsReader();
  let json: string;
  try {
    json = index(bytes);
  } catch (error) {
    throw new ModelFileError(`${source}: ${error instanceof Error ? error.message : String(error)}`);
  }
  return decodeSafetensors(bytes, json, source);
}

/**
 * A feed-forward network of layers (dense, conv2d, pooling, batch norm, dropout, flatten,
 * activation), living on one backend.
 *
 * ```ts
 * const net = await Network.create({
 *   inputSize: 2,
 *   layers: [{ units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }],
 *   seed: 2,
 * });
 * const probabilities = net.predict(x); // Float32Array [samples][1]
 * ```
 */
export class Network {
  /** Which backend runs this network's maths. */
  readonly backend: BackendName;
  /** The shape of one input sample: `[features]` or `[height, width, channels]`. */
  readonly inputShape: readonly number[];
  /** Values per input sample (the product of {@link Network.inputShape}). */
  readonly inputSize: number;
  /** The shape of one output sample (the last layer's output shape). */
  readonly outputShape: readonly number[];
  /** Values per output sample (the product of {@link Network.outputShape}). */
  readonly outputSize: number;
  /** The layers with every default filled in and their shapes known. */
  readonly layers: readonly Readonly<ResolvedLayer>[];
  /** The seed the initial weights came from. */
  readonly seed: number;
  /**
   * Your own JSON data, saved and loaded with the network (class names, how inputs were
   * scaled, ...). ferronet never reads it; the `ferronet` command line keeps its data set's
   * description here.
   */
  metadata: JsonObject = {};
  /** Each layer's parameter buffers; the backend numbers them consecutively across layers. */
  readonly #parameters: readonly (readonly ParameterShape[])[];

  private constructor(backend: Backend, inputShape: readonly number[], layers: ResolvedLayer[], seed: number) {
    this.backend = backend.name;
    this.inputShape = Object.freeze([...inputShape]);
    this.inputSize = sizeOf(inputShape);
    this.layers = Object.freeze(layers.map(frozenLayer));
    this.outputShape = (this.layers.at(-1) as ResolvedLayer).outputShape;
    this.outputSize = sizeOf(this.outputShape);
    this.#parameters = layers.map(parameterShapes);
    this.seed = seed;
    internals.set(this, { model: backend.createModel(this.inputShape, layers), training: null, trainingOwner: null, fitting: false });
  }

  /** Builds a network with seeded initial weights on the chosen backend. */
  static async create(options: NetworkOptions): Promise<Network> {
    if (typeof options !== 'object' || (options as unknown) === null) {
      fail('type', 'options', '{ inputShape or inputSize, layers, seed?, backend?, init? }', options);
    }
    const { inputShape, inputSize, layers, seed = 0, backend = 'auto', init = 'auto' } = options;
    const shape = resolveInputShape(inputShape, inputSize);
    if (!Number.isSafeInteger(seed)) fail(typeof seed === 'number' ? 'range' : 'type', 'seed', 'an integer', seed);
    checkOneOf('init', init, INITIALIZERS);
    const resolved = resolveLayers(shape, layers);
    const network = new Network(await loadBackend(backend), shape, resolved, seed);
    const parameters = initialParameters(resolved, init, new Random(seed));
    const { model } = internalsOf(network, 'create');
    parameters.forEach((values, index) => {
      model.setParameter(index, values);
    });
    return network;
  }

  /**
   * Reads a network written by {@link Network.toBytes} (or {@link Network.save}) onto any
   * backend: its predictions there are those of the network that was saved. Bytes that are
   * truncated, corrupted, not a model or from a newer ferronet throw a `ModelFileError`.
   */
  static async fromBytes(bytes: Uint8Array, options: LoadOptions = {}): Promise<Network> {
    if (!(bytes instanceof Uint8Array)) fail('type', 'bytes', 'a Uint8Array', bytes);
    return Network.#fromContents(decodeModelFile(bytes, 'bytes'), options);
  }

  /** Reads a model file written by {@link Network.save} (Node only); see {@link Network.fromBytes}. */
  static async load(path: string, options: LoadOptions = {}): Promise<Network> {
    if (typeof path !== 'string') fail('type', 'path', 'a file path string', path);
    const bytes = await currentPlatform().readFile(path);
    return Network.#fromContents(decodeModelFile(bytes, path), options);
  }

  /**
   * Reads a TensorFlow.js layers model (`model.json` and its weight shards, as `model.save`
   * writes them) onto any backend. Sequential models of InputLayer, Dense, Conv2D, MaxPooling2D,
   * AveragePooling2D, BatchNormalization, Flatten, Dropout, Activation and LeakyReLU load with
   * their weights; anything else is a `ModelFileError` naming the layer class.
   */
  static async fromTfjs(modelJson: unknown, weightData: ArrayBuffer | Uint8Array, options: LoadOptions = {}): Promise<Network> {
    return Network.#fromContents(decodeTfjs(modelJson, weightData, 'modelJson'), options);
  }

  /** Reads a TensorFlow.js `model.json` and the weight shards beside it (Node only); see {@link Network.fromTfjs}. */
  static async loadTfjs(path: string, options: LoadOptions = {}): Promise<Network> {
    if (typeof path !== 'string') fail('type', 'path', 'a file path string', path);
    return Network.#fromContents(await readTfjs(path, (file) => currentPlatform().readFile(file)), options);
  }

  /**
   * Reads a safetensors file written by {@link Network.toSafetensors}, or by
   * `interop/pytorch/ferronet_torch.py`'s `save_safetensors` after training in PyTorch, onto any
   * backend. The file is parsed by the safetensors crate in the native or wasm module (whichever
   * loads, even for the ts backend); a file that is not one, lacks ferronet's architecture, or
   * whose tensors do not match it throws a `ModelFileError`, and nothing is half-loaded.
   */
  static async fromSafetensors(bytes: Uint8Array, options: LoadOptions = {}): Promise<Network> {
    if (!(bytes instanceof Uint8Array)) fail('type', 'bytes', 'a Uint8Array (a safetensors file)', bytes);
    return Network.#fromContents(await readSafetensors(bytes, 'bytes'), options);
  }

  /** Reads a `.safetensors` file (Node only); see {@link Network.fromSafetensors}. */
  static async loadSafetensors(path: string, options: LoadOptions = {}): Promise<Network> {
    if (typeof path !== 'string') fail('type', 'path', 'a file path string', path);
    return Network.#fromContents(await readSafetensors(await currentPlatform().readFile(path), path), options);
  }

  static {
    // Checkpoints (ts/checkpoint.ts) are model files with a trainer's state beside the
    // network: they read and write the network's part through these, without widening the API.
    networkFromContents = (contents, options) => Network.#fromContents(contents, options);
    networkContents = (network) => network.#contents();
  }

  static async #fromContents({ header, parameters }: ModelContents, options: LoadOptions): Promise<Network> {
    if (typeof options !== 'object' || (options as unknown) === null) fail('type', 'options', '{ backend? }', options);
    const network = new Network(await loadBackend(options.backend ?? 'auto'), header.inputShape, header.layers, header.seed);
    const internal = internalsOf(network, 'load');
    parameters.forEach((values, index) => {
      internal.model.setParameter(index, values);
    });
    internal.training = header.training;
    network.metadata = header.metadata;
    return network;
  }

  /**
   * The network as a model file (docs/model-format.md): architecture, {@link Network.training},
   * {@link Network.metadata}, the ferronet version and the parameters as little-endian float32,
   * with a CRC-32. Optimizer state is not saved: a new fit starts its optimizer afresh.
   */
  toBytes(): Uint8Array {
    return encodeModelFile(this.#contents());
  }

  /**
   * The network as an ONNX model that onnxruntime runs: input `input` in ferronet's layout
   * (`[N, ...inputShape]`, any batch size), output `output` equal to {@link Network.predict}'s
   * (batch norm in its inference form; dropout left out).
   */
  async toOnnx(): Promise<Uint8Array> {
    return encodeOnnx(this.#contents());
  }

  /**
   * The network as a TensorFlow.js layers model: `modelJson` (the `model.json` object) and
   * `weightData` (its one weight shard), which `tf.loadLayersModel(tf.io.fromMemory(...))` reads,
   * so ferronet's models run in TensorFlow.js and ml5 apps.
   */
  toTfjs(): TfjsArtifacts {
    return encodeTfjs(this.#contents());
  }

  /**
   * The network as a safetensors file in PyTorch's names and layouts (`layers.{i}.weight`,
   * conv kernels `[out][in][kh][kw]`, batch norm's `running_mean` and `running_var`), with the
   * architecture in its `__metadata__`: `interop/pytorch/ferronet_torch.py` builds the PyTorch
   * module from it and `load_state_dict(strict=True)` accepts the tensors. docs/interop.md.
   */
  toSafetensors(): Uint8Array {
    return encodeSafetensors(this.#contents());
  }

  /** What a model file holds of this network. */
  #contents(): ModelContents {
    const internal = internalsOf(this, 'toBytes');
    const count = this.#parameters.reduce((sum, shapes) => sum + shapes.length, 0);
    const parameters = Array.from({ length: count }, (_, index) => internal.model.parameter(index));
    const header = {
      ferronet: VERSION,
      inputShape: [...this.inputShape],
      layers: [...this.layers],
      seed: this.seed,
      training: internal.training,
      metadata: this.metadata,
      checkpoint: null,
    };
    return { header, parameters, optimizerState: [] };
  }

  /**
   * Writes {@link Network.toBytes} to `path` (Node only). The file appears whole or not at all:
   * it is written beside `path` and renamed over it.
   */
  async save(path: string): Promise<void> {
    if (typeof path !== 'string') fail('type', 'path', 'a file path string', path);
    await currentPlatform().writeFileAtomically(path, this.toBytes());
  }

  /** How the weights were trained (kept across save and load), or null if they never were. */
  get training(): Readonly<TrainingRecord> | null {
    const { training } = internalsOf(this, 'training');
    return training && Object.freeze({ ...training, optimizer: Object.freeze({ ...training.optimizer }) });
  }

  /**
   * A copy of every layer's parameters, one entry per layer in order: dense and conv2d
   * `{ weights, bias }`, batchNorm `{ gamma, beta, movingMean, movingVariance }`, others `{}`.
   */
  getWeights(): LayerWeights[] {
    const { model } = internalsOf(this, 'getWeights');
    let index = 0;
    return this.#parameters.map((shapes) => Object.fromEntries(shapes.map(({ name }) => [name, model.parameter(index++)])));
  }

  /**
   * Replaces every layer's parameters, given as {@link Network.getWeights} returns them; nothing
   * changes unless every entry is valid (each buffer a Float32Array of the right length, finite,
   * and a batch norm's moving variance at least 0).
   */
  setWeights(weights: readonly LayerWeights[]): void {
    const { model } = internalsOf(this, 'setWeights');
    const layouts = this.#parameters.map(entryLayout);
    const expected = layouts.every((layout) => layout === layouts[0])
      ? `an array of ${layouts.length} ${layouts[0] as string}`
      : `an array of ${layouts.length} entries: ${layouts.join(', ')}`;
    if (!Array.isArray(weights)) fail('type', 'weights', expected, weights);
    if (weights.length !== this.layers.length) fail('range', 'weights', `${expected} (one per layer)`, weights);
    const values = this.#parameters.flatMap((shapes, l) => {
      const entry: unknown = weights[l];
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) fail('type', `weights[${l}]`, layouts[l] as string, entry);
      const buffers = entry as Record<string, unknown>;
      const names: string[] = shapes.map(({ name }) => name);
      const extra = Object.keys(buffers).find((key) => !names.includes(key));
      if (extra !== undefined) {
        const own = names.length === 0 ? 'has no parameters' : `has ${names.join(', ')}`;
        fail('range', `weights[${l}].${extra}`, `no ${extra} (a ${(this.layers[l] as ResolvedLayer).type} layer ${own})`, buffers[extra]);
      }
      return shapes.map((shape) => {
        const value = buffers[shape.name];
        checkParameter(`weights[${l}].${shape.name}`, shape, value);
        return value;
      });
    });
    values.forEach((value, index) => {
      model.setParameter(index, value);
    });
  }

  /** Outputs for inputs `x` (row-major `[samples][...inputShape]`), as `[samples][...outputShape]`, in inference mode. */
  predict(x: Float32Array): Float32Array {
    const { model } = internalsOf(this, 'predict');
    const rows = checkInputs('x', x, this.inputShape);
    return model.predict(x, rows);
  }

  /**
   * Every layer's pre-activation and activation for inputs `x` (row-major
   * `[samples][...inputShape]`), in inference mode as {@link Network.predict} runs (batch norm
   * with its moving statistics, dropout passing everything): one {@link LayerTrace} per layer,
   * in order, each array `[samples][...outputShape]`. Dense and conv2d layers' pre-activations
   * are `x W^T + b`, an activation layer's is its input; for pooling, batchNorm, dropout and
   * flatten the pre-activation equals the activation. One call into the backend.
   *
   * ```ts
   * const [hidden, output] = net.trace(x);
   * hidden.preActivation; // Float32Array [samples][units]: x W^T + b
   * hidden.activation;    // Float32Array [samples][units]: tanh of that
   * ```
   */
  trace(x: Float32Array): LayerTrace[] {
    const { model } = internalsOf(this, 'trace');
    const rows = checkInputs('x', x, this.inputShape);
    const values = model.trace(x, rows);
    let offset = 0;
    return this.layers.map((layer) => {
      const n = rows * sizeOf(layer.outputShape);
      const preActivation = values.slice(offset, offset + n);
      const activation = values.slice(offset + n, offset + 2 * n);
      offset += 2 * n;
      return { type: layer.type, shape: Object.freeze([rows, ...layer.outputShape]), preActivation, activation };
    });
  }

  /**
   * Mean loss and accuracy on `(x, y)`, in inference mode. The loss is the one the network last
   * trained with, else the one its output activation suggests (sigmoid: binary cross-entropy,
   * softmax: categorical cross-entropy, otherwise mean squared error), unless `options.loss`
   * names another.
   */
  evaluate(x: Float32Array, y: Float32Array | Int32Array | Uint8Array, options: { loss?: LossName } = {}): EvaluationResult {
    const internal = internalsOf(this, 'evaluate');
    const output = outputActivation(this.layers);
    const loss = options.loss ?? internal.training?.loss ?? defaultLoss(output);
    checkOneOf('loss', loss, LOSSES);
    checkLossFitsOutput(loss, output);
    const rows = checkInputs('x', x, this.inputShape);
    const targets = prepareTargets('y', y, rows, this.outputSize, loss);
    const { loss: value, correct } = internal.model.evaluate(loss, x, targets, rows);
    return { loss: value, accuracy: correct / rows };
  }

  /**
   * A table of the layers in the manner of Keras's `model.summary()`: each layer, its output
   * shape (per sample) and its parameter count, then the total, trainable and non-trainable
   * parameter counts (batch norm's moving statistics are not trained).
   */
  summary(): string {
    const rows = this.layers.map((layer, l) => [
      `layers[${l}] (${layer.type})`,
      formatShape(layer.outputShape),
      withThousands((this.#parameters[l] as ParameterShape[]).reduce((sum, { length }) => sum + length, 0)),
    ]);
    const shapes = this.#parameters.flat();
    const total = shapes.reduce((sum, { length }) => sum + length, 0);
    const trainable = shapes.reduce((sum, { length, trainable: trained }) => sum + (trained ? length : 0), 0);
    const header = ['Layer (type)', 'Output Shape', 'Param #'];
    const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] as string).length)));
    const line = ([layer, shape, count]: string[]): string =>
      `${(layer as string).padEnd(widths[0] as number)}   ${(shape as string).padEnd(widths[1] as number)}   ${(count as string).padStart(widths[2] as number)}`;
    const rule = '='.repeat(line(header).length);
    return [
      line(header),
      rule,
      ...rows.map(line),
      rule,
      `Total params: ${withThousands(total)}`,
      `Trainable params: ${withThousands(trainable)}`,
      `Non-trainable params: ${withThousands(total - trainable)}`,
    ].join('\n');
  }

  /** Whether {@link Network.dispose} has run. */
  get disposed(): boolean {
    return !internals.has(this);
  }

  /** Frees the network's memory on its backend. Later calls throw; disposing twice is harmless. */
  dispose(): void {
    const internal = internals.get(this);
    if (!internal) return;
    if (internal.fitting) throw new TypeError('dispose: the network is training; wait for fit() to finish');
    internal.model.dispose();
    internals.delete(this);
  }

  /** A short description, e.g. `Network(2 -> 4 tanh -> 1 sigmoid, native)` or `Network(28x28x1 -> conv2d 32 3x3 same relu -> ..., wasm)`. */
  toString(): string {
    return `Network(${[this.inputShape.join('x'), ...this.layers.map(describeLayer)].join(' -> ')}, ${this.backend})`;
  }
}
