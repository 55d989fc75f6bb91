/**
 * The IDX format of MNIST and Fashion-MNIST (http://yann.lecun.com/exdb/mnist/): two zero
 * bytes, an element type, the number of dimensions, each dimension as a big-endian uint32,
 * then the elements. Only unsigned bytes (type 0x08) occur in those data sets, so only they
 * are read.
 */

/** An IDX file's contents: its dimensions, outermost first, and its bytes in row-major order. */
export interface IdxArray {
  /** For images `[count, rows, columns]`, for labels `[count]`. */
  dimensions: number[];
  /** The elements, row-major. */
  data: Uint8Array;
}

const UNSIGNED_BYTE = 0x08;

/** Parses an (already decompressed) IDX file; `source` names it in error messages. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  if (bytes.length < 4 || bytes[0] !== 0 || bytes[1] !== 0) throw new RangeError(`${source}: not an IDX file (it does not start with two zero bytes)`);
  const type = bytes[2] as number;
  if (type !== UNSIGNED_BYTE) throw new RangeError(`${source}: IDX element type 0x${type.toString(16).padStart(2, '0')} is not supported (only unsigned bytes, 0x08)`);
  const rank = bytes[3] as number;
  const start = 4 + 4 * rank;
  if (rank === 0 || bytes.length < start) throw new RangeError(`${source}: not an IDX file (its header of ${rank} dimensions is incomplete)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dimensions = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const size = dimensions.reduce((product, dimension) => product * dimension, 1);
  if (bytes.length !== start + size) {
    throw new RangeError(`${source}: ${bytes.length < start + size ? 'truncated' : 'too long'}: dimensions ${dimensions.join(' x ')} need ${start + size} bytes, the file has ${bytes.length}`);
  }
  return { dimensions, data: bytes.subarray(start) };
}
