/**
 * Batch normalization over every axis but the last (per channel, or per feature after a dense
 * layer). Training normalizes with the batch's mean and biased variance and moves the moving
 * statistics as Keras does (`moving = momentum * moving + (1 - momentum) * batch`); inference
 * normalizes with the moving statistics. Sums, statistics and each output run in f64 and are
 * rounded once, when stored.
 */

import type { BatchNormLayer } from '../../../layers/types.js';
import { sizeOf } from '../../../layers/index.js';
import { trainedParameter, untrainedParameter, type BackwardPass, type Parameter, type TsLayer } from './layer.js';

/** See the module comment; `parameters` are `gamma`, `beta` (trained), `movingMean`, `movingVariance`. */
export class BatchNorm implements TsLayer {
  readonly parameters: readonly [gamma: Parameter, beta: Parameter, movingMean: Parameter, movingVariance: Parameter];
  readonly outputSize: number;
  readonly scratchPerSample = 0;
  readonly #channels: number;
  readonly #momentum: number;
  readonly #epsilon: number;
  /** Per channel: the mean the layer normalizes with (the batch's in training, else the moving one). */
  readonly #mean: Float64Array;
  /** Per channel: the batch's biased variance. */
  readonly #variance: Float64Array;
  /** Per channel: `1 / sqrt(variance + epsilon)` for the variance the layer normalizes with. */
  readonly #inverseStd: Float64Array;
  /** Per channel, in backward: `sum(dy)`. */
  readonly #gradientSum: Float64Array;
  /** Per channel, in backward: `sum(dy * xhat)`. */
  readonly #gradientXhatSum: Float64Array;

  constructor(layer: BatchNormLayer) {
    this.outputSize = sizeOf(layer.inputShape);
    this.#channels = layer.inputShape.at(-1) ?? 1;
    this.#momentum = layer.momentum;
    this.#epsilon = layer.epsilon;
    const channels = this.#channels;
    this.parameters = [trainedParameter(channels), trainedParameter(channels), untrainedParameter(channels), untrainedParameter(channels)];
    this.#mean = new Float64Array(channels);
    this.#variance = new Float64Array(channels);
    this.#inverseStd = new Float64Array(channels);
    this.#gradientSum = new Float64Array(channels);
    this.#gradientXhatSum = new Float64Array(channels);
  }

  forward(input: Float32Array, _rows: number, output: Float32Array, training: boolean): void {
    const [gamma, beta, movingMean, movingVariance] = this.parameters.map((p) => p.values) as [Float32Array, Float32Array, Float32Array, Float32Array];
    const c = this.#channels;
    if (training) {
      this.#batchStatistics(input);
      for (let ch = 0; ch < c; ch++) {
        movingMean[ch] = this.#momentum * (movingMean[ch] as number) + (1 - this.#momentum) * (this.#mean[ch] as number);
        movingVariance[ch] = this.#momentum * (movingVariance[ch] as number) + (1 - this.#momentum) * (this.#variance[ch] as number);
      }
    } else {
      for (let ch = 0; ch < c; ch++) {
        this.#mean[ch] = movingMean[ch] as number;
        this.#inverseStd[ch] = 1 / Math.sqrt((movingVariance[ch] as number) + this.#epsilon);
      }
    }
    for (let i = 0; i < input.length; i++) {
      const ch = i % c;
      const normalized = ((input[i] as number) - (this.#mean[ch] as number)) * (this.#inverseStd[ch] as number);
      output[i] = (gamma[ch] as number) * normalized + (beta[ch] as number);
    }
  }

  backward({ input, outputGradient: dy, inputGradient }: BackwardPass): void {
    const [gamma, beta] = this.parameters;
    const c = this.#channels;
    const count = input.length / c;
    // Recomputed from the input rather than kept from forward, so backward depends on its arguments only.
    this.#batchStatistics(input);
    const [mean, inverseStd] = [this.#mean, this.#inverseStd];
    const sumDy = this.#gradientSum.fill(0);
    const sumDyXhat = this.#gradientXhatSum.fill(0);
    for (let i = 0; i < input.length; i++) {
      const ch = i % c;
      const g = dy[i] as number;
      sumDy[ch] = (sumDy[ch] as number) + g;
      sumDyXhat[ch] = (sumDyXhat[ch] as number) + g * ((input[i] as number) - (mean[ch] as number)) * (inverseStd[ch] as number);
    }
    beta.gradient.set(sumDy);
    gamma.gradient.set(sumDyXhat);
    if (!inputGradient) return;
    // dx = gamma / sqrt(var + epsilon) * (dy - sum(dy) / N - xhat * sum(dy * xhat) / N)
    for (let i = 0; i < input.length; i++) {
      const ch = i % c;
      const xhat = ((input[i] as number) - (mean[ch] as number)) * (inverseStd[ch] as number);
      const centered = (dy[i] as number) - (sumDy[ch] as number) / count - (xhat * (sumDyXhat[ch] as number)) / count;
      inputGradient[i] = (gamma.values[ch] as number) * (inverseStd[ch] as number) * centered;
    }
  }

  /** The batch's per-channel mean, biased variance and `1 / sqrt(var + epsilon)` of `input`. */
  #batchStatistics(input: Float32Array): void {
    const c = this.#channels;
    const count = input.length / c;
    const [mean, variance] = [this.#mean.fill(0), this.#variance.fill(0)];
    for (let i = 0; i < input.length; i++) mean[i % c] = (mean[i % c] as number) + (input[i] as number);
    for (let ch = 0; ch < c; ch++) mean[ch] = (mean[ch] as number) / count;
    for (let i = 0; i < input.length; i++) {
      const deviation = (input[i] as number) - (mean[i % c] as number);
      variance[i % c] = (variance[i % c] as number) + deviation * deviation;
    }
    for (let ch = 0; ch < c; ch++) {
      variance[ch] = (variance[ch] as number) / count;
      this.#inverseStd[ch] = 1 / Math.sqrt((variance[ch] as number) + this.#epsilon);
    }
  }
}
