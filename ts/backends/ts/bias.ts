/** `x[r][c] += bias[c]`, in place. */
export function biasAdd(rows: number, cols: number, bias: Float32Array, x: Float32Array): void {
  if (cols === 0) return; // no elements, however many rows
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) x[base + c] = (x[base + c] as number) + (bias[c] as number);
  }
}

/** `sums[c] = sum over r of x[r][c]`, accumulated in f64. */
export function columnSums(rows: number, cols: number, x: Float32Array, sums: Float32Array): void {
  if (cols === 0) return; // no columns to sum, however many rows
  const acc = new Float64Array(cols);
  for (let r = 0; r < rows; r++) {
    const base = r * cols;
    for (let c = 0; c < cols; c++) acc[c] = (acc[c] as number) + (x[base + c] as number);
  }
  sums.set(acc);
}
