/** The Trainer: minibatch gradient descent over epochs, with progress and history. */

import { checkInputs, prepareTargets } from './data.js';
import { outputActivation } from './layers/index.js';
import { checkLossFitsOutput, defaultLoss, LOSSES, type LossName } from './losses/index.js';
import { internalsOf, Network, type TrainingRecord } from './network.js';
import { resolveOptimizer, type OptimizerConfig, type OptimizerName, type OptimizerSettings } from './optimizers/index.js';
import { Random } from './random.js';
import { BatchSchedule, type PlannedCall } from './schedule.js';
import { checkBoolean, checkOneOf, checkPositiveInteger, fail } from './validation.js';

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
}

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
  readonly #random: Random;
  /** The dropout masks' generator: the backend draws from it during a fit, and it continues in the next one. */
  readonly #dropout: Random;

  constructor(network: Network, options: TrainerOptions = {}) {
    if (!(network instanceof Network)) fail('type', 'network', 'a Network', network);
    internalsOf(network, 'Trainer');
    if (typeof options !== 'object' || (options as unknown) === null) fail('type', 'options', 'a TrainerOptions object', options);
    const output = outputActivation(network.layers);
    const { loss = defaultLoss(output), optimizer = 'adam', batchSize = 32, shuffle = true, seed = network.seed } = options;
    checkOneOf('loss', loss, LOSSES);
    checkLossFitsOutput(loss, output);
    checkPositiveInteger('batchSize', batchSize);
    checkBoolean('shuffle', shuffle);
    if (!Number.isSafeInteger(seed)) fail(typeof seed === 'number' ? 'range' : 'type', 'seed', 'an integer', seed);
    this.network = network;
    this.loss = loss;
    this.optimizer = Object.freeze(resolveOptimizer(optimizer));
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.#random = new Random(seed);
    this.#dropout = new Random((seed ^ 0x6a09e667) >>> 0);
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
    const { epochs = 1, validationData, onEpochEnd, onProgress, signal } = options;
    checkPositiveInteger('epochs', epochs);
    const samples = checkInputs('x', x, network.inputShape);
    const targets = prepareTargets('y', y, samples, network.outputSize, this.loss);
    if (this.batchSize > samples) {
      throw new RangeError(`batchSize: expected at most the number of samples (${samples}), got ${this.batchSize}`);
    }
    const validation = validationData === undefined ? undefined : this.#prepareValidation(validationData);

    const { model } = internal;
    if (internal.trainingOwner !== this) {
      model.configureTraining(this.loss, this.optimizer);
      internal.trainingOwner = this;
      internal.training = { loss: this.loss, optimizer: this.optimizer, batchSize: this.batchSize, epochs: internal.training?.epochs ?? 0 };
    }
    internal.fitting = true;
    const data = model.bindData(x, targets, samples);
    const history: History = { epochs: 0, loss: [], accuracy: [], valLoss: [], valAccuracy: [], samplesPerSec: [] };
    const schedule = new BatchSchedule(samples, this.batchSize, epochs, this.shuffle ? this.#random : null);
    const { batchesPerEpoch } = schedule;
    // Calls may span epochs only when nothing looks at the network between them.
    const acrossEpochs = validation === undefined && onEpochEnd === undefined;
    let records = { losses: new Float64Array(1), correct: new Uint32Array(1) };
    /** The epoch being accumulated: its loss sum (loss x rows), correct count and seconds. */
    const current = { lossSum: 0, correct: 0, seconds: 0 };
    let budget = 1;
    model.setRandomState(this.#dropout.state());
    try {
      // fit() never finishes synchronously, even when every batch fits in one call: a second
      // fit() made in the same turn must meet the first one still running.
      await yieldToEventLoop();
      let lastYield = now();
      while (!schedule.done && !signal?.aborted) {
        const call = schedule.next(budget, acrossEpochs);
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
          const rows = schedule.rowsOf(batch);
          current.lossSum += (losses[b] as number) * rows;
          current.correct += correct[b] as number;
          current.seconds += seconds / count;
          if (batch === batchesPerEpoch - 1) {
            const epoch = call.epoch + Math.floor(position / batchesPerEpoch);
            const logs = this.#endEpoch(current, samples, validation, history);
            Object.assign(current, { lossSum: 0, correct: 0, seconds: 0 });
            const verdict = onEpochEnd?.(epoch, logs);
            stop = (verdict instanceof Promise ? await verdict : verdict) === false;
          }
        }
        if (stop) break;
        budget = Math.max(1, Math.min(2 * count, Math.round((count * TARGET_CALL_MS) / Math.max(seconds * 1000, 0.01))));
        onProgress?.(this.#progress(call, schedule, epochs, samples, current, history));
        if (now() - lastYield > TARGET_CALL_MS) {
          await yieldToEventLoop();
          lastYield = now();
        }
      }
      return history;
    } finally {
      this.#dropout.setState(model.randomState());
      data.dispose();
      internal.fitting = false;
    }
  }

  /** Where a fit stands after `call`: within the epoch it ended in, or at the end of one. */
  #progress(
    call: PlannedCall,
    schedule: BatchSchedule,
    epochs: number,
    samples: number,
    current: { lossSum: number; seconds: number },
    history: History,
  ): FitProgress {
    const { batchesPerEpoch } = schedule;
    const end = call.batch + call.ends.length;
    const batch = end % batchesPerEpoch || batchesPerEpoch;
    const epoch = call.epoch + Math.floor((end - 1) / batchesPerEpoch);
    if (batch === batchesPerEpoch) {
      // The call ended an epoch: report that epoch's final figures.
      const loss = history.loss.at(-1) as number;
      return { epoch, epochs, batch, batches: batchesPerEpoch, loss, samplesPerSec: history.samplesPerSec.at(-1) as number };
    }
    const seen = Math.min(batch * this.batchSize, samples);
    return { epoch, epochs, batch, batches: batchesPerEpoch, loss: current.lossSum / seen, samplesPerSec: seen / current.seconds };
  }

  /** Closes an epoch: its logs (with validation figures when there is validation data), recorded in `history`. */
  #endEpoch(
    current: { lossSum: number; correct: number; seconds: number },
    samples: number,
    validation: { x: Float32Array; targets: Float32Array; samples: number } | undefined,
    history: History,
  ): EpochLogs {
    const logs: EpochLogs = { loss: current.lossSum / samples, accuracy: current.correct / samples, samplesPerSec: samples / current.seconds };
    if (validation) {
      const { model } = internalsOf(this.network, 'fit');
      const result = model.evaluate(this.loss, validation.x, validation.targets, validation.samples);
      logs.valLoss = result.loss;
      logs.valAccuracy = result.correct / validation.samples;
      history.valLoss.push(logs.valLoss);
      history.valAccuracy.push(logs.valAccuracy);
    }
    history.loss.push(logs.loss);
    history.accuracy.push(logs.accuracy);
    history.samplesPerSec.push(logs.samplesPerSec);
    history.epochs += 1;
    (internalsOf(this.network, 'fit').training as TrainingRecord).epochs += 1;
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
