/** A fully connected layer: `y = f(x W^T + b)`, weights `[units][inputs]` like a PyTorch `Linear`. */

import type { ActivationName, DenseLayer } from '../../../layers/types.js';
import { biasAdd, columnSums } from '../bias.js';
import { gemm } from '../gemm.js';
import { activateInPlace, activationBackwardInPlace } from './activation.js';
import { kernelParameter, trainedParameter, type BackwardPass, type Parameter, type TsLayer } from './layer.js';

/** See the module comment; `parameters` are `weights`, then `bias` when the layer has one. */
export class Dense implements TsLayer {
  readonly parameters: readonly Parameter[];
  readonly outputSize: number;
  readonly scratchPerSample = 0;
  readonly #inputs: number;
  readonly #activation: ActivationName;
  readonly #alpha: number;

  constructor(layer: DenseLayer) {
    this.#inputs = layer.inputs;
    this.outputSize = layer.units;
    this.#activation = layer.activation;
    this.#alpha = layer.alpha;
    const weights = kernelParameter(layer.units * layer.inputs);
    this.parameters = layer.useBias ? [weights, trainedParameter(layer.units)] : [weights];
  }

  get #weights(): Parameter {
    return this.parameters[0] as Parameter;
  }

  get #bias(): Parameter | undefined {
    return this.parameters[1];
  }

  forward(input: Float32Array, rows: number, output: Float32Array): void {
    const units = this.outputSize;
    gemm(false, true, rows, units, this.#inputs, 1, input, this.#weights.values, 0, output);
    if (this.#bias) biasAdd(rows, units, this.#bias.values, output);
    activateInPlace(this.#activation, this.#alpha, units, output);
  }

  trace(input: Float32Array, rows: number, preActivation: Float32Array, output: Float32Array): void {
    const units = this.outputSize;
    gemm(false, true, rows, units, this.#inputs, 1, input, this.#weights.values, 0, preActivation);
    if (this.#bias) biasAdd(rows, units, this.#bias.values, preActivation);
    output.set(preActivation);
    activateInPlace(this.#activation, this.#alpha, units, output);
  }

  backward({ input, output, rows, outputGradient: delta, inputGradient, outputIsPreActivation }: BackwardPass): void {
    const units = this.outputSize;
    if (!outputIsPreActivation) activationBackwardInPlace(this.#activation, this.#alpha, units, output, delta);
    // dW = delta^T x and db = column sums of delta (delta already carries the 1/rows).
    gemm(true, false, units, this.#inputs, rows, 1, delta, input, 0, this.#weights.gradient);
    if (this.#bias) columnSums(rows, units, delta, this.#bias.gradient);
    if (inputGradient) gemm(false, false, rows, this.#inputs, units, 1, delta, this.#weights.values, 0, inputGradient);
  }
}
