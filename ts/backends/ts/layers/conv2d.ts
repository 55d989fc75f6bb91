/**
 * A 2-D convolution over NHWC data, weights `[filters][kh][kw][inChannels]`: each filter's row
 * is one NHWC patch, so im2col (one row per output position, columns in `(ky, kx, c)` order)
 * times `W^T` with the one GEMM gives the NHWC output directly, and the same GEMM serves
 * backward. Padding reads as 0.
 */

import type { ActivationName, Conv2dLayer } from '../../../layers/types.js';
import { windowGeometry } from '../../../layers/window.js';
import { biasAdd, columnSums } from '../bias.js';
import { gemm } from '../gemm.js';
import { activateInPlace, activationBackwardInPlace } from './activation.js';
import { atLeast, kernelParameter, trainedParameter, type BackwardPass, type Parameter, type TsLayer } from './layer.js';

/** See the module comment; `parameters` are `weights`, then `bias` when the layer has one. */
export class Conv2d implements TsLayer {
  readonly parameters: readonly Parameter[];
  readonly outputSize: number;
  readonly scratchPerSample: number;
  readonly #height: number;
  readonly #width: number;
  readonly #channels: number;
  readonly #kernel: readonly [number, number];
  readonly #strides: readonly [number, number];
  /** Output rows and columns. */
  readonly #out: readonly [number, number];
  /** Padding rows above and columns left of the input. */
  readonly #before: readonly [number, number];
  readonly #filters: number;
  readonly #activation: ActivationName;
  readonly #alpha: number;
  /** `[rows * outH * outW][kh * kw * inChannels]`: the im2col matrix, then in backward its gradient. */
  #patches = new Float32Array(0);
  /** The input gradient's sums, in f64 as columnSums and gemm keep theirs. */
  #inputGradientSums = new Float64Array(0);

  constructor(layer: Conv2dLayer) {
    [this.#height, this.#width, this.#channels] = layer.inputShape as [number, number, number];
    this.#kernel = layer.kernelSize;
    this.#strides = layer.strides;
    const vertical = windowGeometry(this.#height, layer.kernelSize[0], layer.strides[0], layer.padding);
    const horizontal = windowGeometry(this.#width, layer.kernelSize[1], layer.strides[1], layer.padding);
    this.#out = [vertical.out, horizontal.out];
    this.#before = [vertical.before, horizontal.before];
    this.#filters = layer.filters;
    this.#activation = layer.activation;
    this.#alpha = layer.alpha;
    this.outputSize = vertical.out * horizontal.out * layer.filters;
    this.scratchPerSample = vertical.out * horizontal.out * this.#patchLength;
    const weights = kernelParameter(layer.filters * this.#patchLength);
    this.parameters = layer.useBias ? [weights, trainedParameter(layer.filters)] : [weights];
  }

  /** Floats in one patch row: `kh * kw * inChannels`. */
  get #patchLength(): number {
    return this.#kernel[0] * this.#kernel[1] * this.#channels;
  }

  get #weights(): Parameter {
    return this.parameters[0] as Parameter;
  }

  get #bias(): Parameter | undefined {
    return this.parameters[1];
  }

  forward(input: Float32Array, rows: number, output: Float32Array): void {
    const positions = rows * this.#out[0] * this.#out[1];
    const patches = this.#im2col(input, rows);
    gemm(false, true, positions, this.#filters, this.#patchLength, 1, patches, this.#weights.values, 0, output);
    if (this.#bias) biasAdd(positions, this.#filters, this.#bias.values, output);
    activateInPlace(this.#activation, this.#alpha, this.#filters, output);
  }

  trace(input: Float32Array, rows: number, preActivation: Float32Array, output: Float32Array): void {
    const positions = rows * this.#out[0] * this.#out[1];
    const patches = this.#im2col(input, rows);
    gemm(false, true, positions, this.#filters, this.#patchLength, 1, patches, this.#weights.values, 0, preActivation);
    if (this.#bias) biasAdd(positions, this.#filters, this.#bias.values, preActivation);
    output.set(preActivation);
    activateInPlace(this.#activation, this.#alpha, this.#filters, output);
  }

  backward({ input, output, rows, outputGradient: delta, inputGradient, outputIsPreActivation }: BackwardPass): void {
    const positions = rows * this.#out[0] * this.#out[1];
    const [filters, patchLength] = [this.#filters, this.#patchLength];
    if (!outputIsPreActivation) activationBackwardInPlace(this.#activation, this.#alpha, filters, output, delta);
    // Rebuilt from the input rather than kept from forward, so backward depends on its arguments only.
    const patches = this.#im2col(input, rows);
    gemm(true, false, filters, patchLength, positions, 1, delta, patches, 0, this.#weights.gradient);
    if (this.#bias) columnSums(positions, filters, delta, this.#bias.gradient);
    if (!inputGradient) return;
    // The patches are no longer needed: their buffer takes their gradient.
    gemm(false, false, positions, patchLength, filters, 1, delta, this.#weights.values, 0, patches);
    this.#col2im(patches, rows, inputGradient);
  }

  /** The im2col matrix of `rows` samples of `input`, in the layer's scratch buffer. */
  #im2col(input: Float32Array, rows: number): Float32Array {
    const length = rows * this.scratchPerSample;
    this.#patches = atLeast(this.#patches, length, (n) => new Float32Array(n));
    const patches = this.#patches.subarray(0, length);
    patches.fill(0);
    this.#visitTaps(rows, (patchOffset, inputOffset) => {
      for (let c = 0; c < this.#channels; c++) patches[patchOffset + c] = input[inputOffset + c] as number;
    });
    return patches;
  }

  /** Adds every patch row's gradient back onto the input positions it was read from. */
  #col2im(patchGradient: Float32Array, rows: number, inputGradient: Float32Array): void {
    this.#inputGradientSums = atLeast(this.#inputGradientSums, inputGradient.length, (n) => new Float64Array(n));
    const sums = this.#inputGradientSums.subarray(0, inputGradient.length);
    sums.fill(0);
    this.#visitTaps(rows, (patchOffset, inputOffset) => {
      for (let c = 0; c < this.#channels; c++) sums[inputOffset + c] = (sums[inputOffset + c] as number) + (patchGradient[patchOffset + c] as number);
    });
    inputGradient.set(sums);
  }

  /**
   * Calls `visit(patchOffset, inputOffset)` for every kernel tap that lands inside the input,
   * for every output position of every sample: the `channels` floats at `inputOffset` of the
   * batch's input are those at `patchOffset` of the im2col matrix.
   */
  #visitTaps(rows: number, visit: (patchOffset: number, inputOffset: number) => void): void {
    const [height, width, channels] = [this.#height, this.#width, this.#channels];
    const [kh, kw] = this.#kernel;
    const [sh, sw] = this.#strides;
    const [outH, outW] = this.#out;
    const [top, left] = this.#before;
    let patchRow = 0;
    for (let n = 0; n < rows; n++) {
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++, patchRow++) {
          for (let ky = 0; ky < kh; ky++) {
            const iy = oy * sh - top + ky;
            if (iy < 0 || iy >= height) continue;
            for (let kx = 0; kx < kw; kx++) {
              const ix = ox * sw - left + kx;
              if (ix < 0 || ix >= width) continue;
              visit((patchRow * kh * kw + ky * kw + kx) * channels, ((n * height + iy) * width + ix) * channels);
            }
          }
        }
      }
    }
  }
}
