/** The Trainer: minibatch gradient descent over epochs, with progress and history. */

import { checkInputs, prepareTargets } from './data.js';
import type { LayerShape } from './layers/index.js';
import { checkLossFitsOutput, defaultLoss, LOSSES, type LossName } from './losses/index.js';
import { internalsOf, type Network, type TrainingRecord } from './network.js';
import { resolveOptimizer, type OptimizerConfig, type OptimizerName, type OptimizerSettings } from './optimizers/index.js';
import { Random } from './random.js';
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
  /** Seed of the shuffling order. Default: the network's seed. */
  seed?: number;
}

/** Inputs and their targets. */
export interface LabeledData {
  /** Inputs, `[samples][inputSize]` row-major. */
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

/** Lets timers, I/O and rendering run between groups of batches. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => {
    if (typeof setImmediate === 'function') setImmediate(resolve);
    else setTimeout(resolve, 0);
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

  constructor(network: Network, options: TrainerOptions = {}) {
    internalsOf(network, 'Trainer');
    if (typeof options !== 'object' || (options as unknown) === null) fail('type', 'options', 'a TrainerOptions object', options);
    const outputActivation = (network.layers.at(-1) as LayerShape).activation;
    const { loss = defaultLoss(outputActivation), optimizer = 'adam', batchSize = 32, shuffle = true, seed = network.seed } = options;
    checkOneOf('loss', loss, LOSSES);
    checkLossFitsOutput(loss, outputActivation);
    checkPositiveInteger('batchSize', batchSize);
    checkBoolean('shuffle', shuffle);
    if (!Number.isSafeInteger(seed)) fail(typeof seed === 'number' ? 'range' : 'type', 'seed', 'an integer', seed);
    this.network = network;
    this.loss = loss;
    this.optimizer = Object.freeze(resolveOptimizer(optimizer));
    this.batchSize = batchSize;
    this.shuffle = shuffle;
    this.#random = new Random(seed);
  }

  /**
   * Trains on inputs `x` (`[samples][inputSize]`) and targets `y` (`[samples][outputs]`, or
   * class indices for categorical cross-entropy). Resolves with the per-epoch history.
   * Fitting again continues with the same optimizer state.
   */
  async fit(x: Float32Array, y: Float32Array | Int32Array | Uint8Array, options: FitOptions = {}): Promise<History> {
    const network = this.network;
    const internal = internalsOf(network, 'fit');
    if (internal.fitting) throw new Error('fit: this network is already training; await the running fit() first');
    const { epochs = 1, validationData, onEpochEnd, onProgress, signal } = options;
    checkPositiveInteger('epochs', epochs);
    const samples = checkInputs('x', x, network.inputSize);
    const targets = prepareTargets('y', y, samples, network.outputSize, this.loss);
    if (this.batchSize > samples) {
      throw new RangeError(`batchSize: expected at most the number of samples (${samples}), got ${this.batchSize}`);
    }
    const validation = validationData && this.#prepareValidation(validationData);

    const { model } = internal;
    if (internal.trainingOwner !== this) {
      model.configureTraining(this.loss, this.optimizer);
      internal.trainingOwner = this;
      internal.training = { loss: this.loss, optimizer: this.optimizer, batchSize: this.batchSize, epochs: internal.training?.epochs ?? 0 };
    }
    internal.fitting = true;
    const data = model.bindData(x, targets, samples);
    const history: History = { epochs: 0, loss: [], accuracy: [], valLoss: [], valAccuracy: [], samplesPerSec: [] };
    try {
      const order = Uint32Array.from({ length: samples }, (_, i) => i);
      const batches = Math.ceil(samples / this.batchSize);
      let batchesPerCall = 1;
      let lastYield = now();
      for (let epoch = 0; epoch < epochs && !signal?.aborted; epoch++) {
        if (this.shuffle) this.#random.shuffle(order);
        const started = now();
        let lossSum = 0;
        let correct = 0;
        for (let batch = 0; batch < batches && !signal?.aborted; ) {
          const count = Math.min(batchesPerCall, batches - batch);
          const indices = order.subarray(batch * this.batchSize, Math.min((batch + count) * this.batchSize, samples));
          const callStarted = now();
          const outcome = model.trainBatches(data, indices, this.batchSize);
          if (outcome.diverged) {
            internal.trainingOwner = null; // the optimizer state saw the diverged steps: start afresh next fit
            const what = Number.isFinite(outcome.lastLoss)
              ? `the weights overflowed by batch ${batch + count}`
              : `the loss became ${outcome.lastLoss} at batch ${batch + outcome.batches + 1}`;
            throw new TrainingDivergedError(
              `fit: training diverged in epoch ${epoch + 1}: ${what}; ` +
                `training stopped and the weights were restored to their values before batch ${batch + 1} of that epoch`,
              history,
            );
          }
          lossSum += outcome.lossSum;
          correct += outcome.correct;
          batch += count;
          const elapsed = now() - callStarted;
          batchesPerCall = Math.max(1, Math.min(2 * count, Math.round((count * TARGET_CALL_MS) / Math.max(elapsed, 0.01))));
          const seen = Math.min(batch * this.batchSize, samples);
          onProgress?.({ epoch, epochs, batch, batches, loss: lossSum / seen, samplesPerSec: seen / ((now() - started) / 1000) });
          if (now() - lastYield > TARGET_CALL_MS) {
            await yieldToEventLoop();
            lastYield = now();
          }
        }
        if (signal?.aborted) break;
        const logs: EpochLogs = { loss: lossSum / samples, accuracy: correct / samples, samplesPerSec: samples / ((now() - started) / 1000) };
        if (validation) {
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
        (internal.training as TrainingRecord).epochs += 1;
        if ((await onEpochEnd?.(epoch, logs)) === false) break;
      }
      return history;
    } finally {
      data.dispose();
      internal.fitting = false;
    }
  }

  #prepareValidation(validationData: LabeledData): { x: Float32Array; targets: Float32Array; samples: number } {
    if (typeof validationData !== 'object' || (validationData as unknown) === null) {
      fail('type', 'validationData', '{ x, y }', validationData);
    }
    const samples = checkInputs('validationData.x', validationData.x, this.network.inputSize);
    const targets = prepareTargets('validationData.y', validationData.y, samples, this.network.outputSize, this.loss);
    return { x: validationData.x, targets, samples };
  }
}
