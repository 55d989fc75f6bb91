/** `[h, w, c]` (or any shape) to `[h * w * c]`: the same floats, in NHWC order. */

import type { FlattenLayer } from '../../../layers/types.js';
import { sizeOf } from '../../../layers/index.js';
import type { BackwardPass, TsLayer } from './layer.js';

/** Copies its input forward and its gradient backward: only the shape changes. */
export class Flatten implements TsLayer {
  readonly parameters = [];
  readonly outputSize: number;
  readonly scratchPerSample = 0;

  constructor(layer: FlattenLayer) {
    this.outputSize = sizeOf(layer.inputShape);
  }

  forward(input: Float32Array, _rows: number, output: Float32Array): void {
    output.set(input);
  }

  backward({ outputGradient, inputGradient }: BackwardPass): void {
    inputGradient?.set(outputGradient);
  }
}
