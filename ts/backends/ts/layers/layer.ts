/**
 * The one interface every layer kind of the ts backend's model implements (one file per kind
 * in this folder, registered in ./index.ts), mirroring `Layer` in crates/kernels/src/layers.
 * docs/layers.md gives each kind's maths.
 *
 * Activations are `[rows][features...]` row-major, images NHWC; every buffer a layer is handed
 * is exactly sized for the batch.
 */

import type { Random } from '../../../random.js';

/** One parameter buffer and what training keeps beside it. */
export interface Parameter {
  /** The values, `parameter(index)` of the model. */
  readonly values: Float32Array;
  /** Whether the optimizer updates it (batch norm's moving statistics are moved by the layer itself). */
  readonly trained: boolean;
  /** Whether weight decay applies: dense and conv2d weights only, never biases or batch norm. */
  readonly decays: boolean;
  /** The loss gradient of the last batch, summed over it; empty for buffers that are not trained. */
  readonly gradient: Float32Array;
  /** The optimizer's per-element state (momentum's velocity; Adam's m and v), set by the model. */
  optimizerState: Float32Array[];
}

/** A kernel (dense or conv2d weights) of `length` zeros: trained, and decayed by weight decay. */
export function kernelParameter(length: number): Parameter {
  return { ...trainedParameter(length), decays: true };
}

/** A buffer of `length` zeros that the optimizer trains and weight decay leaves alone (biases, batch norm). */
export function trainedParameter(length: number): Parameter {
  return { values: new Float32Array(length), trained: true, decays: false, gradient: new Float32Array(length), optimizerState: [] };
}

/** A buffer of `length` zeros that its layer updates itself. */
export function untrainedParameter(length: number): Parameter {
  return { values: new Float32Array(length), trained: false, decays: false, gradient: new Float32Array(0), optimizerState: [] };
}

/** What a layer's backward pass reads and writes for one batch. */
export interface BackwardPass {
  /** The layer's input in the training-mode forward pass of this batch. */
  input: Float32Array;
  /** The layer's output in that pass. */
  output: Float32Array;
  rows: number;
  /** `dL/d output` on entry; the layer may overwrite it (activations go backward in place). */
  outputGradient: Float32Array;
  /** Where `dL/d input` goes (overwritten); null for the first layer, which skips it. */
  inputGradient: Float32Array | null;
  /**
   * `outputGradient` is already with respect to the layer's pre-activation (a cross-entropy
   * fused with the output activation), so the activation's backward is skipped.
   */
  outputIsPreActivation: boolean;
}

/** One layer of a {@link TsModel}: its parameters, forward and backward. */
export interface TsLayer {
  /** The parameter buffers, in docs/layers.md's order. */
  readonly parameters: readonly Parameter[];
  /** Floats per output sample. */
  readonly outputSize: number;
  /** Floats per sample of the layer's largest scratch buffer (conv2d's im2col patches; 0 for most kinds). */
  readonly scratchPerSample: number;
  /**
   * Writes the outputs of `rows` samples of `input` to `output`. In training mode dropout
   * draws its masks from `random` and batch norm uses and moves the batch statistics.
   */
  forward(input: Float32Array, rows: number, output: Float32Array, training: boolean, random: Random): void;
  /**
   * Writes every trained parameter's gradient (summed over the batch) and, when asked, the
   * input gradient. Follows the training-mode forward pass of the same batch; reads nothing
   * that pass left behind but dropout's mask (the draws cannot be redone), recomputing the
   * rest (im2col patches, pooling winners, batch statistics) from its arguments.
   */
  backward(pass: BackwardPass): void;
  /**
   * An inference-mode forward pass that also writes the layer's pre-activation (what
   * `Network.trace` reports): dense and conv2d `x W^T + b`, an activation layer its input.
   * Kinds without an activation of their own leave it out, and the model copies their output
   * into the pre-activation (as the Rust `Layer::trace` does by default).
   */
  trace?(input: Float32Array, rows: number, preActivation: Float32Array, output: Float32Array): void;
}

/** `buffer` when it holds `length` elements, else a new zeroed one that does: scratch grows once per batch size. */
export function atLeast<T extends Float32Array | Float64Array | Uint8Array>(buffer: T, length: number, create: (length: number) => T): T {
  return buffer.length >= length ? buffer : create(length);
}
