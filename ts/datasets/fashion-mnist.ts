/**
 * Fashion-MNIST (Zalando Research): 28 x 28 grey images of clothing in ten classes, 60,000 for
 * training and 10,000 for testing, as four IDX files, gzipped or not. Node only: it reads files.
 */

import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { parseIdx } from './idx.js';

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
  return loadIdxImages(imagesPath, await findFile(directory, `${split}-labels-idx1-ubyte`), limit);
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
  const count = Math.min(imageCount, limit);
  const features = shape.reduce((product, dimension) => product * dimension, 1);
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

/** Reads an IDX file, gunzipping it first when it starts with gzip's magic bytes. */
export async function readIdxFile(path: string): Promise<ReturnType<typeof parseIdx>> {
  const bytes = await readFile(path);
  const gzipped = bytes[0] === 0x1f && bytes[1] === 0x8b;
  let contents: Uint8Array = bytes;
  if (gzipped) {
    try {
      contents = gunzipSync(bytes);
    } catch (error) {
      throw new RangeError(`${path}: cannot gunzip it (${error instanceof Error ? error.message : String(error)})`);
    }
  }
  return parseIdx(contents, path);
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
