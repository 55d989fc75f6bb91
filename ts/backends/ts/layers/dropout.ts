/**
 * Inverted dropout: in training each element is kept, scaled by `float32(1 / (1 - rate))`,
 * when its draw `u = nextUint32() / 2^32` is at least `rate`, else zeroed; in inference the
 * layer is the identity. One draw per element in row-major order (docs/layers.md, "Dropout
 * masks"), so every backend drawing from the same state gets the same mask.
 */

import type { DropoutLayer } from '../../../layers/types.js';
import { sizeOf } from '../../../layers/index.js';
import type { Random } from '../../../random.js';
import { atLeast, type BackwardPass, type TsLayer } from './layer.js';

/** See the module comment. */
export class Dropout implements TsLayer {
  readonly parameters = [];
  readonly outputSize: number;
  readonly scratchPerSample = 0;
  readonly #rate: number;
  readonly #scale: number;
  /** The last training batch's mask: 1 where kept. Backward needs the draws, which cannot be redone. */
  #kept = new Uint8Array(0);

  constructor(layer: DropoutLayer) {
    this.outputSize = sizeOf(layer.inputShape);
    this.#rate = layer.rate;
    this.#scale = Math.fround(1 / (1 - layer.rate));
  }

  forward(input: Float32Array, _rows: number, output: Float32Array, training: boolean, random: Random): void {
    if (!training) {
      output.set(input);
      return;
    }
    this.#kept = atLeast(this.#kept, input.length, (length) => new Uint8Array(length));
    for (let i = 0; i < input.length; i++) {
      // Drawn even when rate is 0, so that the stream's position never depends on the rate.
      const kept = random.nextUint32() / 4294967296 >= this.#rate;
      this.#kept[i] = kept ? 1 : 0;
      output[i] = kept ? (input[i] as number) * this.#scale : 0;
    }
  }

  backward({ outputGradient, inputGradient }: BackwardPass): void {
    if (!inputGradient) return;
    for (let i = 0; i < inputGradient.length; i++) inputGradient[i] = this.#kept[i] === 1 ? (outputGradient[i] as number) * this.#scale : 0;
  }
}
