/**
 * The geometry of convolution and pooling windows along one axis (docs/layers.md, "Windows"),
 * shared by the configuration here and the ts backend's loops.
 */

import type { Padding } from './types.js';

/** Where a window's outputs fall along one axis. */
export interface WindowGeometry {
  /** Output positions: 0 when the window is larger than the input with `'valid'` padding. */
  out: number;
  /** Padding positions before the input; output `o` reads inputs `o * stride - before + j` for `j` in `[0, k)`. */
  before: number;
}

/**
 * A window of `k` moving by `stride` over `inExtent` positions. `'valid'`: no padding,
 * `out = floor((in - k) / stride) + 1`. `'same'` (TensorFlow's): `out = ceil(in / stride)`,
 * total padding `max((out - 1) * stride + k - in, 0)`, the smaller half before.
 */
export function windowGeometry(inExtent: number, k: number, stride: number, padding: Padding): WindowGeometry {
  if (padding === 'valid') return { out: inExtent < k ? 0 : Math.floor((inExtent - k) / stride) + 1, before: 0 };
  const out = Math.ceil(inExtent / stride);
  const total = Math.max((out - 1) * stride + k - inExtent, 0);
  return { out, before: Math.floor(total / 2) };
}
