/**
 * The one door from ferronet's TypeScript layer into a backend. Network and Trainer talk to a
 * {@link Backend} and never know which one they hold.
 */

import type { ResolvedLayer } from '../layers/types.js';
import type { LossName } from '../losses/index.js';
import type { OptimizerSettings } from '../optimizers/index.js';

/** Where the maths runs: the Rust addon, the Rust WebAssembly module, or plain TypeScript. */
export type BackendName = 'native' | 'wasm' | 'ts';

/** Every backend name, in the order `'auto'` tries them. */
export const BACKEND_NAMES: readonly BackendName[] = ['native', 'wasm', 'ts'];

/**
 * A float32 buffer that a backend's kernels read and write in place.
 *
 * On the native and ts backends it wraps an ordinary `Float32Array` (possibly the caller's own);
 * on wasm it lives in the module's linear memory.
 */
export interface Tensor {
  /** Number of floats. */
  readonly length: number;
  /**
   * A live view of the floats. On wasm the view is rebuilt when the module's memory has grown,
   * so read this property again after other calls rather than keeping an old view.
   */
  readonly data: Float32Array;
  /** True once {@link Tensor.dispose} has run. */
  readonly disposed: boolean;
  /** Whether the two tensors share any memory (kernels refuse an output that overlaps an input). */
  overlaps(other: Tensor): boolean;
  /** Frees the memory now (wasm) or drops the reference (native, ts). Idempotent. */
  dispose(): void;
}

/**
 * The kernels every backend implements, generic over the buffer type `T` so that the same
 * signatures describe the Rust bindings (`Float32Array`, wasm handles) and the public,
 * validated {@link Tensor} layer. Names match the Rust kernels in camelCase.
 */
export interface Kernels<T> {
  /** `C = alpha * op(A) * op(B) + beta * C`, row-major; op(A) is m x k, op(B) k x n, C m x n. */
  gemm(transA: boolean, transB: boolean, m: number, n: number, k: number, alpha: number, a: T, b: T, beta: number, c: T): void;
  /** `x[r][c] += bias[c]`, in place. */
  biasAdd(rows: number, cols: number, bias: T, x: T): void;
  /** `sums[c] = sum over r of x[r][c]`. */
  columnSums(rows: number, cols: number, x: T, sums: T): void;
  /** `y = x`. */
  linearForward(x: T, y: T): void;
  /** `dx = dy`. */
  linearBackward(y: T, dy: T, dx: T): void;
  /** `y = max(x, 0)`. */
  reluForward(x: T, y: T): void;
  /** `dx = dy` where `y > 0`, else 0 (from the forward output `y`). */
  reluBackward(y: T, dy: T, dx: T): void;
  /** `y = x` where `x > 0`, else `alpha * x`. */
  leakyReluForward(alpha: number, x: T, y: T): void;
  /** `dx = dy` where `y > 0`, else `alpha * dy`. */
  leakyReluBackward(alpha: number, y: T, dy: T, dx: T): void;
  /** `y = tanh(x)`. */
  tanhForward(x: T, y: T): void;
  /** `dx = dy * (1 - y^2)`. */
  tanhBackward(y: T, dy: T, dx: T): void;
  /** `y = 1 / (1 + e^-x)`, stable for large `|x|`. */
  sigmoidForward(x: T, y: T): void;
  /** `dx = dy * y * (1 - y)`. */
  sigmoidBackward(y: T, dy: T, dx: T): void;
  /** Row-wise softmax of a rows x cols matrix. */
  softmaxForward(rows: number, cols: number, x: T, y: T): void;
  /** Row-wise `dx_i = y_i * (dy_i - sum_j dy_j y_j)`. */
  softmaxBackward(rows: number, cols: number, y: T, dy: T, dx: T): void;
  /** Mean of `(p - t)^2`; writes `2 (p - t) / count`. */
  meanSquaredError(predictions: T, targets: T, gradient: T): number;
  /** Mean clamped binary cross-entropy of sigmoid outputs; writes `(p - t) / count` (w.r.t. the logits). */
  binaryCrossEntropy(predictions: T, targets: T, gradient: T): number;
  /** Mean over rows of categorical cross-entropy of softmax outputs; writes `(p - t) / rows` (w.r.t. the logits). */
  softmaxCrossEntropy(rows: number, cols: number, predictions: T, targets: T, gradient: T): number;
  /** `params -= learningRate * gradients`. */
  sgdUpdate(learningRate: number, params: T, gradients: T): void;
  /** `velocity = momentum * velocity + gradients; params -= learningRate * velocity` (PyTorch's form). */
  momentumUpdate(learningRate: number, momentum: number, params: T, gradients: T, velocity: T): void;
  /** RMSprop: `v = rho v + (1 - rho) g^2; params -= learningRate g / (sqrt(v) + epsilon)`. */
  rmspropUpdate(learningRate: number, rho: number, epsilon: number, params: T, gradients: T, v: T): void;
  /** Adam with bias correction; `step` counts from 1. */
  adamUpdate(learningRate: number, beta1: number, beta2: number, epsilon: number, step: number, params: T, gradients: T, m: T, v: T): void;
}

/** The name of every kernel, for code that walks them all (validation, tests). */
export type KernelName = keyof Kernels<unknown>;

/** What a run of training batches did. */
export interface TrainOutcome {
  /** Batches whose update was applied (their losses and correct counts are recorded). */
  batches: number;
  /**
   * Batch `batches`'s loss was not finite (training stopped there; its loss is recorded) or the
   * updates left a parameter that is not finite; either way the parameters were restored to
   * their values when the call began, so every call starts from finite parameters.
   */
  diverged: boolean;
}

/** How a model trains: what {@link BackendModel.configureTraining} takes. */
export interface TrainingSettings {
  /** The loss minimized. */
  loss: LossName;
  /** The optimizer at its base learning rate; weight decay applies to dense and conv2d weights only. */
  optimizer: OptimizerSettings;
  /** Every batch's gradients are scaled to at most this global L2 norm (`clip_grad_norm_`), or not at all. */
  clipNorm: number | null;
}

/** An optimizer's progress: what a checkpoint keeps so that training resumes exactly. */
export interface OptimizerState {
  /** Updates applied since training was configured (Adam's bias correction counts them). */
  step: number;
  /** Each trained parameter buffer's state buffers in order (velocity; Adam's m then v). */
  buffers: Float32Array[];
}

/** A mean loss, the number of samples classified correctly, and the predictions. */
export interface Evaluation {
  /** Mean loss over the samples. */
  loss: number;
  /** Samples classified correctly. */
  correct: number;
  /** Outputs `[samples][outputs]`. */
  predictions: Float32Array;
}

/** One batch's loss gradients as a training step computes them: what {@link BackendModel.gradients} returns. */
export interface BatchGradients {
  /** The batch's mean loss in that training-mode forward pass (what a step records). */
  loss: number;
  /**
   * The gradient of that mean loss with respect to every trained parameter buffer (dense and
   * conv2d weights then bias, batchNorm gamma then beta), concatenated in parameter order:
   * before clipping and weight decay, which belong to the update.
   */
  gradients: Float32Array;
}

/** A training set placed where a backend's model reads it (copied into wasm memory; in place elsewhere). */
export interface TrainingData {
  /** Rows in the data set. */
  readonly samples: number;
  /** Frees the copy, where the backend made one. */
  dispose(): void;
}

/**
 * A network as a backend holds it: parameters, optimizer state and scratch space live on the
 * backend's side between calls, and a whole run of batches is one call. Arguments are
 * validated by the Network and Trainer before they get here.
 */
export interface BackendModel {
  /**
   * A copy of parameter buffer `index`, counting every layer's buffers in order (docs/layers.md,
   * "Parameters": dense and conv2d weights then bias, batchNorm gamma, beta, movingMean,
   * movingVariance, other kinds none).
   */
  parameter(index: number): Float32Array;
  /** Overwrites parameter buffer `index` (see {@link BackendModel.parameter}). */
  setParameter(index: number, values: Float32Array): void;
  /** Sets how the model trains and resets the optimizer's state and step count. */
  configureTraining(settings: TrainingSettings): void;
  /** Changes the learning rate (a schedule's next epoch) and keeps the optimizer's state. */
  setLearningRate(rate: number): void;
  /** The optimizer's step count and state buffers (each trained buffer's, in parameter order), copied. */
  optimizerState(): OptimizerState;
  /** Continues from `state` (from {@link BackendModel.optimizerState} of a model configured alike). */
  setOptimizerState(state: OptimizerState): void;
  /** Sets the dropout generator's xoshiro128** state (four 32-bit words; docs/layers.md, "Dropout masks"). */
  setRandomState(state: Uint32Array): void;
  /** The dropout generator's state now, after the masks drawn so far. */
  randomState(): Uint32Array;
  /** Outputs `[rows][outputs]` for inputs `x` `[rows][inputs]`, in inference mode. */
  predict(x: Float32Array, rows: number): Float32Array;
  /** Mean loss and correct count on `(x, y)`, with the predictions. */
  evaluate(loss: LossName, x: Float32Array, y: Float32Array, rows: number): Evaluation;
  /** Makes a data set readable by {@link BackendModel.trainBatches}; dispose it after the fit. */
  bindData(x: Float32Array, y: Float32Array, samples: number): TrainingData;
  /**
   * Trains on the batches of `indices` (sample rows in visiting order) that `batchEnds`
   * delimits (end offsets, rising, the last at `indices.length`): one forward, backward and
   * update per batch. Records each batch's mean loss (from the forward pass before its update)
   * in `losses` and how many of its samples were classified correctly in `correct`.
   */
  trainBatches(data: TrainingData, indices: Uint32Array, batchEnds: Uint32Array, losses: Float64Array, correct: Uint32Array): TrainOutcome;
  /**
   * Every layer's pre-activations and outputs for inputs `x` `[rows][inputs]`, in inference
   * mode, in one buffer: for each layer in order, its `[rows][outputSize]` pre-activations then
   * its `[rows][outputSize]` outputs. A pre-activation is what the layer computes before its
   * activation (dense and conv2d `x W^T + b`, an activation layer its input); kinds without an
   * activation (pooling, batchNorm, dropout, flatten) give their output twice. The last
   * layer's outputs are {@link BackendModel.predict}'s, bit for bit.
   */
  trace(x: Float32Array, rows: number): Float32Array;
  /**
   * One batch's loss gradients as a training step computes them before its update: the
   * training-mode forward pass of `(x, y)` (`rows` of them, at least 1) with dropout masks drawn
   * from a generator in `randomState` (four words) and batch norm on the batch's statistics,
   * the mean `loss`, and backpropagation. Nothing changes: parameters (the moving statistics
   * that pass moved are put back), the model's own dropout generator and the optimizer's state
   * are as they were. Needs no {@link BackendModel.configureTraining}.
   */
  gradients(loss: LossName, x: Float32Array, y: Float32Array, rows: number, randomState: Uint32Array): BatchGradients;
  /** Frees the model's memory. */
  dispose(): void;
}

/** A loaded backend: validated kernels over {@link Tensor}s, and training models. */
export interface Backend extends Kernels<Tensor> {
  /** Which backend this is. */
  readonly name: BackendName;
  /** The instruction set its kernels compute with: `avx512`, `avx2`, `neon` or `scalar` natively, `wasm-simd` or `wasm-relaxed-simd` (fused multiply-adds) in wasm, `javascript` on ts. */
  readonly instructionSet: string;
  /** Threads its kernels compute on. */
  readonly threads: number;
  /** Why it computes on one thread where more were asked for or the machine has more, when it does. */
  readonly threadsReason?: string;
  /**
   * A tensor of `source` zeros, or holding `source`'s values. A `Float32Array` is wrapped in
   * place (no copy) on the native and ts backends and copied into module memory on wasm.
   */
  tensor(source: number | ArrayLike<number>): Tensor;
  /**
   * A model of `layers` taking samples of `inputShape`, every parameter zero: the Network sets
   * the initial values.
   */
  createModel(inputShape: readonly number[], layers: readonly ResolvedLayer[]): BackendModel;
  /**
   * The index of a safetensors file (its metadata, and each tensor's dtype, shape and byte
   * range) as JSON, read by the format's Rust crate; it throws when the file is not one. Null
   * on the ts backend, which has no file parsers: `Network.fromSafetensors` then asks native or wasm.
   */
  readonly safetensorsIndex: ((file: Uint8Array) => string) | null;
}

/** Floats per output sample of a network: its last layer's output shape, flattened. */
export function outputLength(layers: readonly ResolvedLayer[]): number {
  return (layers.at(-1) as ResolvedLayer).outputShape.reduce((product, extent) => product * extent, 1);
}

/**
 * The Rust model's training configuration as JSON (`TrainingConfig` in crates/kernels): named
 * fields, so no hyperparameter can land in another's slot on its way across the boundary.
 */
export function trainingConfigJson({ loss, optimizer, clipNorm }: TrainingSettings): string {
  return JSON.stringify({ loss, optimizer, weightDecay: optimizer.weightDecay, clipNorm });
}
