/** The native backend's training model: the Rust `Model` through napi-rs, reading data in place. */

import type { BackendModel, BatchGradients, Evaluation, TrainingData, TrainOutcome } from '../backend.js';
import { RustModel } from '../rust-model.js';
import type { ResolvedLayer } from '../../layers/types.js';
import type { LossName } from '../../losses/index.js';
import type { Model as RawModel } from './generated/index.js';

interface HostData extends TrainingData {
  x: Float32Array;
  y: Float32Array;
}

export class NativeModel extends RustModel<RawModel> implements BackendModel {
  constructor(ModelClass: typeof RawModel, inputShape: readonly number[], layers: readonly ResolvedLayer[]) {
    super(new ModelClass(Uint32Array.from(inputShape)), layers);
  }

  predict(x: Float32Array, rows: number): Float32Array {
    const out = new Float32Array(rows * this.outputs);
    this.model.predict(x, rows, out);
    return out;
  }

  evaluate(loss: LossName, x: Float32Array, y: Float32Array, rows: number): Evaluation {
    const predictions = new Float32Array(rows * this.outputs);
    const { loss: value, correct } = this.model.evaluate(loss, x, y, rows, predictions);
    return { loss: value, correct, predictions };
  }

  /** The addon reads the caller's arrays in place on every call: nothing to copy. */
  bindData(x: Float32Array, y: Float32Array, samples: number): HostData {
    return { x, y, samples, dispose: () => undefined };
  }

  trainBatches(data: TrainingData, indices: Uint32Array, batchEnds: Uint32Array, losses: Float64Array, correct: Uint32Array): TrainOutcome {
    const { x, y, samples } = data as HostData;
    return this.model.trainBatches(x, y, samples, indices, batchEnds, losses, correct);
  }

  trace(x: Float32Array, rows: number): Float32Array {
    const out = new Float32Array(rows * this.traceFloats);
    this.model.trace(x, rows, out);
    return out;
  }

  gradients(loss: LossName, x: Float32Array, y: Float32Array, rows: number, randomState: Uint32Array): BatchGradients {
    const gradients = new Float32Array(this.gradientFloats);
    const value = this.model.gradients(loss, x, y, rows, randomState, gradients);
    return { loss: value, gradients };
  }

  dispose(): void {
    this.model.dispose();
  }
}
