/**
 * An activation on its own (Keras's `Activation` layer), for `conv2d -> batchNorm -> relu`,
 * and the in-place activation passes that dense and conv2d end with. Softmax normalizes over
 * the last axis.
 */

import type { ActivationLayer, ActivationName } from '../../../layers/types.js';
import { sizeOf } from '../../../layers/index.js';
import * as activations from '../activations.js';
import type { BackwardPass, TsLayer } from './layer.js';

/**
 * `values = f(values)` in place (the ts kernels allow their input and output to coincide);
 * softmax normalizes each run of `width` floats (the last axis).
 */
export function activateInPlace(activation: ActivationName, alpha: number, width: number, values: Float32Array): void {
  switch (activation) {
    case 'linear':
      return;
    case 'relu':
      activations.reluForward(values, values);
      return;
    case 'leakyRelu':
      activations.leakyReluForward(alpha, values, values);
      return;
    case 'tanh':
      activations.tanhForward(values, values);
      return;
    case 'sigmoid':
      activations.sigmoidForward(values, values);
      return;
    case 'softmax':
      activations.softmaxForward(values.length / width, width, values, values);
  }
}

/** `gradient = gradient * f'` in place, from the forward output `output` (see {@link activateInPlace}). */
export function activationBackwardInPlace(activation: ActivationName, alpha: number, width: number, output: Float32Array, gradient: Float32Array): void {
  switch (activation) {
    case 'linear':
      return;
    case 'relu':
      activations.reluBackward(output, gradient, gradient);
      return;
    case 'leakyRelu':
      activations.leakyReluBackward(alpha, output, gradient, gradient);
      return;
    case 'tanh':
      activations.tanhBackward(output, gradient, gradient);
      return;
    case 'sigmoid':
      activations.sigmoidBackward(output, gradient, gradient);
      return;
    case 'softmax':
      activations.softmaxBackward(output.length / width, width, output, gradient, gradient);
  }
}

/** `y = f(x)`, any input shape. */
export class Activation implements TsLayer {
  readonly parameters = [];
  readonly outputSize: number;
  readonly scratchPerSample = 0;
  readonly #activation: ActivationName;
  readonly #alpha: number;
  /** Softmax's row: the last axis. */
  readonly #width: number;

  constructor(layer: ActivationLayer) {
    this.outputSize = sizeOf(layer.inputShape);
    this.#activation = layer.activation;
    this.#alpha = layer.alpha;
    this.#width = layer.inputShape.at(-1) ?? 1;
  }

  forward(input: Float32Array, _rows: number, output: Float32Array): void {
    output.set(input);
    activateInPlace(this.#activation, this.#alpha, this.#width, output);
  }

  trace(input: Float32Array, rows: number, preActivation: Float32Array, output: Float32Array): void {
    preActivation.set(input);
    this.forward(input, rows, output);
  }

  backward({ output, outputGradient, inputGradient, outputIsPreActivation }: BackwardPass): void {
    if (!outputIsPreActivation) activationBackwardInPlace(this.#activation, this.#alpha, this.#width, output, outputGradient);
    inputGradient?.set(outputGradient);
  }
}
