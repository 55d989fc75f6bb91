/**
 * The training model in plain TypeScript: a sequence of layers (./layers, one file per kind)
 * run the same way, step for step, as the Rust `Model` in crates/kernels/src/model.rs, built
 * from this backend's kernels. It is the reference the compiled backends are tested against.
 */

import type { BackendModel, BatchGradients, Evaluation, OptimizerState, TrainingData, TrainingSettings, TrainOutcome } from '../backend.js';
import type { ResolvedLayer } from '../../layers/types.js';
import { sizeOf } from '../../layers/index.js';
import type { LossName } from '../../losses/index.js';
import { Random } from '../../random.js';
import { createLayer, type Parameter, type TsLayer } from './layers/index.js';
import { atLeast } from './layers/layer.js';
import * as losses from './losses.js';
import * as optimizers from './optimizers.js';

/** The most rows per forward pass in predict and evaluate, as in the Rust model. */
const INFERENCE_CHUNK_ROWS = 1024;

/**
 * The most floats an inference chunk may put in any one layer's output or scratch buffer, as
 * in the Rust model: predict and evaluate over a large data set go in chunks, so a CNN's
 * inference memory stays bounded (convolutions' patches set the bound).
 */
const INFERENCE_CHUNK_FLOATS = 2 ** 22;

function evaluateLoss(loss: LossName, rows: number, cols: number, predictions: Float32Array, targets: Float32Array, gradient: Float32Array): number {
  switch (loss) {
    case 'meanSquaredError':
      return losses.meanSquaredError(predictions, targets, gradient);
    case 'binaryCrossEntropy':
      return losses.binaryCrossEntropy(predictions, targets, gradient);
    case 'categoricalCrossEntropy':
      return losses.softmaxCrossEntropy(rows, cols, predictions, targets, gradient);
  }
}

/** The cross-entropies write the gradient with respect to the output layer's pre-activation. */
function isFusedWithActivation(loss: LossName): boolean {
  return loss !== 'meanSquaredError';
}

/**
 * One optimizer step over every trained buffer, once all the batch's gradients are known, as
 * the Rust model's `update`: clipping to `clipNorm` over all of them (`clip_grad_norm_`), weight
 * decay on kernels only (added to the gradient, or for AdamW applied to the parameter first,
 * as PyTorch's optimizers do), then the update.
 */
function update({ optimizer: settings, clipNorm }: TrainingSettings, step: number, parameters: readonly Parameter[]): void {
  if (clipNorm !== null) clip(clipNorm, parameters);
  const { learningRate, weightDecay } = settings;
  const decoupled = settings.name === 'adamw';
  for (const { values, trained, decays, gradient, optimizerState: state } of parameters) {
    if (!trained) continue;
    if (decays && weightDecay !== 0) {
      const shrink = 1 - learningRate * weightDecay;
      for (let i = 0; i < values.length; i++) {
        if (decoupled) values[i] = (values[i] as number) * shrink;
        else gradient[i] = (gradient[i] as number) + weightDecay * (values[i] as number);
      }
    }
    switch (settings.name) {
      case 'sgd':
        optimizers.sgdUpdate(learningRate, values, gradient);
        break;
      case 'momentum':
        optimizers.momentumUpdate(learningRate, settings.momentum, values, gradient, state[0] as Float32Array);
        break;
      case 'rmsprop':
        optimizers.rmspropUpdate(learningRate, settings.rho, settings.epsilon, values, gradient, state[0] as Float32Array);
        break;
      case 'adam':
      case 'adamw':
        optimizers.adamUpdate(learningRate, settings.beta1, settings.beta2, settings.epsilon, step, values, gradient, state[0] as Float32Array, state[1] as Float32Array);
    }
  }
}

/** Scales every trained gradient by `min(1, clipNorm / (norm + 1e-6))`, `norm` their global L2 norm. */
function clip(clipNorm: number, parameters: readonly Parameter[]): void {
  let squares = 0;
  for (const { trained, gradient } of parameters) {
    if (trained) for (const g of gradient) squares += g * g;
  }
  const scale = clipNorm / (Math.sqrt(squares) + 1e-6);
  if (scale >= 1) return;
  // The Rust model scales by the f32 nearest the factor; so does this.
  const factor = Math.fround(scale);
  for (const { trained, gradient } of parameters) {
    if (!trained) continue;
    for (let i = 0; i < gradient.length; i++) gradient[i] = (gradient[i] as number) * factor;
  }
}

const STATE_BUFFERS = { sgd: 0, momentum: 1, rmsprop: 1, adam: 2, adamw: 2 } as const;

/** Rows per sample that are equal on the same side of 0.5 (one output) or share an argmax (several). */
export function countCorrect(outputs: number, predictions: Float32Array, targets: Float32Array): number {
  const rows = Math.floor(predictions.length / outputs);
  let correct = 0;
  for (let r = 0; r < rows; r++) {
    const base = r * outputs;
    if (outputs === 1) {
      if (((predictions[base] as number) >= 0.5) === ((targets[base] as number) >= 0.5)) correct++;
    } else if (argmax(predictions, base, outputs) === argmax(targets, base, outputs)) {
      correct++;
    }
  }
  return correct;
}

/**
 * Floats per sample of targets `y` for `rows` samples: the outputs, or 1 where `y` holds class
 * indices (one per sample, for categorical cross-entropy over two or more classes), which each
 * batch expands with {@link oneHotRows}, as the Rust model does.
 */
function targetWidth(loss: LossName, y: Float32Array, rows: number, outputs: number): number {
  return loss === 'categoricalCrossEntropy' && outputs > 1 && y.length === rows ? 1 : outputs;
}

/** Class indices (one per row, checked where they entered the API) as one-hot rows of `classes`. */
function oneHotRows(indices: Float32Array, classes: number): Float32Array {
  const rows = new Float32Array(indices.length * classes);
  indices.forEach((index, row) => {
    rows[row * classes + index] = 1;
  });
  return rows;
}

function argmax(values: Float32Array, base: number, count: number): number {
  let best = 0;
  let bestValue = -Infinity;
  for (let i = 0; i < count; i++) {
    const v = values[base + i] as number;
    if (v > bestValue) {
      best = i;
      bestValue = v;
    }
  }
  return best;
}

interface HostData extends TrainingData {
  x: Float32Array;
  y: Float32Array;
}

/** One layer with the buffers the model keeps for it between passes, grown to the largest batch seen. */
interface Stage {
  layer: TsLayer;
  /** Its outputs, `[rows][outputSize]`. */
  outputs: Float32Array;
  /** The loss gradient with respect to its outputs, `[rows][outputSize]` (training only). */
  gradients: Float32Array;
}

/** A sequence of layers with its training state; see the module comment. */
export class TsModel implements BackendModel {
  readonly #inputSize: number;
  readonly #stages: Stage[];
  /** Every layer's parameter buffers in order: `parameter(index)` is `#parameters[index]`. */
  readonly #parameters: Parameter[];
  readonly #inferenceChunkRows: number;
  /** Draws the dropout masks (docs/layers.md, "Dropout masks"); the Trainer sets its state. */
  readonly #dropoutRandom = new Random(0);
  #training: { settings: TrainingSettings; step: number } | null = null;

  constructor(inputShape: readonly number[], layers: readonly ResolvedLayer[]) {
    this.#inputSize = sizeOf(inputShape);
    this.#stages = layers.map((layer) => ({ layer: createLayer(layer), outputs: new Float32Array(0), gradients: new Float32Array(0) }));
    this.#parameters = this.#stages.flatMap(({ layer }) => layer.parameters);
    const largestPerSample = Math.max(1, ...this.#stages.map(({ layer }) => Math.max(layer.outputSize, layer.scratchPerSample)));
    this.#inferenceChunkRows = Math.min(INFERENCE_CHUNK_ROWS, Math.max(1, Math.floor(INFERENCE_CHUNK_FLOATS / largestPerSample)));
  }

  get #outputSize(): number {
    return (this.#stages.at(-1) as Stage).layer.outputSize;
  }

  parameter(index: number): Float32Array {
    return (this.#parameters[index] as Parameter).values.slice();
  }

  setParameter(index: number, values: Float32Array): void {
    (this.#parameters[index] as Parameter).values.set(values);
  }

  configureTraining(settings: TrainingSettings): void {
    const buffers = STATE_BUFFERS[settings.optimizer.name];
    for (const parameter of this.#parameters) {
      parameter.optimizerState = parameter.trained ? Array.from({ length: buffers }, () => new Float32Array(parameter.values.length)) : [];
    }
    this.#training = { settings: { ...settings, optimizer: { ...settings.optimizer } }, step: 0 };
  }

  setLearningRate(rate: number): void {
    this.#trainingOrThrow().settings.optimizer.learningRate = rate;
  }

  optimizerState(): OptimizerState {
    const buffers = this.#parameters.flatMap(({ optimizerState }) => optimizerState.map((buffer) => buffer.slice()));
    return { step: this.#trainingOrThrow().step, buffers };
  }

  setOptimizerState({ step, buffers }: OptimizerState): void {
    const training = this.#trainingOrThrow();
    const targets = this.#parameters.flatMap(({ optimizerState }) => optimizerState);
    targets.forEach((target, i) => {
      target.set(buffers[i] as Float32Array);
    });
    training.step = step;
  }

  #trainingOrThrow(): { settings: TrainingSettings; step: number } {
    if (!this.#training) throw new Error('configureTraining must come first');
    return this.#training;
  }

  setRandomState(state: Uint32Array): void {
    this.#dropoutRandom.setState(state);
  }

  randomState(): Uint32Array {
    return this.#dropoutRandom.state();
  }

  predict(x: Float32Array, rows: number): Float32Array {
    const outputs = this.#outputSize;
    const out = new Float32Array(rows * outputs);
    for (let start = 0; start < rows; start += this.#inferenceChunkRows) {
      const chunkRows = Math.min(this.#inferenceChunkRows, rows - start);
      const predictions = this.#forward(x.subarray(start * this.#inputSize, (start + chunkRows) * this.#inputSize), chunkRows, false);
      out.set(predictions, start * outputs);
    }
    return out;
  }

  evaluate(loss: LossName, x: Float32Array, y: Float32Array, rows: number): Evaluation {
    const predictions = this.predict(x, rows);
    const outputs = this.#outputSize;
    let total = 0;
    const width = targetWidth(loss, y, rows, outputs);
    let correct = 0;
    const gradient = new Float32Array(Math.min(this.#inferenceChunkRows, rows) * outputs);
    for (let start = 0; start < rows; start += this.#inferenceChunkRows) {
      const chunkRows = Math.min(this.#inferenceChunkRows, rows - start);
      const chunkPredictions = predictions.subarray(start * outputs, (start + chunkRows) * outputs);
      const chunkTargets = y.subarray(start * width, (start + chunkRows) * width);
      const targets = width < outputs ? oneHotRows(chunkTargets, outputs) : chunkTargets;
      total += evaluateLoss(loss, chunkRows, outputs, chunkPredictions, targets, gradient.subarray(0, chunkRows * outputs)) * chunkRows;
      correct += countCorrect(outputs, chunkPredictions, targets);
    }
    return { loss: rows === 0 ? 0 : total / rows, correct, predictions };
  }

  bindData(x: Float32Array, y: Float32Array, samples: number): HostData {
    return { x, y, samples, dispose: () => undefined };
  }

  trainBatches(data: TrainingData, indices: Uint32Array, batchEnds: Uint32Array, losses: Float64Array, correct: Uint32Array): TrainOutcome {
    const training = this.#trainingOrThrow();
    const { x, y, samples } = data as HostData;
    const outputs = this.#outputSize;
    const width = targetWidth(training.settings.loss, y, samples, outputs);
    // Every buffer, moving statistics included, so that a rollback returns the model to the call's start.
    const checkpoint = this.#parameters.map(({ values }) => values.slice());
    const outcome: TrainOutcome = { batches: 0, diverged: false };
    let start = 0;
    for (const [b, end] of batchEnds.entries()) {
      const batch = indices.subarray(start, end);
      start = end;
      const rows = batch.length;
      const bx = gather(x, this.#inputSize, batch);
      const by = width < outputs ? oneHotRows(gather(y, 1, batch), outputs) : gather(y, outputs, batch);
      const predictions = this.#forward(bx, rows, true);
      const outputGradient = (this.#stages.at(-1) as Stage).gradients.subarray(0, rows * outputs);
      const loss = evaluateLoss(training.settings.loss, rows, outputs, predictions, by, outputGradient);
      losses[b] = loss;
      if (!Number.isFinite(loss)) {
        outcome.diverged = true;
        break;
      }
      correct[b] = countCorrect(outputs, predictions, by);
      training.step += 1;
      this.#backward(bx, rows, isFusedWithActivation(training.settings.loss));
      update(training.settings, training.step, this.#parameters);
      outcome.batches += 1;
    }
    outcome.diverged ||= !this.#parameters.every(({ values }) => values.every(Number.isFinite));
    if (outcome.diverged) {
      this.#parameters.forEach(({ values }, index) => {
        values.set(checkpoint[index] as Float32Array);
      });
    }
    return outcome;
  }

  trace(x: Float32Array, rows: number): Float32Array {
    const sizes = this.#stages.map(({ layer }) => layer.outputSize);
    const out = new Float32Array(rows * 2 * sizes.reduce((sum, size) => sum + size, 0));
    for (let start = 0; start < rows; start += this.#inferenceChunkRows) {
      const chunkRows = Math.min(this.#inferenceChunkRows, rows - start);
      let input = x.subarray(start * this.#inputSize, (start + chunkRows) * this.#inputSize);
      let base = 0;
      for (const [l, { layer }] of this.#stages.entries()) {
        const size = sizes[l] as number;
        const [from, n] = [start * size, chunkRows * size];
        const preActivation = out.subarray(base + from, base + from + n);
        const output = out.subarray(base + rows * size + from, base + rows * size + from + n);
        if (layer.trace) {
          layer.trace(input, chunkRows, preActivation, output);
        } else {
          layer.forward(input, chunkRows, output, false, this.#dropoutRandom);
          preActivation.set(output);
        }
        input = output;
        base += 2 * rows * size;
      }
    }
    return out;
  }

  gradients(loss: LossName, x: Float32Array, y: Float32Array, rows: number, randomState: Uint32Array): BatchGradients {
    const outputs = this.#outputSize;
    // The training-mode pass moves the moving statistics and draws from the generator: both go back.
    const moving = this.#parameters.filter(({ trained }) => !trained).map(({ values }) => values.slice());
    const ownRandom = this.#dropoutRandom.state();
    this.#dropoutRandom.setState(randomState);
    try {
      const predictions = this.#forward(x, rows, true);
      const outputGradient = (this.#stages.at(-1) as Stage).gradients.subarray(0, rows * outputs);
      const targets = targetWidth(loss, y, rows, outputs) < outputs ? oneHotRows(y, outputs) : y;
      const value = evaluateLoss(loss, rows, outputs, predictions, targets, outputGradient);
      this.#backward(x, rows, isFusedWithActivation(loss));
      const trained = this.#parameters.filter(({ trained: isTrained }) => isTrained);
      const gradients = new Float32Array(trained.reduce((sum, { gradient }) => sum + gradient.length, 0));
      let offset = 0;
      for (const { gradient } of trained) {
        gradients.set(gradient, offset);
        offset += gradient.length;
      }
      return { loss: value, gradients };
    } finally {
      this.#dropoutRandom.setState(ownRandom);
      this.#parameters
        .filter(({ trained }) => !trained)
        .forEach(({ values }, i) => {
          values.set(moving[i] as Float32Array);
        });
    }
  }

  dispose(): void {
    this.#training = null;
  }

  /** Every layer forward on `rows` samples of `input`; returns the last layer's outputs. */
  #forward(input: Float32Array, rows: number, training: boolean): Float32Array {
    let x = input;
    for (const stage of this.#stages) {
      const n = rows * stage.layer.outputSize;
      stage.outputs = atLeast(stage.outputs, n, (length) => new Float32Array(length));
      if (training) stage.gradients = atLeast(stage.gradients, n, (length) => new Float32Array(length));
      const output = stage.outputs.subarray(0, n);
      stage.layer.forward(x, rows, output, training, this.#dropoutRandom);
      x = output;
    }
    return x;
  }

  /**
   * Every layer backward, last to first, from the loss gradient in the last layer's
   * `gradients`; each writes its parameters' gradients and its input's into the previous
   * layer's `gradients` (the first layer's input gradient is not needed).
   */
  #backward(input: Float32Array, rows: number, outputIsPreActivation: boolean): void {
    for (let l = this.#stages.length - 1; l >= 0; l--) {
      const stage = this.#stages[l] as Stage;
      const previous = this.#stages[l - 1];
      const n = rows * stage.layer.outputSize;
      const m = previous ? rows * previous.layer.outputSize : 0;
      stage.layer.backward({
        input: previous ? previous.outputs.subarray(0, m) : input,
        output: stage.outputs.subarray(0, n),
        rows,
        outputGradient: stage.gradients.subarray(0, n),
        inputGradient: previous ? previous.gradients.subarray(0, m) : null,
        outputIsPreActivation: outputIsPreActivation && l === this.#stages.length - 1,
      });
    }
  }
}

/** The batch's rows of `values` (`width` floats per row): a view when they are contiguous, else a gathered copy. */
function gather(values: Float32Array, width: number, batch: Uint32Array): Float32Array {
  const first = batch[0] ?? 0;
  let contiguous = true;
  for (let i = 1; i < batch.length && contiguous; i++) contiguous = batch[i] === first + i;
  if (contiguous) return values.subarray(first * width, (first + batch.length) * width);
  const out = new Float32Array(batch.length * width);
  batch.forEach((row, i) => {
    out.set(values.subarray(row * width, (row + 1) * width), i * width);
  });
  return out;
}
