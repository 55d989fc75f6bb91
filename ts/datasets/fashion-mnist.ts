/**
 * Fashion-MNIST (Zalando Research): 28 x 28 grey images of clothing in ten classes, 60,000 for
 * training and 10,000 for testing, as four IDX files, gzipped or not. Node only: it reads files.
 */

import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createGunzip } from 'node:zlib';
import { formatDimensions, parseIdx, readIdxHeader, type IdxArray, type IdxHeader } from './idx.js';

/** Where Debian's `dataset-fashion-mnist` package puts the files. */
export const FASHION_MNIST_DIRECTORY = '/usr/share/datasets/fashion-mnist';

/** The class names, by label. */
export const FASHION_MNIST_CLASSES = ['T-shirt/top', 'Trouser', 'Pullover', 'Dress', 'Coat', 'Sandal', 'Shirt', 'Sneaker', 'Bag', 'Ankle boot'];

/** Labelled images as the network reads them. */
export interface LabeledImages {
  /** Pixel values 0..255, `[count][rows * columns]` row-major. */
  pixels: Float32Array;
  /** Class indices, `[count]`. */
  labels: Uint8Array;
  /** Number of images. */
  count: number;
  /** Pixels per image. */
  features: number;
  /** The extents of one image: the IDX file's dimensions after the count, `[rows, columns]` for Fashion-MNIST. */
  shape: number[];
}

/** The training or the test half of the data set. */
export type FashionMnistSplit = 'train' | 't10k';

/** Reads one split from `directory`, at most `limit` images of it (the first ones). */
export async function loadFashionMnist(directory: string, split: FashionMnistSplit, limit = Infinity): Promise<LabeledImages> {
  const imagesPath = await findFile(directory, `${split}-images-idx3-ubyte`);
  const labelsPath = await findFile(directory, `${split}-labels-idx1-ubyte`);
  const images = await loadIdxImages(imagesPath, labelsPath, limit);
  checkLabels(images.labels, FASHION_MNIST_CLASSES.length, labelsPath);
  return images;
}

/** Throws a RangeError naming `source` unless every label is a class index below `classes`. */
export function checkLabels(labels: ArrayLike<number>, classes: number, source: string): void {
  for (let i = 0; i < labels.length; i++) {
    const label = labels[i] as number;
    if (label >= classes) throw new RangeError(`${source}: label ${label} of example ${i} is not a class (expected 0 to ${classes - 1})`);
  }
}

/** Reads an IDX images file and its labels file, at most `limit` of them. */
export async function loadIdxImages(imagesPath: string, labelsPath: string, limit = Infinity): Promise<LabeledImages> {
  const images = await readIdxFile(imagesPath);
  const labels = await readIdxFile(labelsPath);
  const [imageCount = 0, ...shape] = images.dimensions;
  if (shape.length === 0) throw new RangeError(`${imagesPath}: expected images (3 dimensions), got one dimension`);
  if (labels.dimensions.length !== 1) throw new RangeError(`${labelsPath}: expected labels (1 dimension), got ${labels.dimensions.length}`);
  if (labels.dimensions[0] !== imageCount) {
    throw new RangeError(`${labelsPath}: holds ${labels.dimensions[0]} labels for the ${imageCount} images of ${imagesPath}`);
  }
  const features = shape.reduce((product, dimension) => product * dimension, 1);
  if (imageCount === 0 || features === 0) throw new RangeError(`${imagesPath}: holds no ${imageCount === 0 ? 'images' : 'pixels'} (dimensions ${formatDimensions(images.dimensions)})`);
  const count = Math.min(imageCount, limit);
  return { pixels: Float32Array.from(images.data.subarray(0, count * features)), labels: labels.data.slice(0, count), count, features, shape };
}

/**
 * The labels file beside an images file named like MNIST's (`*-images-idx3-ubyte[.gz]` ->
 * `*-labels-idx1-ubyte`, gzipped or not), or null when there is none.
 */
export async function findLabelsFile(imagesPath: string): Promise<string | null> {
  const stem = imagesPath.replace(/images-idx3-ubyte(\.gz)?$/, 'labels-idx1-ubyte');
  if (stem === imagesPath) return null;
  return firstExisting([`${stem}.gz`, stem]);
}

/** The most bytes Node's readFile gives (2 GiB): a gunzipped file is held to it too. */
const MAX_FILE_BYTES = 2 ** 31 - 1;

/**
 * Reads an IDX file, gunzipping it first when it starts with gzip's magic bytes. Gunzipping
 * stops as soon as the output passes the length the IDX header gives, and a header giving more
 * than a file may hold is refused at once, so a small file that unpacks to gigabytes (a gzip
 * bomb) costs no more memory than the file could.
 */
export async function readIdxFile(path: string): Promise<IdxArray> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    // Node's message says neither which file nor what to do.
    if ((error as { code?: unknown }).code !== 'ERR_FS_FILE_TOO_LARGE') throw error;
    throw new RangeError(`${path}: larger than the 2 GiB ferronet reads at once; use fewer images`);
  }
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  return parseIdx(gzipped ? await gunzipIdx(bytes, path) : bytes, path);
}

async function gunzipIdx(bytes: Uint8Array, path: string): Promise<Uint8Array> {
  const gunzip = createGunzip();
  gunzip.end(bytes);
  const chunks: Buffer[] = [];
  let length = 0;
  let header: IdxHeader | null = null;
  try {
    for await (const chunk of gunzip as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      length += chunk.length;
      // The header is at most 1,024 bytes: joining the chunks while it is incomplete costs little.
      if (header === null) {
        header = readIdxHeader(chunks.length === 1 ? chunk : Buffer.concat(chunks), path);
        if (header !== null && header.byteLength > MAX_FILE_BYTES) {
          throw new RangeError(`${path}: its dimensions need ${header.byteLength.toLocaleString('en-US')} bytes gunzipped, more than the 2 GiB ferronet reads at once; use fewer images`);
        }
      }
      if (header !== null && length > header.byteLength) {
        throw new RangeError(`${path}: too long: gunzipped, it holds more than the ${header.byteLength} bytes its dimensions need`);
      }
    }
  } catch (error) {
    if (error instanceof RangeError) throw error;
    throw new RangeError(`${path}: cannot gunzip it (${error instanceof Error ? error.message : String(error)})`);
  }
  return Buffer.concat(chunks, length);
}

async function findFile(directory: string, name: string): Promise<string> {
  const found = await firstExisting([join(directory, `${name}.gz`), join(directory, name)]);
  if (found !== null) return found;
  throw new Error(
    `${directory}: no ${name}[.gz] there; Fashion-MNIST comes with 'apt-get install dataset-fashion-mnist' (Debian, Ubuntu) ` +
      'or from https://github.com/zalandoresearch/fashion-mnist',
  );
}

async function firstExisting(paths: string[]): Promise<string | null> {
  for (const path of paths) {
    try {
      await access(path);
      return path;
    } catch {
      // try the next spelling
    }
  }
  return null;
}
