/**
 * The training model in plain TypeScript: the same algorithm, step for step, as the Rust
 * `Model` in crates/kernels/src/model.rs, built from this backend's kernels. It is the
 * reference the compiled backends are tested against.
 */

import type { BackendModel, Evaluation, TrainingData, TrainOutcome } from '../backend.js';
import type { LayerShape } from '../../layers/index.js';
import type { LossName } from '../../losses/index.js';
import type { OptimizerSettings } from '../../optimizers/index.js';
import * as activations from './activations.js';
import { biasAdd, columnSums } from './bias.js';
import { gemm } from './gemm.js';
import * as losses from './losses.js';
import * as optimizers from './optimizers.js';

/** Rows per forward pass in predict and evaluate, as in the Rust model. */
const INFERENCE_CHUNK_ROWS = 1024;

interface Layer extends LayerShape {
  weights: Float32Array;
  bias: Float32Array;
  weightGradient: Float32Array;
  biasGradient: Float32Array;
  weightState: Float32Array[];
  biasState: Float32Array[];
  outputs: Float32Array;
  delta: Float32Array;
}

/** `values = f(values)` in place (the ts kernels allow their input and output to coincide). */
function activate(layer: Layer, rows: number, values: Float32Array): void {
  switch (layer.activation) {
    case 'linear':
      return;
    case 'relu':
      activations.reluForward(values, values);
      return;
    case 'leakyRelu':
      activations.leakyReluForward(layer.alpha, values, values);
      return;
    case 'tanh':
      activations.tanhForward(values, values);
      return;
    case 'sigmoid':
      activations.sigmoidForward(values, values);
      return;
    case 'softmax':
      activations.softmaxForward(rows, layer.units, values, values);
  }
}

/** `gradient = gradient * f'(x)` in place, from the forward output `y`. */
function activateBackward(layer: Layer, rows: number, y: Float32Array, gradient: Float32Array): void {
  switch (layer.activation) {
    case 'linear':
      return;
    case 'relu':
      activations.reluBackward(y, gradient, gradient);
      return;
    case 'leakyRelu':
      activations.leakyReluBackward(layer.alpha, y, gradient, gradient);
      return;
    case 'tanh':
      activations.tanhBackward(y, gradient, gradient);
      return;
    case 'sigmoid':
      activations.sigmoidBackward(y, gradient, gradient);
      return;
    case 'softmax':
      activations.softmaxBackward(rows, layer.units, y, gradient, gradient);
  }
}

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

function update(settings: OptimizerSettings, step: number, params: Float32Array, gradients: Float32Array, state: Float32Array[]): void {
  const { learningRate } = settings;
  switch (settings.name) {
    case 'sgd':
      optimizers.sgdUpdate(learningRate, params, gradients);
      return;
    case 'momentum':
      optimizers.momentumUpdate(learningRate, settings.momentum, params, gradients, state[0] as Float32Array);
      return;
    case 'adam':
      optimizers.adamUpdate(learningRate, settings.beta1, settings.beta2, settings.epsilon, step, params, gradients, state[0] as Float32Array, state[1] as Float32Array);
  }
}

const STATE_BUFFERS = { sgd: 0, momentum: 1, adam: 2 } as const;

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

export class TsModel implements BackendModel {
  readonly #inputs: number;
  readonly #layers: Layer[];
  #training: { loss: LossName; optimizer: OptimizerSettings; step: number } | null = null;

  constructor(inputs: number, shapes: readonly LayerShape[]) {
    this.#inputs = inputs;
    this.#layers = shapes.map((shape) => ({
      ...shape,
      weights: new Float32Array(shape.units * shape.inputs),
      bias: new Float32Array(shape.units),
      weightGradient: new Float32Array(shape.units * shape.inputs),
      biasGradient: new Float32Array(shape.units),
      weightState: [],
      biasState: [],
      outputs: new Float32Array(0),
      delta: new Float32Array(0),
    }));
  }

  get #outputs(): number {
    return (this.#layers.at(-1) as Layer).units;
  }

  parameter(index: number): Float32Array {
    const layer = this.#layers[Math.floor(index / 2)] as Layer;
    return (index % 2 === 0 ? layer.weights : layer.bias).slice();
  }

  setParameter(index: number, values: Float32Array): void {
    const layer = this.#layers[Math.floor(index / 2)] as Layer;
    (index % 2 === 0 ? layer.weights : layer.bias).set(values);
  }

  configureTraining(loss: LossName, optimizer: OptimizerSettings): void {
    const buffers = STATE_BUFFERS[optimizer.name];
    for (const layer of this.#layers) {
      layer.weightState = Array.from({ length: buffers }, () => new Float32Array(layer.weights.length));
      layer.biasState = Array.from({ length: buffers }, () => new Float32Array(layer.bias.length));
    }
    this.#training = { loss, optimizer, step: 0 };
  }

  predict(x: Float32Array, rows: number): Float32Array {
    const out = new Float32Array(rows * this.#outputs);
    for (let start = 0; start < rows; start += INFERENCE_CHUNK_ROWS) {
      const chunkRows = Math.min(INFERENCE_CHUNK_ROWS, rows - start);
      this.#forward(x.subarray(start * this.#inputs, (start + chunkRows) * this.#inputs), chunkRows);
      out.set((this.#layers.at(-1) as Layer).outputs.subarray(0, chunkRows * this.#outputs), start * this.#outputs);
    }
    return out;
  }

  evaluate(loss: LossName, x: Float32Array, y: Float32Array, rows: number): Evaluation {
    const predictions = this.predict(x, rows);
    const outputs = this.#outputs;
    let total = 0;
    const gradient = new Float32Array(Math.min(INFERENCE_CHUNK_ROWS, rows) * outputs);
    for (let start = 0; start < rows; start += INFERENCE_CHUNK_ROWS) {
      const chunkRows = Math.min(INFERENCE_CHUNK_ROWS, rows - start);
      const range = [start * outputs, (start + chunkRows) * outputs] as const;
      const chunkLoss = evaluateLoss(loss, chunkRows, outputs, predictions.subarray(...range), y.subarray(...range), gradient.subarray(0, chunkRows * outputs));
      total += chunkLoss * chunkRows;
    }
    return { loss: rows === 0 ? 0 : total / rows, correct: countCorrect(outputs, predictions, y), predictions };
  }

  bindData(x: Float32Array, y: Float32Array, samples: number): HostData {
    return { x, y, samples, dispose: () => undefined };
  }

  trainBatches(data: TrainingData, indices: Uint32Array, batchEnds: Uint32Array, losses: Float64Array, correct: Uint32Array): TrainOutcome {
    const training = this.#training;
    if (!training) throw new Error('configureTraining must come before trainBatches');
    const { x, y } = data as HostData;
    const outputs = this.#outputs;
    const checkpoint = this.#layers.flatMap((layer) => [layer.weights.slice(), layer.bias.slice()]);
    const outcome: TrainOutcome = { batches: 0, diverged: false };
    let start = 0;
    for (const [b, end] of batchEnds.entries()) {
      const batch = indices.subarray(start, end);
      start = end;
      const rows = batch.length;
      const bx = gather(x, this.#inputs, batch);
      const by = gather(y, outputs, batch);
      this.#forward(bx, rows);
      const output = this.#layers.at(-1) as Layer;
      const n = rows * outputs;
      const predictions = output.outputs.subarray(0, n);
      const delta = output.delta.subarray(0, n);
      const loss = evaluateLoss(training.loss, rows, outputs, predictions, by, delta);
      losses[b] = loss;
      if (!Number.isFinite(loss)) {
        outcome.diverged = true;
        break;
      }
      correct[b] = countCorrect(outputs, predictions, by);
      if (!isFusedWithActivation(training.loss)) activateBackward(output, rows, predictions, delta);
      training.step += 1;
      this.#backwardAndUpdate(bx, rows, training.optimizer, training.step);
      outcome.batches += 1;
    }
    outcome.diverged ||= !this.#layers.every((layer) => layer.weights.every(Number.isFinite) && layer.bias.every(Number.isFinite));
    if (outcome.diverged) {
      this.#layers.forEach((layer, l) => {
        layer.weights.set(checkpoint[2 * l] as Float32Array);
        layer.bias.set(checkpoint[2 * l + 1] as Float32Array);
      });
    }
    return outcome;
  }

  dispose(): void {
    this.#training = null;
  }

  #forward(input: Float32Array, rows: number): void {
    let x = input;
    for (const layer of this.#layers) {
      const n = rows * layer.units;
      if (layer.outputs.length < n) {
        layer.outputs = new Float32Array(n);
        layer.delta = new Float32Array(n);
      }
      const z = layer.outputs.subarray(0, n);
      gemm(false, true, rows, layer.units, layer.inputs, 1, x, layer.weights, 0, z);
      biasAdd(rows, layer.units, layer.bias, z);
      activate(layer, rows, z);
      x = z;
    }
  }

  #backwardAndUpdate(input: Float32Array, rows: number, optimizer: OptimizerSettings, step: number): void {
    for (let l = this.#layers.length - 1; l >= 0; l--) {
      const layer = this.#layers[l] as Layer;
      const previous = this.#layers[l - 1];
      const delta = layer.delta.subarray(0, rows * layer.units);
      const x = previous ? previous.outputs.subarray(0, rows * previous.units) : input;
      gemm(true, false, layer.units, layer.inputs, rows, 1, delta, x, 0, layer.weightGradient);
      columnSums(rows, layer.units, delta, layer.biasGradient);
      if (previous) {
        const previousDelta = previous.delta.subarray(0, rows * previous.units);
        gemm(false, false, rows, previous.units, layer.units, 1, delta, layer.weights, 0, previousDelta);
        activateBackward(previous, rows, previous.outputs.subarray(0, rows * previous.units), previousDelta);
      }
      update(optimizer, step, layer.weights, layer.weightGradient, layer.weightState);
      update(optimizer, step, layer.bias, layer.biasGradient, layer.biasState);
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
