/**
 * The wasm backend's training model: the Rust `Model` in the module's memory. Training data is
 * copied into module memory once per fit; inference inputs once per call.
 */

import { outputLength, trainingConfigJson, type BackendModel, type Evaluation, type OptimizerState, type TrainingData, type TrainingSettings, type TrainOutcome } from '../backend.js';
import type { ResolvedLayer } from '../../layers/types.js';
import type { LossName } from '../../losses/index.js';
import type * as bindings from './generated/ferronet_wasm.js';

type Bindings = typeof bindings;

interface ModuleData extends TrainingData {
  x: bindings.Tensor;
  y: bindings.Tensor;
}

export class WasmModel implements BackendModel {
  readonly #model: bindings.Model;
  readonly #outputs: number;

  constructor(
    private readonly wasm: Bindings,
    private readonly memory: WebAssembly.Memory,
    inputShape: readonly number[],
    layers: readonly ResolvedLayer[],
  ) {
    this.#model = new wasm.Model(Uint32Array.from(inputShape));
    for (const layer of layers) this.#model.addLayer(JSON.stringify(layer));
    this.#outputs = outputLength(layers);
  }

  /** Copies `values` into a new module tensor; the caller frees it. */
  #copyIn(values: Float32Array): bindings.Tensor {
    const tensor = new this.wasm.Tensor(values.length);
    new Float32Array(this.memory.buffer, tensor.pointer, values.length).set(values);
    return tensor;
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
    const [predictions] = this.#withOutput(rows, (out) => {
      this.#withInput(x, (input) => {
        this.#model.predict(input, rows, out);
      });
    });
    return predictions;
  }

  evaluate(loss: LossName, x: Float32Array, y: Float32Array, rows: number): Evaluation {
    const [predictions, [value, correct]] = this.#withOutput(rows, (out) =>
      this.#withInput(x, (input) => this.#withInput(y, (targets) => this.#model.evaluate(loss, input, targets, rows, out))),
    );
    return { loss: value as number, correct: correct as number, predictions };
  }

  bindData(x: Float32Array, y: Float32Array, samples: number): ModuleData {
    const data = { x: this.#copyIn(x), y: this.#copyIn(y), samples };
    return {
      ...data,
      dispose: () => {
        data.x.free();
        data.y.free();
      },
    };
  }

  trainBatches(data: TrainingData, indices: Uint32Array, batchEnds: Uint32Array, losses: Float64Array, correct: Uint32Array): TrainOutcome {
    const { x, y, samples } = data as ModuleData;
    // wasm-bindgen copies the two record arrays into module memory and back out.
    const [batches, diverged] = this.#model.trainBatches(x, y, samples, indices, batchEnds, losses, correct);
    return { batches: batches as number, diverged: diverged === 1 };
  }

  dispose(): void {
    this.#model.free();
  }

  /** Runs `use` with a module copy of `values`, freed afterwards. */
  #withInput<R>(values: Float32Array, use: (tensor: bindings.Tensor) => R): R {
    const tensor = this.#copyIn(values);
    try {
      return use(tensor);
    } finally {
      tensor.free();
    }
  }

  /** Runs `use` with a module tensor for `[rows][outputs]` results; returns them copied out, and what `use` returned. */
  #withOutput<R>(rows: number, use: (tensor: bindings.Tensor) => R): [Float32Array, R] {
    const tensor = new this.wasm.Tensor(rows * this.#outputs);
    try {
      const result = use(tensor);
      // Read through a fresh view: the call may have grown the memory.
      return [new Float32Array(this.memory.buffer, tensor.pointer, tensor.length).slice(), result];
    } finally {
      tensor.free();
    }
  }
}
