/** Optimizer updates, in place on one parameter buffer. */

export function sgdUpdate(learningRate: number, params: Float32Array, gradients: Float32Array): void {
  for (let i = 0; i < params.length; i++) params[i] = (params[i] as number) - learningRate * (gradients[i] as number);
}

/** Momentum in PyTorch's form: `v = momentum * v + g; p -= learningRate * v`. */
export function momentumUpdate(
  learningRate: number,
  momentum: number,
  params: Float32Array,
  gradients: Float32Array,
  velocity: Float32Array,
): void {
  for (let i = 0; i < params.length; i++) {
    velocity[i] = momentum * (velocity[i] as number) + (gradients[i] as number);
    // Read the velocity back as stored (f32), as the Rust kernel uses it.
    params[i] = (params[i] as number) - learningRate * (velocity[i] as number);
  }
}

/** Adam with bias correction; `step` counts updates from 1. */
export function adamUpdate(
  learningRate: number,
  beta1: number,
  beta2: number,
  epsilon: number,
  step: number,
  params: Float32Array,
  gradients: Float32Array,
  m: Float32Array,
  v: Float32Array,
): void {
  const mCorrection = 1 / (1 - beta1 ** step);
  const vCorrection = 1 / (1 - beta2 ** step);
  for (let i = 0; i < params.length; i++) {
    const g = gradients[i] as number;
    m[i] = beta1 * (m[i] as number) + (1 - beta1) * g;
    v[i] = beta2 * (v[i] as number) + (1 - beta2) * g * g;
    // The moments are read back as stored (f32), as the Rust kernel uses them.
    const mHat = (m[i] as number) * mCorrection;
    const vHat = (v[i] as number) * vCorrection;
    params[i] = (params[i] as number) - (learningRate * mHat) / (Math.sqrt(vHat) + epsilon);
  }
}

/** RMSprop as PyTorch's: `v = rho v + (1 - rho) g^2; p -= learningRate g / (sqrt(v) + epsilon)`. */
export function rmspropUpdate(learningRate: number, rho: number, epsilon: number, params: Float32Array, gradients: Float32Array, v: Float32Array): void {
  for (let i = 0; i < params.length; i++) {
    const g = gradients[i] as number;
    v[i] = rho * (v[i] as number) + (1 - rho) * g * g;
    // The second moment is read back as stored (f32), as the Rust kernel uses it.
    params[i] = (params[i] as number) - (learningRate * g) / (Math.sqrt(v[i] as number) + epsilon);
  }
}
