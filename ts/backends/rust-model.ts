/**
 * What the native and wasm training models share: both bindings export the same Rust `Model`
 * methods under the same names, so parameters, generator and optimizer state, and training
 * settings go through one implementation; the subclasses differ only where the data lives.
 */

import { outputLength, trainingConfigJson, type OptimizerState, type TrainingSettings } from './backend.js';
import type { ResolvedLayer } from '../layers/types.js';
import { parameterShapes, sizeOf } from '../layers/index.js';

/** The methods of the Rust `Model` that both bindings export alike. */
export interface RustModelBinding {
  addLayer(config: string): void;
  parameter(index: number): Float32Array;
  setParameter(index: number, values: Float32Array): void;
  randomState(): Uint32Array;
  setRandomState(state: Uint32Array): void;
  configureTraining(config: string): void;
  setLearningRate(rate: number): void;
  optimizerStep(): number;
  setOptimizerStep(step: number): void;
  optimizerStateCount(): number;
  optimizerState(index: number): Float32Array;
  setOptimizerState(index: number, values: Float32Array): void;
}

/** The part of a `BackendModel` that only talks to the Rust model. */
export abstract class RustModel<Binding extends RustModelBinding> {
  /** The binding's model object. */
  protected readonly model: Binding;
  /** Floats per output sample. */
  protected readonly outputs: number;
  /** Floats per sample of a trace: every layer's outputs, twice (pre-activations and outputs). */
  protected readonly traceFloats: number;
  /** Floats of a batch's gradients: every trained parameter buffer's. */
  protected readonly gradientFloats: number;

  protected constructor(model: Binding, layers: readonly ResolvedLayer[]) {
    this.model = model;
    // Each layer crosses as the JSON of its resolved form; the Rust side recomputes its shapes.
    for (const layer of layers) model.addLayer(JSON.stringify(layer));
    this.outputs = outputLength(layers);
    this.traceFloats = 2 * layers.reduce((sum, layer) => sum + sizeOf(layer.outputShape), 0);
    this.gradientFloats = layers
      .flatMap(parameterShapes)
      .filter(({ trainable }) => trainable)
      .reduce((sum, { length }) => sum + length, 0);
  }

  parameter(index: number): Float32Array {
    return this.model.parameter(index);
  }

  setParameter(index: number, values: Float32Array): void {
    this.model.setParameter(index, values);
  }

  setRandomState(state: Uint32Array): void {
    this.model.setRandomState(state);
  }

  randomState(): Uint32Array {
    return this.model.randomState();
  }

  configureTraining(settings: TrainingSettings): void {
    this.model.configureTraining(trainingConfigJson(settings));
  }

  setLearningRate(rate: number): void {
    this.model.setLearningRate(rate);
  }

  optimizerState(): OptimizerState {
    const buffers = Array.from({ length: this.model.optimizerStateCount() }, (_, i) => this.model.optimizerState(i));
    return { step: this.model.optimizerStep(), buffers };
  }

  setOptimizerState({ step, buffers }: OptimizerState): void {
    buffers.forEach((values, i) => {
      this.model.setOptimizerState(i, values);
    });
    this.model.setOptimizerStep(step);
  }
}
