/**
 * Moving a tensor between axis orders. ferronet stores conv kernels `[filters][kh][kw][in]`;
 * PyTorch and ONNX want `[filters][in][kh][kw]`, Keras `[kh][kw][in][filters]`; and a dense layer
 * after a flatten sees its inputs in NHWC order where PyTorch flattens channels first.
 */

/**
 * `values` (row-major, extents `shape`) with its axes reordered: axis `i` of the result is axis
 * `order[i]` of the input. `permute(w, [f, kh, kw, c], [0, 3, 1, 2])` is `[f][c][kh][kw]`.
 */
export function permute(values: Float32Array, shape: readonly number[], order: readonly number[]): Float32Array {
  const rank = shape.length;
  if (order.length !== rank || [...order].sort((a, b) => a - b).some((axis, i) => axis !== i)) {
    throw new Error(`permute: order ${JSON.stringify(order)} is not a permutation of ${rank} axes`);
  }
  const size = shape.reduce((product, extent) => product * extent, 1);
  if (values.length !== size) throw new Error(`permute: ${values.length} values for shape ${JSON.stringify(shape)}`);
  const inputStrides = new Array<number>(rank).fill(1);
  for (let axis = rank - 2; axis >= 0; axis--) inputStrides[axis] = (inputStrides[axis + 1] as number) * (shape[axis + 1] as number);
  const outputShape = order.map((axis) => shape[axis] as number);
  const strides = order.map((axis) => inputStrides[axis] as number);
  const result = new Float32Array(size);
  const index = new Array<number>(rank).fill(0);
  let from = 0;
  for (let to = 0; to < size; to++) {
    result[to] = values[from] as number;
    // Advance the output index like an odometer, moving `from` by the matching input strides.
    for (let axis = rank - 1; axis >= 0; axis--) {
      const stride = strides[axis] as number;
      const extent = outputShape[axis] as number;
      index[axis] = (index[axis] as number) + 1;
      from += stride;
      if ((index[axis] as number) < extent) break;
      from -= stride * extent;
      index[axis] = 0;
    }
  }
  return result;
}

/** The inverse of `order`: `permute(permute(v, s, order), permuted s, inverse(order))` is `v`. */
export function inverse(order: readonly number[]): number[] {
  const result = new Array<number>(order.length);
  order.forEach((axis, i) => {
    result[axis] = i;
  });
  return result;
}
