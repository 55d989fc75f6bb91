/** The native backend's training model: the Rust `Model` through napi-rs, reading data in place. */

import type { BackendModel, Evaluation, TrainingData, TrainOutcome } from '../backend.js';
import type { LayerShape } from '../../layers/index.js';
import type { LossName } from '../../losses/index.js';
import type { OptimizerSettings } from '../../optimizers/index.js';
import type { Model as RawModel } from './generated/index.js';

interface HostData extends TrainingData {
  x: Float32Array;
  y: Float32Array;
}

export class NativeModel implements BackendModel {
  readonly #model: RawModel;
  readonly #outputs: number;

  constructor(ModelClass: typeof RawModel, inputs: number, layers: readonly LayerShape[]) {
    this.#model = new ModelClass(inputs);
    for (const layer of layers) this.#model.addLayer(layer.units, layer.activation, layer.alpha);
    this.#outputs = (layers.at(-1) as LayerShape).units;
  }

  parameter(index: number): Float32Array {
    return this.#model.parameter(index);
  }

  setParameter(index: number, values: Float32Array): void {
    this.#model.setParameter(index, values);
  }

  configureTraining(loss: LossName, o: OptimizerSettings): void {
    this.#model.configureTraining(loss, o.name, o.learningRate, o.momentum, o.beta1, o.beta2, o.epsilon);
  }

  predict(x: Float32Array, rows: number): Float32Array {
    const out = new Float32Array(rows * this.#outputs);
    this.#model.predict(x, rows, out);
    return out;
  }

  evaluate(loss: LossName, x: Float32Array, y: Float32Array, rows: number): Evaluation {
    const predictions = new Float32Array(rows * this.#outputs);
    const { loss: value, correct } = this.#model.evaluate(loss, x, y, rows, predictions);
    return { loss: value, correct, predictions };
  }

  /** The addon reads the caller's arrays in place on every call: nothing to copy. */
  bindData(x: Float32Array, y: Float32Array, samples: number): HostData {
    return { x, y, samples, dispose: () => undefined };
  }

  trainBatches(data: TrainingData, indices: Uint32Array, batchEnds: Uint32Array, losses: Float64Array, correct: Uint32Array): TrainOutcome {
    const { x, y, samples } = data as HostData;
    return this.#model.trainBatches(x, y, samples, indices, batchEnds, losses, correct);
  }

  dispose(): void {
    this.#model.dispose();
  }
}
