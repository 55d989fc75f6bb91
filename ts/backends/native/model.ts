/** The native backend's training model: the Rust `Model` through napi-rs, reading data in place. */

import { outputLength, trainingConfigJson, type BackendModel, type Evaluation, type OptimizerState, type TrainingData, type TrainingSettings, type TrainOutcome } from '../backend.js';
import type { ResolvedLayer } from '../../layers/types.js';
import type { LossName } from '../../losses/index.js';
import type { Model as RawModel } from './generated/index.js';

interface HostData extends TrainingData {
  x: Float32Array;
  y: Float32Array;
}

export class NativeModel implements BackendModel {
  readonly #model: RawModel;
  readonly #outputs: number;

  constructor(ModelClass: typeof RawModel, inputShape: readonly number[], layers: readonly ResolvedLayer[]) {
    this.#model = new ModelClass(Uint32Array.from(inputShape));
    for (const layer of layers) this.#model.addLayer(JSON.stringify(layer));
    this.#outputs = outputLength(layers);
  }

  parameter(index: number): Float32Array {
    return this.#model.parameter(index);
  }

  setParameter(index: number, values: Float32Array): void {
    this.#model.setParameter(index, values);
  }

  setRandomState(state: Uint32Array): void {
    this.#model.setRandomState(state);
  }

  randomState(): Uint32Array {
    return this.#model.randomState();
  }

  configureTraining(settings: TrainingSettings): void {
    this.#model.configureTraining(trainingConfigJson(settings));
  }

  setLearningRate(rate: number): void {
    this.#model.setLearningRate(rate);
  }

  optimizerState(): OptimizerState {
    const buffers = Array.from({ length: this.#model.optimizerStateCount() }, (_, i) => this.#model.optimizerState(i));
    return { step: this.#model.optimizerStep(), buffers };
  }

  setOptimizerState({ step, buffers }: OptimizerState): void {
    buffers.forEach((values, i) => {
      this.#model.setOptimizerState(i, values);
    });
    this.#model.setOptimizerStep(step);
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
