/**
 * The wasm backend's training model: the Rust `Model` in the module's memory. Training data is
 * copied into module memory once per fit; inference inputs once per call.
 */

import type { BackendModel, BatchGradients, Evaluation, TrainingData, TrainOutcome } from '../backend.js';
import { RustModel } from '../rust-model.js';
import type { ResolvedLayer } from '../../layers/types.js';
import type { LossName } from '../../losses/index.js';
import type * as bindings from './generated/ferronet_wasm.js';
import type { WasmBindings } from './index.js';

interface ModuleData extends TrainingData {
  x: bindings.Tensor;
  y: bindings.Tensor;
}

export class WasmModel extends RustModel<bindings.Model> implements BackendModel {
  constructor(
    private readonly wasm: WasmBindings,
    private readonly memory: WebAssembly.Memory,
    inputShape: readonly number[],
    layers: readonly ResolvedLayer[],
  ) {
    super(new wasm.Model(Uint32Array.from(inputShape)), layers);
  }

  /** Copies `values` into a new module tensor; the caller frees it. */
  #copyIn(values: Float32Array): bindings.Tensor {
    const tensor = new this.wasm.Tensor(values.length);
    new Float32Array(this.memory.buffer, tensor.pointer, values.length).set(values);
    return tensor;
  }

  predict(x: Float32Array, rows: number): Float32Array {
    const [predictions] = this.#withOutput(rows * this.outputs, (out) => {
      this.#withInput(x, (input) => {
        this.model.predict(input, rows, out);
      });
    });
    return predictions;
  }

  evaluate(loss: LossName, x: Float32Array, y: Float32Array, rows: number): Evaluation {
    const [predictions, [value, correct]] = this.#withOutput(rows * this.outputs, (out) =>
      this.#withInput(x, (input) => this.#withInput(y, (targets) => this.model.evaluate(loss, input, targets, rows, out))),
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
    const [batches, diverged] = this.model.trainBatches(x, y, samples, indices, batchEnds, losses, correct);
    return { batches: batches as number, diverged: diverged === 1 };
  }

  trace(x: Float32Array, rows: number): Float32Array {
    const [trace] = this.#withOutput(rows * this.traceFloats, (out) => {
      this.#withInput(x, (input) => {
        this.model.trace(input, rows, out);
      });
    });
    return trace;
  }

  gradients(loss: LossName, x: Float32Array, y: Float32Array, rows: number, randomState: Uint32Array): BatchGradients {
    // wasm-bindgen copies `gradients` into module memory and the results back out.
    const gradients = new Float32Array(this.gradientFloats);
    const value = this.#withInput(x, (input) => this.#withInput(y, (targets) => this.model.gradients(loss, input, targets, rows, randomState, gradients)));
    return { loss: value, gradients };
  }

  dispose(): void {
    this.model.free();
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

  /** Runs `use` with a module tensor of `length` floats for results; returns them copied out, and what `use` returned. */
  #withOutput<R>(length: number, use: (tensor: bindings.Tensor) => R): [Float32Array, R] {
    const tensor = new this.wasm.Tensor(length);
    try {
      const result = use(tensor);
      // Read through a fresh view: the call may have grown the memory.
      return [new Float32Array(this.memory.buffer, tensor.pointer, tensor.length).slice(), result];
    } finally {
      tensor.free();
    }
  }
}
