/**
 * Fashion-MNIST for the benchmark, read from the gzipped IDX files of Debian's
 * `dataset-fashion-mnist` package. Deliberately small and local: the CLI has its own loader.
 */

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';

/** Where `apt-get install dataset-fashion-mnist` puts the files. */
const FASHION_MNIST_DIR = '/usr/share/datasets/fashion-mnist';

/** Labelled images: `x` is [images][pixels] in [0, 1], `labels` the class indices 0-9. */
export interface LabelledImages {
  /** Row-major [images][pixels], scaled from bytes to [0, 1]. */
  x: Float32Array;
  /** Class index of each image. */
  labels: Uint8Array;
}

/**
 * Reads an IDX file of unsigned bytes: two zero bytes, the type 0x08, the rank, then one
 * big-endian u32 per dimension, then the data.
 */
function readIdx(path: string): { dims: number[]; data: Uint8Array } {
  if (!existsSync(path)) throw new Error(`${path} not found: install it with 'apt-get install -y dataset-fashion-mnist'`);
  const bytes = gunzipSync(readFileSync(path));
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (bytes.length < 4 || view.getUint16(0) !== 0 || view.getUint8(2) !== 0x08) throw new Error(`${path}: not an IDX file of unsigned bytes`);
  const rank = view.getUint8(3);
  const start = 4 + 4 * rank;
  const dims = Array.from({ length: rank }, (_, i) => view.getUint32(4 + 4 * i));
  const size = dims.reduce((product, dim) => product * dim, 1);
  if (bytes.length !== start + size) throw new Error(`${path}: ${bytes.length - start} data bytes for dimensions ${dims.join('x')}`);
  return { dims, data: bytes.subarray(start) };
}

/** The first `limit` images of the `train` (60,000) or `t10k` (10,000) split. */
export function loadFashionMnist(split: 'train' | 't10k', limit: number): LabelledImages {
  const images = readIdx(join(FASHION_MNIST_DIR, `${split}-images-idx3-ubyte.gz`));
  const labels = readIdx(join(FASHION_MNIST_DIR, `${split}-labels-idx1-ubyte.gz`));
  const [available = 0, rows = 0, cols = 0] = images.dims;
  if (labels.dims[0] !== available) throw new Error(`Fashion-MNIST ${split}: ${available} images but ${labels.dims[0]} labels`);
  const count = Math.min(limit, available);
  const pixels = rows * cols;
  const x = new Float32Array(count * pixels);
  for (let i = 0; i < x.length; i++) x[i] = (images.data[i] as number) / 255;
  return { x, labels: labels.data.slice(0, count) };
}
