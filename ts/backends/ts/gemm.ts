/**
 * `C = alpha * op(A) * op(B) + beta * C`, row-major, as a plain loop: the reference that the
 * Rust GEMM is tested against and the baseline it is measured against. Sums run in f64.
 */
export function gemm(
  transA: boolean,
  transB: boolean,
  m: number,
  n: number,
  k: number,
  alpha: number,
  a: Float32Array,
  b: Float32Array,
  beta: number,
  c: Float32Array,
): void {
  // An empty C needs no work, however large its other dimension.
  if (m === 0 || n === 0) return;
  // op(A)[i][p] = a[i*aRow + p*aCol]; op(B)[p][j] = b[p*bRow + j*bCol].
  const [aRow, aCol] = transA ? [1, m] : [k, 1];
  const [bRow, bCol] = transB ? [1, k] : [n, 1];
  const row = new Float64Array(n);
  for (let i = 0; i < m; i++) {
    row.fill(0);
    for (let p = 0; p < k; p++) {
      const aip = a[i * aRow + p * aCol] as number;
      if (aip === 0) continue;
      const bBase = p * bRow;
      for (let j = 0; j < n; j++) row[j] = (row[j] as number) + aip * (b[bBase + j * bCol] as number);
    }
    const cBase = i * n;
    for (let j = 0; j < n; j++) {
      // beta = 0 never reads C, so C may hold NaN.
      const old = beta === 0 ? 0 : beta * (c[cBase + j] as number);
      c[cBase + j] = alpha * (row[j] as number) + old;
    }
  }
}
