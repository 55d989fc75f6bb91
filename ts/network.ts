/** The Network: layers and weights on a backend, forward passes and evaluation. */

import type { Backend, BackendModel, BackendName } from './backends/backend.js';
import { loadBackend } from './backends/index.js';
import { currentPlatform } from './platform/index.js';
import { checkInputs, prepareTargets } from './data.js';
import { decodeModelFile, encodeModelFile, type JsonObject, type ModelContents } from './io/model-file.js';
import {
  INITIALIZERS,
  initialParameters,
  resolveLayers,
  type InitializerName,
  type LayerConfig,
  type LayerShape,
} from './layers/index.js';
import { checkLossFitsOutput, defaultLoss, LOSSES, type LossName } from './losses/index.js';
import type { OptimizerSettings } from './optimizers/index.js';
import { Random } from './random.js';
import { checkAllFinite, checkFloat32Array, checkOneOf, checkPositiveInteger, fail } from './validation.js';
import { VERSION } from './version.js';

/** How to build a {@link Network}. */
export interface NetworkOptions {
  /** Features per sample. */
  inputSize: number;
  /** Dense layers, first to last; the last one's units are the outputs. */
  layers: LayerConfig[];
  /** Initial weights are a function of this seed alone, on every backend. Default 0. */
  seed?: number;
  /** `'auto'` (default) takes native in Node when the addon loads, else wasm, else ts. */
  backend?: BackendName | 'auto';
  /** Weight initialization; `'auto'` (default) is He for relu/leakyRelu and Glorot otherwise. */
  init?: InitializerName;
}

/** One layer's parameters: `weights` is `[units][inputs]` row-major, `bias` is `[units]`. */
export interface LayerWeights {
  /** `[units][inputs]`, row-major. */
  weights: Float32Array;
  /** `[units]`. */
  bias: Float32Array;
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

/**
 * The package-internal side of a network. A disposed network throws a TypeError, as the
 * platform does for a detached buffer: the object can no longer be used as one.
 */
export function internalsOf(network: Network, call: string): NetworkInternals {
  const found = internals.get(network);
  if (!found) throw new TypeError(`${call}: the network was disposed`);
  return found;
}

/**
 * A feed-forward network of dense layers, living on one backend.
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
  /** Features per sample. */
  readonly inputSize: number;
  /** Outputs per sample (the last layer's units). */
  readonly outputSize: number;
  /** The layers with every default filled in. */
  readonly layers: readonly Readonly<LayerShape>[];
  /** The seed the initial weights came from. */
  readonly seed: number;
  /**
   * Your own JSON data, saved and loaded with the network (class names, how inputs were
   * scaled, ...). ferronet never reads it; the `ferronet` command line keeps its data set's
   * description here.
   */
  metadata: JsonObject = {};

  private constructor(backend: Backend, layers: LayerShape[], seed: number) {
    this.backend = backend.name;
    this.layers = Object.freeze(layers.map((layer) => Object.freeze({ ...layer })));
    this.inputSize = (layers[0] as LayerShape).inputs;
    this.outputSize = (layers.at(-1) as LayerShape).units;
    this.seed = seed;
    internals.set(this, { model: backend.createModel(this.inputSize, layers), training: null, trainingOwner: null, fitting: false });
  }

  /** Builds a network with seeded initial weights on the chosen backend. */
  static async create(options: NetworkOptions): Promise<Network> {
    if (typeof options !== 'object' || (options as unknown) === null) {
      fail('type', 'options', '{ inputSize, layers, seed?, backend?, init? }', options);
    }
    const { inputSize, layers, seed = 0, backend = 'auto', init = 'auto' } = options;
    checkPositiveInteger('inputSize', inputSize);
    if (!Number.isSafeInteger(seed)) fail(typeof seed === 'number' ? 'range' : 'type', 'seed', 'an integer', seed);
    checkOneOf('init', init, INITIALIZERS);
    const shapes = resolveLayers(inputSize, layers);
    const network = new Network(await loadBackend(backend), shapes, seed);
    const parameters = initialParameters(shapes, init, new Random(seed));
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

  static async #fromContents({ header, parameters }: ModelContents, options: LoadOptions): Promise<Network> {
    if (typeof options !== 'object' || (options as unknown) === null) fail('type', 'options', '{ backend? }', options);
    const network = new Network(await loadBackend(options.backend ?? 'auto'), header.layers, header.seed);
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
   * {@link Network.metadata}, the ferronet version and the weights as little-endian float32,
   * with a CRC-32. Optimizer state is not saved: a new fit starts its optimizer afresh.
   */
  toBytes(): Uint8Array {
    const internal = internalsOf(this, 'toBytes');
    const parameters = this.layers.flatMap((_, l) => [internal.model.parameter(2 * l), internal.model.parameter(2 * l + 1)]);
    const header = { ferronet: VERSION, inputSize: this.inputSize, layers: [...this.layers], seed: this.seed, training: internal.training, metadata: this.metadata };
    return encodeModelFile({ header, parameters });
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

  /** A copy of every layer's weights and bias. */
  getWeights(): LayerWeights[] {
    const { model } = internalsOf(this, 'getWeights');
    return this.layers.map((_, l) => ({ weights: model.parameter(2 * l), bias: model.parameter(2 * l + 1) }));
  }

  /** Replaces every layer's weights and bias; nothing changes unless all of them are valid. */
  setWeights(weights: readonly LayerWeights[]): void {
    const { model } = internalsOf(this, 'setWeights');
    if (!Array.isArray(weights)) fail('type', 'weights', `an array of ${this.layers.length} { weights, bias }`, weights);
    if (weights.length !== this.layers.length) {
      fail('range', 'weights', `an array of ${this.layers.length} { weights, bias } (one per layer)`, weights);
    }
    this.layers.forEach((layer, l) => {
      const entry: unknown = weights[l];
      if (typeof entry !== 'object' || entry === null) fail('type', `weights[${l}]`, '{ weights, bias }', entry);
      const { weights: w, bias: b } = entry as Partial<LayerWeights>;
      const shape = `[${layer.units}][${layer.inputs}] = [units][inputs]`;
      checkFloat32Array(`weights[${l}].weights`, w, layer.units * layer.inputs, shape);
      checkFloat32Array(`weights[${l}].bias`, b, layer.units, `[${layer.units}] = [units]`);
      checkAllFinite(`weights[${l}].weights`, w, layer.inputs);
      checkAllFinite(`weights[${l}].bias`, b);
    });
    (weights as readonly LayerWeights[]).forEach(({ weights: w, bias: b }, l) => {
      model.setParameter(2 * l, w);
      model.setParameter(2 * l + 1, b);
    });
  }

  /** Outputs for inputs `x` (row-major `[samples][inputSize]`), as `[samples][outputSize]`. */
  predict(x: Float32Array): Float32Array {
    const { model } = internalsOf(this, 'predict');
    const rows = checkInputs('x', x, this.inputSize);
    return model.predict(x, rows);
  }

  /**
   * Mean loss and accuracy on `(x, y)`. The loss is the one the network last trained with, else
   * the one its output layer suggests (sigmoid: binary cross-entropy, softmax: categorical
   * cross-entropy, otherwise mean squared error), unless `options.loss` names another.
   */
  evaluate(x: Float32Array, y: Float32Array | Int32Array | Uint8Array, options: { loss?: LossName } = {}): EvaluationResult {
    const internal = internalsOf(this, 'evaluate');
    const outputActivation = (this.layers.at(-1) as LayerShape).activation;
    const loss = options.loss ?? internal.training?.loss ?? defaultLoss(outputActivation);
    checkOneOf('loss', loss, LOSSES);
    checkLossFitsOutput(loss, outputActivation);
    const rows = checkInputs('x', x, this.inputSize);
    const targets = prepareTargets('y', y, rows, this.outputSize, loss);
    const { loss: value, correct } = internal.model.evaluate(loss, x, targets, rows);
    return { loss: value, accuracy: correct / rows };
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

  /** A short description, e.g. `Network(2 -> 4 tanh -> 1 sigmoid, native)`. */
  toString(): string {
    const layers = this.layers.map((layer) => `${layer.units} ${layer.activation}`).join(' -> ');
    return `Network(${this.inputSize} -> ${layers}, ${this.backend})`;
  }
}

