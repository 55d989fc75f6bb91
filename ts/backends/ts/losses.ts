/**
 * Losses: each returns the mean loss and writes its gradient. The cross-entropies are fused
 * with their output activation and write the gradient with respect to its input, `(p - t) / count`.
 */

/** Probabilities are clamped to `[EPSILON, 1 - EPSILON]` inside logarithms, as the Rust kernels do. */
export const EPSILON = 1e-7;

export function meanSquaredError(predictions: Float32Array, targets: Float32Array, gradient: Float32Array): number {
  const count = predictions.length;
  if (count === 0) return 0;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const diff = (predictions[i] as number) - (targets[i] as number);
    sum += diff * diff;
    gradient[i] = (2 * diff) / count;
  }
  return sum / count;
}

export function binaryCrossEntropy(predictions: Float32Array, targets: Float32Array, gradient: Float32Array): number {
  const count = predictions.length;
  if (count === 0) return 0;
  let sum = 0;
  for (let i = 0; i < count; i++) {
    const p = predictions[i] as number;
    const t = targets[i] as number;
    // Clamping p and 1 - p below at EPSILON is clamping p to [EPSILON, 1 - EPSILON].
    sum -= t * Math.log(Math.max(p, EPSILON)) + (1 - t) * Math.log(Math.max(1 - p, EPSILON));
    gradient[i] = (p - t) / count;
  }
  return sum / count;
}

export function softmaxCrossEntropy(
  rows: number,
  cols: number,
  predictions: Float32Array,
  targets: Float32Array,
  gradient: Float32Array,
): number {
  if (rows === 0) return 0;
  let sum = 0;
  for (let i = 0; i < rows * cols; i++) {
    const p = predictions[i] as number;
    const t = targets[i] as number;
    if (t !== 0) sum -= t * Math.log(Math.max(p, EPSILON));
    gradient[i] = (p - t) / rows;
  }
  return sum / rows;
}
