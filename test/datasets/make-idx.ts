/** Builds IDX files for tests. */

/** An IDX file of unsigned bytes with these dimensions and contents. */
export function idx(dimensions: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dimensions.length + data.length);
  const view = new DataView(out.buffer);
  out.set([0, 0, 0x08, dimensions.length]);
  dimensions.forEach((dimension, i) => view.setUint32(4 + 4 * i, dimension, false));
  out.set(data, 4 + 4 * dimensions.length);
  return out;
}
