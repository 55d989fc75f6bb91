/**
 * Activations and their derivatives. Backward kernels take the forward *output* `y`, like the
 * Rust kernels: every derivative here can be written in terms of it.
 */

function map(x: Float32Array, y: Float32Array, f: (v: number) => number): void {
  for (let i = 0; i < x.length; i++) y[i] = f(x[i] as number);
}

function mapBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, f: (v: number, g: number) => number): void {
  for (let i = 0; i < y.length; i++) dx[i] = f(y[i] as number, dy[i] as number);
}

export function linearForward(x: Float32Array, y: Float32Array): void {
  y.set(x);
}

export function linearBackward(_y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  dx.set(dy);
}

export function reluForward(x: Float32Array, y: Float32Array): void {
  map(x, y, (v) => (v > 0 ? v : 0));
}

export function reluBackward(y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  mapBackward(y, dy, dx, (v, g) => (v > 0 ? g : 0));
}

export function leakyReluForward(alpha: number, x: Float32Array, y: Float32Array): void {
  map(x, y, (v) => (v > 0 ? v : alpha * v));
}

export function leakyReluBackward(alpha: number, y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  mapBackward(y, dy, dx, (v, g) => (v > 0 ? g : alpha * g));
}

export function tanhForward(x: Float32Array, y: Float32Array): void {
  map(x, y, Math.tanh);
}

export function tanhBackward(y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  mapBackward(y, dy, dx, (v, g) => g * (1 - v * v));
}

/** `1 / (1 + e^-x)`, arranged so that `e^` never overflows. */
function sigmoid(v: number): number {
  if (v >= 0) return 1 / (1 + Math.exp(-v));
  const e = Math.exp(v);
  return e / (1 + e);
}

export function sigmoidForward(x: Float32Array, y: Float32Array): void {
  map(x, y, sigmoid);
}

export function sigmoidBackward(y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  mapBackward(y, dy, dx, (v, g) => g * v * (1 - v));
}

/** Row-wise softmax, shifted by each row's maximum. */
export function softmaxForward(rows: number, cols: number, x: Float32Array, y: Float32Array): void {
  if (cols === 0) return; // no elements, however many rows
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let max = -Infinity;
    for (let c = 0; c < cols; c++) max = Math.max(max, x[base + c] as number);
    let sum = 0;
    for (let c = 0; c < cols; c++) sum += Math.exp((x[base + c] as number) - max);
    for (let c = 0; c < cols; c++) y[base + c] = Math.exp((x[base + c] as number) - max) / sum;
  }
}

/** `dx_i = y_i * (dy_i - sum_j dy_j * y_j)`, row by row. */
export function softmaxBackward(rows: number, cols: number, y: Float32Array, dy: Float32Array, dx: Float32Array): void {
  if (cols === 0) return; // no elements, however many rows
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    let dot = 0;
    for (let c = 0; c < cols; c++) dot += (y[base + c] as number) * (dy[base + c] as number);
    for (let c = 0; c < cols; c++) dx[base + c] = (y[base + c] as number) * ((dy[base + c] as number) - dot);
  }
}
