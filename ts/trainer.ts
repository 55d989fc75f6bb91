/** The Trainer: minibatch gradient descent over epochs, with progress and history. */

import { checkInputs, prepareTargets } from './data.js';
import { outputActivation, parameterShapes, type ParameterName } from './layers/index.js';
import { checkLossFitsOutput, defaultLoss, LOSSES, type LossName } from './losses/index.js';
import type { BackendName } from './backends/backend.js';
import { decodeModelFile, encodeModelFile, ModelFileError, type CheckpointHeader, type JsonObject, type ModelContents } from './io/model-file.js';
import { internalsOf, Network, networkContents, networkFromContents, type LayerWeights, type NetworkInternals, type TrainingRecord } from './network.js';
import { currentPlatform } from './platform/index.js';
import { optimizerConfig, resolveOptimizer, type OptimizerConfig, type OptimizerName, type OptimizerSettings } from './optimizers/index.js';
import { Random } from './random.js';
import { BatchPlan, type PlannedCall } from './batch-plan.js';
import {
  afterPlateauEpoch,
  resolveSchedule,
  scheduledRate,
  type ResolvedPlateauSchedule,
  type PlateauState,
  type ResolvedSchedule,
  type ScheduleConfig,
  type ScheduleFunction,
} from './schedules/index.js';
import { checkBoolean, checkFinite, checkOneOf, checkPositiveInteger, checkSize, fail } from './validation.js';

/** How a {@link Trainer} trains. */
export interface TrainerOptions {
  /** Default: the output layer's natural loss (sigmoid: binaryCrossEntropy, softmax: categoricalCrossEntropy, else meanSquaredError). */
  loss?: LossName;
  /** A name or a config with hyperparameters. Default `'adam'` (learning rate 0.001). */
  optimizer?: OptimizerName | OptimizerConfig;
  /** Samples per update. Default 32; the last batch of an epoch may be smaller. */
  batchSize?: number;
  /** Visit the samples in a new seeded order each epoch. Default true. */
  shuffle?: boolean;
  /**
   * Seed of the shuffling order, and (as `(seed ^ 0x6a09e667) >>> 0`) of the dropout masks'
   * own generator. Default: the network's seed.
   */
  seed?: number;
  /**
   * Scales each batch's gradients so that their global L2 norm (over every trained buffer) is
   * at most this, before weight decay, as `torch.nn.utils.clip_grad_norm_`. Default: no clipping.
   */
  clipNorm?: number;
  /**
   * The learning rate of each epoch, from the optimizer's rate as the base: a
   * {@link ScheduleConfig} or a function `(epoch, baseLearningRate) => rate`. `epoch` counts
   * every epoch this trainer has trained, across fits and after resuming. Default: constant.
   */
  schedule?: ScheduleConfig;
}

/** Stop a fit when the monitored loss stops improving (Keras's EarlyStopping). */
export interface EarlyStoppingOptions {
  /** Default `'valLoss'` when the fit has validation data, else `'loss'`. */
  monitor?: 'loss' | 'valLoss';
  /** Epochs without improvement before stopping; a positive integer. */
  patience: number;
  /** How much lower than the best a value must be to count as better. Default 0. */
  minDelta?: number;
  /** End with the weights of the best monitored epoch rather than the last. Default false. */
  restoreBestWeights?: boolean;
}

/** Inputs and their targets. */
export interface LabeledData {
  /** Inputs, `[samples][...inputShape]` row-major. */
  x: Float32Array;
  /** Targets, `[samples][outputs]`, or class indices for categorical cross-entropy. */
  y: Float32Array | Int32Array | Uint8Array;
}

/** What one epoch did. */
export interface EpochLogs {
  /** Mean loss over the epoch's samples, from the forward pass before each batch's update. */
  loss: number;
  /** Fraction of the epoch's samples classified correctly, from the same forward passes. */
  accuracy: number;
  /** Loss on the validation data after the epoch, when validation data was given. */
  valLoss?: number;
  /** Accuracy on the validation data after the epoch, when validation data was given. */
  valAccuracy?: number;
  /** Training throughput of the epoch. */
  samplesPerSec: number;
  /** The learning rate the epoch trained with. */
  learningRate: number;
}

/** Where a fit is, reported every few batches (about every 20 ms of work). */
export interface FitProgress {
  /** 0-based epoch. */
  epoch: number;
  /** Epochs in the fit. */
  epochs: number;
  /** Batches done in this epoch. */
  batch: number;
  /** Batches per epoch. */
  batches: number;
  /** Mean loss of this epoch's batches so far. */
  loss: number;
  /** Throughput of this epoch so far. */
  samplesPerSec: number;
  /** The epoch's learning rate. */
  learningRate: number;
}

/** How long and how to watch a {@link Trainer.fit}. */
export interface FitOptions {
  /** Passes over the data. Default 1. */
  epochs?: number;
  /** Data evaluated after every epoch (`valLoss`, `valAccuracy`). */
  validationData?: LabeledData;
  /**
   * Called after each epoch with its 0-based index. Returning `false` (or a promise of `false`)
   * stops training; anything else carries on.
   */
  onEpochEnd?: (epoch: number, logs: EpochLogs) => unknown;
  /** Called every few batches. */
  onProgress?: (progress: FitProgress) => void;
  /** Aborting stops training after the batches in flight; fit then resolves with the history so far. */
  signal?: AbortSignal;
  /** Stop when the monitored loss stops improving; it belongs to this fit alone. */
  earlyStopping?: EarlyStoppingOptions;
}

/** Per-epoch figures of a fit. */
export interface History {
  /** Epochs completed. */
  epochs: number;
  /** Each epoch's {@link EpochLogs.loss}. */
  loss: number[];
  /** Each epoch's {@link EpochLogs.accuracy}. */
  accuracy: number[];
  /** Each epoch's validation loss; empty unless validation data was given. */
  valLoss: number[];
  /** Each epoch's validation accuracy; empty unless validation data was given. */
  valAccuracy: number[];
  /** Each epoch's training throughput. */
  samplesPerSec: number[];
  /** Each epoch's learning rate. */
  learningRate: number[];
  /** The epoch (0-based, within this fit) after which early stopping ended the fit, or null. */
  stoppedEpoch: number | null;
  /** With early stopping, the epoch (0-based, within this fit) whose monitored value was best; null without it. */
  bestEpoch: number | null;
}

/**
 * One layer's loss gradients in {@link Trainer.gradients}: dense and conv2d `{ weights, bias }`
 * (no `bias` with `useBias: false`), batchNorm `{ gamma, beta }`, other kinds `{}`; each the
 * shape of the parameter in {@link LayerWeights}.
 */
export type LayerGradients = Partial<Record<Exclude<ParameterName, 'movingMean' | 'movingVariance'>, Float32Array>>;

/** Thrown when the loss becomes NaN or infinite: training stops and the last good weights are kept. */
export class TrainingDivergedError extends Error {
  /** The epochs completed before the one that diverged. */
  readonly history: History;
  constructor(message: string, history: History) {
    super(message);
    this.name = 'TrainingDivergedError';
    this.history = history;
  }
}

/** Aim for calls into the backend of about this long: long enough to amortize the call, short enough for smooth progress. */
const TARGET_CALL_MS = 20;

function now(): number {
  return performance.now();
}

/**
 * Lets timers, I/O, input and rendering run between groups of batches. Node has setImmediate;
 * browsers and workers do not, and their setTimeout(0) waits at least 4 ms once nested, so
 * there a message to ourselves is the prompt way back after the queued tasks.
 */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') {
      setImmediate(resolve);
      return;
    }
    const channel = new MessageChannel();
    channel.port1.onmessage = () => {
      channel.port1.close();
      resolve();
    };
    channel.port2.postMessage(null);
  });
}

/**
 * Trains a {@link Network} by minibatch gradient descent: each epoch visits every sample once,
 * in a seeded shuffled order (unless `shuffle: false`), in batches of `batchSize`, with one
 * optimizer update per batch. The data moves into the backend once per fit.
 *
 * ```ts
 * const trainer = new Trainer(net, { loss: 'binaryCrossEntropy', optimizer: { name: 'sgd', learningRate: 1.2 }, batchSize: 400, shuffle: false });
 * const history = await trainer.fit(x, y, { epochs: 10000 });
 * ```
 */
export class Trainer {
  /** The network this trainer updates. */
  readonly network: Network;
  /** The loss minimized. */
  readonly loss: LossName;
  /** The optimizer with every hyperparameter resolved. */
  readonly optimizer: Readonly<OptimizerSettings>;
  /** Samples per update. */
  readonly batchSize: number;
  /** Whether each epoch visits the samples in a new seeded order. */
  readonly shuffle: boolean;
  /** The seed of the shuffling order and of the dropout masks. */
  readonly seed: number;
  /** The gradient norm each batch is clipped to, or null. */
  readonly clipNorm: number | null;
  /** The learning-rate schedule with its defaults filled in (a function as given), or null for a constant rate. */
  readonly schedule: Readonly<ResolvedSchedule> | ScheduleFunction | null;
  readonly #random: Random;
  /** The dropout masks' generator: the backend draws from it during a fit, and it continues in the next one. */
  readonly #dropout: Random;
  /** Epochs this trainer has completed, over every fit: the schedule's clock. */
  #epochsTrained = 0;
  /** Where a reduceOnPlateau schedule stands; null for other schedules. */
  #plateau: PlateauState | null = null;
  /** True while a fit calls onEpochEnd: the one moment inside a fit that a checkpoint can capture. */
  #atEpochEnd = false;

  constructor(network: Network, options: TrainerOptions = {}) {
    if (!(network instanceof Network)) fail('type', 'network', 'a Network', network);
    internalsOf(network, 'Trainer');
    if (typeof options !== 'object' || (options as unknown) === null) fail('type', 'options', 'a TrainerOptions object', options);
    const output = outputActivation(network.layers);
    const { loss = defaultLoss(output), optimizer = 'adam', batchSize = 32, shuffle = true, seed = network.seed, clipNorm, schedule } = options;
    checkOneOf('loss', loss, LOSSES);
    checkLossFitsOutput(loss, output);
    checkPositiveInteger('batchSize', batchSize);
    checkBoolean('shuffle', shuffle);
    if (!Number.isSafeInteger(seed)) fail(typeof seed === 'number' ? 'range' : 'type', 'seed', 'an integer', seed);
    if (clipNorm !== undefined) {
      checkFinite('clipNorm', clipNorm);
      if (clipNorm <= 0) fail('range', 'clipNorm', 'a positive finite number', clipNorm);
    }
    this.network = network;
    this.loss = loss;
    this.optimizer = Object.freeze(resolveOptimizer(optimizer));
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.seed = seed;
    this.clipNorm = clipNorm ?? null;
    const resolved = schedule === undefined ? null : resolveSchedule(schedule, this.optimizer.learningRate);
    this.schedule = resolved === null || typeof resolved === 'function' ? resolved : Object.freeze(resolved);
    if (resolved !== null && typeof resolved !== 'function' && resolved.name === 'reduceOnPlateau') {
      this.#plateau = { best: Infinity, wait: 0, learningRate: this.optimizer.learningRate };
    }
    this.#random = new Random(seed);
    this.#dropout = new Random((seed ^ 0x6a09e667) >>> 0);
  }

  /** Epochs this trainer has completed, over every fit (and before a checkpoint it was loaded from). */
  get epochsTrained(): number {
    return this.#epochsTrained;
  }

  /** The learning rate of the trainer's next epoch. */
  get learningRate(): number {
    const base = this.optimizer.learningRate;
    const schedule = this.schedule;
    if (schedule === null) return base;
    if (this.#plateau !== null) return this.#plateau.learningRate;
    return scheduledRate(schedule as Exclude<typeof schedule, ResolvedPlateauSchedule>, this.#epochsTrained, base);
  }

  /**
   * Trains on inputs `x` (`[samples][...inputShape]`) and targets `y` (`[samples][outputs]`, or
   * class indices for categorical cross-entropy). Resolves with the per-epoch history.
   * Fitting again continues with the same optimizer state.
   */
  async fit(x: Float32Array, y: Float32Array | Int32Array | Uint8Array, options: FitOptions = {}): Promise<History> {
    const network = this.network;
    const internal = internalsOf(network, 'fit');
    if (internal.fitting) throw new TypeError('fit: this network is already training; await the running fit() first');
    if (typeof options !== 'object' || (options as unknown) === null) fail('type', 'options', 'a FitOptions object', options);
    const { epochs = 1, validationData, onEpochEnd, onProgress, signal, earlyStopping } = options;
    checkPositiveInteger('epochs', epochs);
    const samples = checkInputs('x', x, network.inputShape);
    const targets = prepareTargets('y', y, samples, network.outputSize, this.loss);
    if (this.batchSize > samples) {
      throw new RangeError(`batchSize: expected at most the number of samples (${samples}), got ${this.batchSize}`);
    }
    const validation = validationData === undefined ? undefined : this.#prepareValidation(validationData);
    const stopping = earlyStopping === undefined ? null : resolveEarlyStopping(earlyStopping, validation !== undefined);
    const plateauMonitor = this.#plateauMonitor(validation !== undefined);
    // A schedule function is asked for its first rate before anything changes.
    let learningRate = this.learningRate;

    const { model } = internal;
    this.#claim(internal);
    internal.fitting = true;
    const data = model.bindData(x, targets, samples);
    const history: History = {
      epochs: 0,
      loss: [],
      accuracy: [],
      valLoss: [],
      valAccuracy: [],
      samplesPerSec: [],
      learningRate: [],
      stoppedEpoch: null,
      bestEpoch: null,
    };
    const plan = new BatchPlan(samples, this.batchSize, epochs, this.shuffle ? this.#random : null);
    const { batchesPerEpoch } = plan;
    // Calls may span epochs only when nothing looks at the network or changes its rate between them.
    const acrossEpochs = validation === undefined && onEpochEnd === undefined && stopping === null && this.schedule === null;
    let records = { losses: new Float64Array(1), correct: new Uint32Array(1) };
    /** The epoch being accumulated: its loss sum (loss x rows), correct count and seconds. */
    const current = { lossSum: 0, correct: 0, seconds: 0 };
    let budget = 1;
    /** Early stopping's progress: the best monitored value, epochs since it, and its weights. */
    const watch = { best: Infinity, wait: 0, weights: null as LayerWeights[] | null };
    model.setRandomState(this.#dropout.state());
    try {
      // fit() never finishes synchronously, even when every batch fits in one call: a second
      // fit() made in the same turn must meet the first one still running.
      await yieldToEventLoop();
      let lastYield = now();
      while (!plan.done && !signal?.aborted) {
        if (this.schedule !== null && plan.atEpochStart) {
          learningRate = this.learningRate;
          model.setLearningRate(learningRate);
        }
        const call = plan.next(budget, acrossEpochs);
        const count = call.ends.length;
        if (records.losses.length < count) records = { losses: new Float64Array(count), correct: new Uint32Array(count) };
        const started = now();
        const [losses, correct] = [records.losses.subarray(0, count), records.correct.subarray(0, count)];
        const outcome = model.trainBatches(data, call.indices, call.ends, losses, correct);
        const seconds = (now() - started) / 1000;
        if (outcome.diverged) {
          internal.trainingOwner = null; // the optimizer state saw the diverged steps: start afresh next fit
          throw this.#divergence(call, batchesPerEpoch, outcome.batches, losses[outcome.batches] ?? 0, history);
        }
        let stop = false;
        for (let b = 0; b < count && !stop; b++) {
          const position = call.batch + b;
          const batch = position % batchesPerEpoch;
          const rows = plan.rowsOf(batch);
          current.lossSum += (losses[b] as number) * rows;
          current.correct += correct[b] as number;
          current.seconds += seconds / count;
          if (batch === batchesPerEpoch - 1) {
            const epoch = call.epoch + Math.floor(position / batchesPerEpoch);
            const logs = this.#endEpoch(internal, current, samples, validation, learningRate, history);
            Object.assign(current, { lossSum: 0, correct: 0, seconds: 0 });
            this.#epochsTrained += 1;
            if (this.#plateau !== null && plateauMonitor !== null) {
              this.#plateau = afterPlateauEpoch(this.schedule as ResolvedPlateauSchedule, this.#plateau, logs[plateauMonitor] as number);
            }
            if (stopping !== null) {
              const value = logs[stopping.monitor] as number;
              if (value < watch.best - stopping.minDelta) {
                Object.assign(watch, { best: value, wait: 0, weights: stopping.restoreBestWeights ? network.getWeights() : null });
                history.bestEpoch = epoch;
              } else if (++watch.wait >= stopping.patience) {
                history.stoppedEpoch = epoch;
                stop = true;
              }
            }
            this.#atEpochEnd = true;
            try {
              const verdict = onEpochEnd?.(epoch, logs);
              stop = (verdict instanceof Promise ? await verdict : verdict) === false || stop;
            } finally {
              this.#atEpochEnd = false;
            }
          }
        }
        if (stop) break;
        budget = Math.max(1, Math.min(2 * count, Math.round((count * TARGET_CALL_MS) / Math.max(seconds * 1000, 0.01))));
        onProgress?.(this.#progress(call, plan, epochs, samples, current, learningRate, history));
        if (now() - lastYield > TARGET_CALL_MS) {
          await yieldToEventLoop();
          lastYield = now();
        }
      }
      if (watch.weights !== null) network.setWeights(watch.weights);
      return history;
    } finally {
      this.#dropout.setState(model.randomState());
      data.dispose();
      internal.fitting = false;
    }
  }

  /**
   * Each layer's gradients of the trainer's loss on the batch `(x, y)` (inputs
   * `[samples][...inputShape]`, targets as {@link Trainer.fit} takes them), as a training step
   * on that batch computes them before its update: a training-mode forward pass (dropout
   * drawing the masks the trainer's next step would draw, batch norm normalizing with the
   * batch's own mean and variance), the loss averaged over the batch's samples, and
   * backpropagation. They are the gradients of that mean loss: before `clipNorm` clipping and
   * without weight decay, which the update applies afterwards. One entry per layer, as
   * {@link LayerGradients} says.
   *
   * Nothing changes: the parameters (batch norm's moving statistics, which the training-mode
   * pass moves, are put back), the optimizer's state and step count, the shuffling generator
   * and the dropout generator are exactly as before, so a fit afterwards trains as it would
   * have without the call. One call into the backend.
   *
   * ```ts
   * const [hidden, output] = trainer.gradients(x, y);
   * hidden.weights; // Float32Array [units][inputs]: dLoss/dW
   * ```
   */
  gradients(x: Float32Array, y: Float32Array | Int32Array | Uint8Array): LayerGradients[] {
    const network = this.network;
    const internal = internalsOf(network, 'gradients');
    const samples = checkInputs('x', x, network.inputShape);
    const targets = prepareTargets('y', y, samples, network.outputSize, this.loss);
    // During this trainer's fit the dropout stream lives in the backend's model.
    const randomState = internal.fitting && internal.trainingOwner === this ? internal.model.randomState() : this.#dropout.state();
    const { gradients } = internal.model.gradients(this.loss, x, targets, samples, randomState);
    let offset = 0;
    return network.layers.map((layer) =>
      Object.fromEntries(
        parameterShapes(layer)
          .filter(({ trainable }) => trainable)
          .map(({ name, length }) => [name, gradients.slice(offset, (offset += length))]),
      ),
    );
  }

  /**
   * A checkpoint: the network (as {@link Network.toBytes} writes it) with everything this
   * trainer needs to go on exactly where it is: its settings, the optimizer's state and step
   * count, the schedule's position and state, and the shuffling and dropout generators.
   * Training 3 epochs, saving, loading and training 3 more gives the same weights, bit for bit
   * on the same backend, as training 6. Call it between fits or from a fit's `onEpochEnd`.
   * Early stopping belongs to one fit and is not saved.
   */
  toBytes(): Uint8Array {
    const internal = internalsOf(this.network, 'toBytes');
    if (internal.fitting && !this.#atEpochEnd) {
      throw new TypeError('toBytes: a fit is running; save between fits or from its onEpochEnd callback');
    }
    const owned = internal.trainingOwner === this;
    const optimizer = owned ? internal.model.optimizerState() : { step: 0, buffers: [] };
    const schedule = this.schedule;
    const checkpoint: CheckpointState = {
      trainer: {
        loss: this.loss,
        optimizer: { ...optimizerConfig(this.optimizer) },
        batchSize: this.batchSize,
        shuffle: this.shuffle,
        seed: this.seed,
        clipNorm: this.clipNorm,
        schedule: schedule === null ? null : typeof schedule === 'function' ? 'function' : ({ ...schedule }),
      },
      epochsTrained: this.#epochsTrained,
      plateau: this.#plateau && { ...this.#plateau, best: Number.isFinite(this.#plateau.best) ? this.#plateau.best : null },
      shuffleState: Array.from(this.#random.state()),
      // During a fit the dropout stream lives in the backend's model.
      dropoutState: Array.from(internal.fitting ? internal.model.randomState() : this.#dropout.state()),
      optimizerFresh: !owned,
      optimizerStep: optimizer.step,
      optimizerState: optimizer.buffers.map((buffer) => buffer.length),
    };
    const contents = networkContents(this.network);
    return encodeModelFile({ ...contents, header: { ...contents.header, checkpoint }, optimizerState: optimizer.buffers });
  }

  /** Writes {@link Trainer.toBytes} to `path` (Node only), whole or not at all (written beside it, then renamed). */
  async save(path: string): Promise<void> {
    if (typeof path !== 'string') fail('type', 'path', 'a file path string', path);
    await currentPlatform().writeFileAtomically(path, this.toBytes());
  }

  /**
   * Reads a checkpoint written by {@link Trainer.toBytes} onto any backend and resolves to the
   * network and a trainer that goes on where the saved one stopped. A schedule given as a
   * function cannot be saved: pass it again as `options.schedule`. Bytes that are not a
   * checkpoint, or damaged, throw a `ModelFileError`.
   */
  static async fromBytes(bytes: Uint8Array, options: CheckpointLoadOptions = {}): Promise<ResumedTraining> {
    if (!(bytes instanceof Uint8Array)) fail('type', 'bytes', 'a Uint8Array', bytes);
    return Trainer.#fromContents(decodeModelFile(bytes, 'bytes'), 'bytes', options);
  }

  /** Reads a checkpoint written by {@link Trainer.save} (Node only); see {@link Trainer.fromBytes}. */
  static async load(path: string, options: CheckpointLoadOptions = {}): Promise<ResumedTraining> {
    if (typeof path !== 'string') fail('type', 'path', 'a file path string', path);
    const bytes = await currentPlatform().readFile(path);
    return Trainer.#fromContents(decodeModelFile(bytes, path), path, options);
  }

  static async #fromContents(contents: ModelContents, source: string, options: CheckpointLoadOptions): Promise<ResumedTraining> {
    if (typeof options !== 'object' || (options as unknown) === null) fail('type', 'options', '{ backend?, schedule? }', options);
    const { header } = contents;
    if (header.checkpoint === null) {
      throw new ModelFileError(`${source}: a network file, not a checkpoint (load it with Network.load or Network.fromBytes)`);
    }
    const state = header.checkpoint as unknown as CheckpointState;
    const saved = state.trainer;
    if (saved.schedule === 'function' && options.schedule === undefined) {
      throw new TypeError('schedule: the checkpoint was trained with a schedule function, which cannot be saved; pass it again as options.schedule');
    }
    if (saved.schedule !== 'function' && options.schedule !== undefined) {
      throw new TypeError(`schedule: the checkpoint keeps its own schedule (${saved.schedule === null ? 'a constant rate' : 'a config'}); options.schedule is only for one saved as a function`);
    }
    const network = await networkFromContents(contents, options.backend === undefined ? {} : { backend: options.backend });
    try {
      const trainer = Trainer.#restore(network, state, options.schedule, contents.optimizerState);
      return { network, trainer };
    } catch (error) {
      network.dispose();
      if (error instanceof TypeError || error instanceof RangeError) throw new ModelFileError(`${source}: invalid checkpoint: ${error.message}`);
      throw error;
    }
  }

  /** A trainer in the state a checkpoint describes; throws a TypeError or RangeError for one that does not hold together. */
  static #restore(network: Network, state: CheckpointState, schedule: ScheduleConfig | undefined, buffers: Float32Array[]): Trainer {
    if (typeof state.trainer !== 'object' || (state.trainer as unknown) === null) fail('type', 'trainer', 'the saved trainer settings', state.trainer);
    const saved = state.trainer;
    const savedSchedule = saved.schedule === 'function' ? schedule : saved.schedule;
    const trainer = new Trainer(network, {
      loss: saved.loss,
      optimizer: saved.optimizer as unknown as OptimizerConfig,
      batchSize: saved.batchSize,
      shuffle: saved.shuffle,
      seed: saved.seed,
      ...(saved.clipNorm !== null && { clipNorm: saved.clipNorm }),
      ...(savedSchedule !== null && savedSchedule !== undefined && { schedule: savedSchedule as ScheduleConfig }),
    });
    checkSize('epochsTrained', state.epochsTrained);
    trainer.#epochsTrained = state.epochsTrained;
    if ((state.plateau === null) !== (trainer.#plateau === null)) {
      fail('range', 'plateau', trainer.#plateau === null ? 'null for this schedule' : "a reduceOnPlateau schedule's state", state.plateau);
    }
    if (state.plateau !== null) {
      const { best, wait, learningRate } = state.plateau;
      if (best !== null) checkFinite('plateau.best', best);
      checkSize('plateau.wait', wait);
      checkFinite('plateau.learningRate', learningRate);
      if (learningRate <= 0) fail('range', 'plateau.learningRate', 'a positive number', learningRate);
      trainer.#plateau = { best: best ?? Infinity, wait, learningRate };
    }
    trainer.#random.setState(checkGeneratorState('shuffleState', state.shuffleState));
    trainer.#dropout.setState(checkGeneratorState('dropoutState', state.dropoutState));
    const internal = internalsOf(network, 'load');
    checkBoolean('optimizerFresh', state.optimizerFresh);
    if (!state.optimizerFresh) {
      trainer.#claim(internal);
      const fresh = internal.model.optimizerState();
      const expected = fresh.buffers.map((buffer) => buffer.length);
      if (expected.length !== buffers.length || expected.some((length, i) => length !== buffers[i]?.length)) {
        fail('range', 'optimizerState', `buffers of lengths [${expected.join(', ')}] for this optimizer and network`, `[${buffers.map((b) => b.length).join(', ')}]`);
      }
      checkSize('optimizerStep', state.optimizerStep);
      if (state.optimizerStep > 0xffffffff) fail('range', 'optimizerStep', 'a 32-bit step count', state.optimizerStep);
      internal.model.setOptimizerState({ step: state.optimizerStep, buffers });
    }
    return trainer;
  }

  /**
   * Makes the network's model train with this trainer's settings. Its optimizer state belongs
   * to one trainer at a time: a trainer taking the model over starts the optimizer afresh.
   */
  #claim(internal: NetworkInternals): void {
    if (internal.trainingOwner === this) return;
    internal.model.configureTraining({ loss: this.loss, optimizer: this.optimizer, clipNorm: this.clipNorm });
    internal.trainingOwner = this;
    internal.training = { loss: this.loss, optimizer: this.optimizer, batchSize: this.batchSize, epochs: internal.training?.epochs ?? 0 };
  }

  /** What a reduceOnPlateau schedule watches in this fit, or null for other schedules. */
  #plateauMonitor(hasValidation: boolean): 'loss' | 'valLoss' | null {
    const schedule = this.schedule;
    if (schedule === null || typeof schedule === 'function' || schedule.name !== 'reduceOnPlateau') return null;
    if (schedule.monitor === 'auto') return hasValidation ? 'valLoss' : 'loss';
    if (schedule.monitor === 'valLoss' && !hasValidation) {
      throw new RangeError("schedule.monitor: 'valLoss' needs validationData in fit(), got none");
    }
    return schedule.monitor;
  }

  /** Where a fit stands after `call`: within the epoch it ended in, or at the end of one. */
  #progress(
    call: PlannedCall,
    plan: BatchPlan,
    epochs: number,
    samples: number,
    current: { lossSum: number; seconds: number },
    learningRate: number,
    history: History,
  ): FitProgress {
    const { batchesPerEpoch } = plan;
    const end = call.batch + call.ends.length;
    const batch = end % batchesPerEpoch || batchesPerEpoch;
    const epoch = call.epoch + Math.floor((end - 1) / batchesPerEpoch);
    if (batch === batchesPerEpoch) {
      // The call ended an epoch: report that epoch's final figures.
      const loss = history.loss.at(-1) as number;
      return { epoch, epochs, batch, batches: batchesPerEpoch, loss, samplesPerSec: history.samplesPerSec.at(-1) as number, learningRate };
    }
    const seen = Math.min(batch * this.batchSize, samples);
    return { epoch, epochs, batch, batches: batchesPerEpoch, loss: current.lossSum / seen, samplesPerSec: seen / current.seconds, learningRate };
  }

  /** Closes an epoch: its logs (with validation figures when there is validation data), recorded in `history`. */
  #endEpoch(
    internal: NetworkInternals,
    current: { lossSum: number; correct: number; seconds: number },
    samples: number,
    validation: { x: Float32Array; targets: Float32Array; samples: number } | undefined,
    learningRate: number,
    history: History,
  ): EpochLogs {
    const logs: EpochLogs = { loss: current.lossSum / samples, accuracy: current.correct / samples, samplesPerSec: samples / current.seconds, learningRate };
    if (validation) {
      const result = internal.model.evaluate(this.loss, validation.x, validation.targets, validation.samples);
      logs.valLoss = result.loss;
      logs.valAccuracy = result.correct / validation.samples;
      history.valLoss.push(logs.valLoss);
      history.valAccuracy.push(logs.valAccuracy);
    }
    history.loss.push(logs.loss);
    history.accuracy.push(logs.accuracy);
    history.samplesPerSec.push(logs.samplesPerSec);
    history.learningRate.push(learningRate);
    history.epochs += 1;
    (internal.training as TrainingRecord).epochs += 1;
    return logs;
  }

  /**
   * The error for a call that diverged: at its batch `failed`, whose loss was not finite, or
   * (when `loss` is finite) in the weights after all its batches.
   */
  #divergence(call: PlannedCall, batchesPerEpoch: number, failed: number, loss: number, history: History): TrainingDivergedError {
    const place = (position: number): string =>
      `epoch ${call.epoch + Math.floor(position / batchesPerEpoch) + 1}, batch ${(position % batchesPerEpoch) + 1}`;
    const what = Number.isFinite(loss)
      ? `the weights overflowed by ${place(call.batch + failed - 1)}`
      : `the loss became ${loss} at ${place(call.batch + failed)}`;
    return new TrainingDivergedError(
      `fit: training diverged: ${what}; training stopped and the weights were restored to their values before ${place(call.batch)}`,
      history,
    );
  }

  #prepareValidation(validationData: LabeledData): { x: Float32Array; targets: Float32Array; samples: number } {
    if (typeof validationData !== 'object' || (validationData as unknown) === null) {
      fail('type', 'validationData', '{ x, y }', validationData);
    }
    const samples = checkInputs('validationData.x', validationData.x, this.network.inputShape);
    const targets = prepareTargets('validationData.y', validationData.y, samples, this.network.outputSize, this.loss);
    return { x: validationData.x, targets, samples };
  }
}

/** What {@link Trainer.load} and {@link Trainer.fromBytes} resolve to. */
export interface ResumedTraining {
  /** The network as the checkpoint saved it, on the chosen backend. */
  network: Network;
  /** A trainer of that network that goes on where the saved one stopped. */
  trainer: Trainer;
}

/** How {@link Trainer.load} and {@link Trainer.fromBytes} read a checkpoint. */
export interface CheckpointLoadOptions {
  /** The backend to load onto; any backend reads any checkpoint. Default `'auto'`. */
  backend?: BackendName | 'auto';
  /** The schedule function the checkpoint was trained with (a function cannot be saved). */
  schedule?: ScheduleFunction;
}

/** A trainer's state in a checkpoint's header (docs/model-format.md, "Checkpoints"). */
interface CheckpointState extends CheckpointHeader {
  trainer: {
    loss: LossName;
    optimizer: JsonObject;
    batchSize: number;
    shuffle: boolean;
    seed: number;
    clipNorm: number | null;
    /** A schedule config, `'function'` for one that cannot be saved, or null for a constant rate. */
    schedule: JsonObject | 'function' | null;
  };
  epochsTrained: number;
  /** A reduceOnPlateau schedule's state (`best` null before any epoch), or null. */
  plateau: { best: number | null; wait: number; learningRate: number } | null;
  shuffleState: number[];
  dropoutState: number[];
  /** The optimizer had not started for this trainer (another trainer owned the network's state). */
  optimizerFresh: boolean;
  optimizerStep: number;
}

/** Four 32-bit words of a xoshiro128** state, not all zero (that state only ever gives zeros). */
function checkGeneratorState(argument: string, value: unknown): Uint32Array {
  if (!Array.isArray(value) || value.length !== 4 || !value.every((word) => Number.isInteger(word) && word >= 0 && word <= 0xffffffff)) {
    fail('range', argument, 'four 32-bit unsigned integers', value);
  }
  if (value.every((word) => word === 0)) fail('range', argument, 'a generator state that is not all zeros', value);
  return Uint32Array.from(value as number[]);
}

/** Early stopping with its defaults filled in and its monitor decided for one fit. */
interface ResolvedEarlyStopping {
  monitor: 'loss' | 'valLoss';
  patience: number;
  minDelta: number;
  restoreBestWeights: boolean;
}

const EARLY_STOPPING_KEYS = ['monitor', 'patience', 'minDelta', 'restoreBestWeights'];

function resolveEarlyStopping(options: unknown, hasValidation: boolean): ResolvedEarlyStopping {
  if (typeof options !== 'object' || options === null) fail('type', 'earlyStopping', '{ patience, monitor?, minDelta?, restoreBestWeights? }', options);
  for (const key of Object.keys(options)) {
    if (!EARLY_STOPPING_KEYS.includes(key)) fail('range', `earlyStopping.${key}`, `one of ${EARLY_STOPPING_KEYS.join(', ')}`, key);
  }
  const { monitor = hasValidation ? 'valLoss' : 'loss', patience, minDelta = 0, restoreBestWeights = false } = options as Partial<EarlyStoppingOptions>;
  checkOneOf('earlyStopping.monitor', monitor, ['loss', 'valLoss'] as const);
  if (monitor === 'valLoss' && !hasValidation) throw new RangeError("earlyStopping.monitor: 'valLoss' needs validationData, got none");
  checkPositiveInteger('earlyStopping.patience', patience);
  checkFinite('earlyStopping.minDelta', minDelta);
  if (minDelta < 0) fail('range', 'earlyStopping.minDelta', 'a non-negative number', minDelta);
  checkBoolean('earlyStopping.restoreBestWeights', restoreBestWeights);
  return { monitor, patience, minDelta, restoreBestWeights };
}
