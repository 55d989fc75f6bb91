/**
 * Max and average pooling over each channel's windows of NHWC data. Padding never takes part:
 * a max is over the window's real elements (its gradient going to the first maximum in
 * `(ky, kx)` scan order), and an average divides by their number.
 */

import type { Pool2dLayer } from '../../../layers/types.js';
import { windowGeometry } from '../../../layers/window.js';
import { atLeast, type BackwardPass, type TsLayer } from './layer.js';

/** `maxPool2d` or `avgPool2d`; see the module comment. */
export class Pool2d implements TsLayer {
  readonly parameters = [];
  readonly outputSize: number;
  readonly scratchPerSample = 0;
  readonly #reduction: 'max' | 'average';
  readonly #height: number;
  readonly #width: number;
  readonly #channels: number;
  readonly #pool: readonly [number, number];
  readonly #strides: readonly [number, number];
  readonly #out: readonly [number, number];
  readonly #before: readonly [number, number];
  /** Input offsets (channel 0) of the current window's real elements, in scan order. */
  readonly #taps: number[] = [];
  /** The input gradient's sums (windows overlap when strides are below the pool size), in f64. */
  #inputGradientSums = new Float64Array(0);

  constructor(layer: Pool2dLayer) {
    this.#reduction = layer.type === 'maxPool2d' ? 'max' : 'average';
    [this.#height, this.#width, this.#channels] = layer.inputShape as [number, number, number];
    this.#pool = layer.poolSize;
    this.#strides = layer.strides;
    const vertical = windowGeometry(this.#height, layer.poolSize[0], layer.strides[0], layer.padding);
    const horizontal = windowGeometry(this.#width, layer.poolSize[1], layer.strides[1], layer.padding);
    this.#out = [vertical.out, horizontal.out];
    this.#before = [vertical.before, horizontal.before];
    this.outputSize = vertical.out * horizontal.out * this.#channels;
  }

  forward(input: Float32Array, rows: number, output: Float32Array): void {
    this.#visitWindows(rows, (outputOffset, taps) => {
      for (let c = 0; c < this.#channels; c++) {
        output[outputOffset + c] = this.#reduction === 'max' ? (input[this.#winner(input, taps, c)] as number) : mean(input, taps, c);
      }
    });
  }

  backward({ input, rows, outputGradient, inputGradient }: BackwardPass): void {
    if (!inputGradient) return;
    this.#inputGradientSums = atLeast(this.#inputGradientSums, inputGradient.length, (n) => new Float64Array(n));
    const sums = this.#inputGradientSums.subarray(0, inputGradient.length);
    sums.fill(0);
    this.#visitWindows(rows, (outputOffset, taps) => {
      for (let c = 0; c < this.#channels; c++) {
        const gradient = outputGradient[outputOffset + c] as number;
        if (this.#reduction === 'max') {
          // Found again from the input rather than kept from forward, so backward depends on its arguments only.
          const winner = this.#winner(input, taps, c);
          sums[winner] = (sums[winner] as number) + gradient;
        } else {
          const share = gradient / taps.length;
          for (const tap of taps) sums[tap + c] = (sums[tap + c] as number) + share;
        }
      }
    });
    inputGradient.set(sums);
  }

  /** The input offset of channel `c`'s first maximum among `taps`. */
  #winner(input: Float32Array, taps: readonly number[], c: number): number {
    let winner = (taps[0] as number) + c;
    for (const tap of taps) {
      if ((input[tap + c] as number) > (input[winner] as number)) winner = tap + c;
    }
    return winner;
  }

  /**
   * Calls `visit(outputOffset, taps)` for every output position of every sample, `taps` being
   * the input offsets (channel 0; channels follow) of the window's real elements. Every window
   * holds at least one: 'same' pads less than a window on each side.
   */
  #visitWindows(rows: number, visit: (outputOffset: number, taps: readonly number[]) => void): void {
    const [height, width, channels] = [this.#height, this.#width, this.#channels];
    const [ph, pw] = this.#pool;
    const [sh, sw] = this.#strides;
    const [outH, outW] = this.#out;
    const [top, left] = this.#before;
    const taps = this.#taps;
    let outputOffset = 0;
    for (let n = 0; n < rows; n++) {
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++, outputOffset += channels) {
          taps.length = 0;
          for (let ky = 0; ky < ph; ky++) {
            const iy = oy * sh - top + ky;
            if (iy < 0 || iy >= height) continue;
            for (let kx = 0; kx < pw; kx++) {
              const ix = ox * sw - left + kx;
              if (ix >= 0 && ix < width) taps.push(((n * height + iy) * width + ix) * channels);
            }
          }
          visit(outputOffset, taps);
        }
      }
    }
  }
}

/** The mean of channel `c` over `taps`, summed in f64. */
function mean(input: Float32Array, taps: readonly number[], c: number): number {
  let sum = 0;
  for (const tap of taps) sum += input[tap + c] as number;
  return sum / taps.length;
}
