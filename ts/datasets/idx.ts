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

/** What an IDX file's header says. */
export interface IdxHeader {
  /** The dimensions, outermost first. */
  dimensions: number[];
  /** The length of the whole file they make: the header and one byte per element. */
  byteLength: number;
}

/**
 * The header of the IDX file that starts with `head`, or null while `head` is too short to hold
 * it. Throws a RangeError naming `source` for a start that is no IDX file of bytes, so a reader
 * can stop at the first bytes: a gzipped file need not be unpacked beyond the length its header
 * gives.
 */
export function readIdxHeader(head: Uint8Array, source: string): IdxHeader | null {
  if ((head.length > 0 && head[0] !== 0) || (head.length > 1 && head[1] !== 0)) throw new RangeError(`${source}: not an IDX file (it does not start with two zero bytes)`);
  const type = head[2];
  if (type !== undefined && type !== UNSIGNED_BYTE) throw new RangeError(`${source}: IDX element type 0x${type.toString(16).padStart(2, '0')} is not supported (only unsigned bytes, 0x08)`);
  const rank = head[3];
  if (rank === 0) throw new RangeError(`${source}: not an IDX file (its header gives 0 dimensions)`);
  const start = 4 + 4 * (rank ?? 0);
  if (rank === undefined || head.length < start) return null;
  const view = new DataView(head.buffer, head.byteOffset, head.byteLength);
  const dimensions = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i, false));
  const byteLength = dimensions.reduce((product, dimension) => product * dimension, 1) + start;
  // Beyond 2^53 the product is rounded: no file is that long, so none can match it.
  if (!Number.isSafeInteger(byteLength)) throw new RangeError(`${source}: dimensions ${formatDimensions(dimensions)} need more bytes than any file holds`);
  return { dimensions, byteLength };
}

/** Parses an (already decompressed) IDX file; `source` names it in error messages. */
export function parseIdx(bytes: Uint8Array, source: string): IdxArray {
  const header = readIdxHeader(bytes, source);
  if (header === null) {
    const rank = bytes[3];
    throw new RangeError(`${source}: not an IDX file (${rank === undefined ? `${bytes.length} bytes, shorter than any IDX header` : `its header of ${rank} dimensions is incomplete`})`);
  }
  const { dimensions, byteLength } = header;
  if (bytes.length !== byteLength) {
    throw new RangeError(`${source}: ${bytes.length < byteLength ? 'truncated' : 'too long'}: dimensions ${formatDimensions(dimensions)} need ${byteLength} bytes, the file has ${bytes.length}`);
  }
  return { dimensions, data: bytes.subarray(4 + 4 * dimensions.length) };
}

/** `60000 x 28 x 28`; a header may give up to 255 dimensions, of which a message shows 8. */
export function formatDimensions(dimensions: readonly number[]): string {
  const shown = dimensions.slice(0, 8).join(' x ');
  return dimensions.length > 8 ? `${shown} x … (${dimensions.length} dimensions)` : shown;
}
