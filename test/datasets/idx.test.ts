/** IDX files (MNIST's format): parsing, gzip, and refusals. */

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, expect, it } from 'vitest';
import { findLabelsFile, loadFashionMnist, loadIdxImages } from '../../ts/datasets/fashion-mnist.js';
import { parseIdx } from '../../ts/datasets/idx.js';
import { idx } from './make-idx.js';

const directory = await mkdtemp(join(tmpdir(), 'ferronet-idx-'));
afterAll(() => rm(directory, { recursive: true, force: true }));

it('parses dimensions and data', () => {
  const parsed = parseIdx(idx([2, 2, 3], Uint8Array.from({ length: 12 }, (_, i) => i)), 'f');
  expect(parsed.dimensions).toEqual([2, 2, 3]);
  expect(Array.from(parsed.data)).toEqual(Array.from({ length: 12 }, (_, i) => i));
});

it('refuses what is not an IDX file of bytes, or is cut short', () => {
  expect(() => parseIdx(new TextEncoder().encode('a,b\n1,2\n'), 'f')).toThrow('f: not an IDX file (it does not start with two zero bytes)');
  expect(() => parseIdx(Uint8Array.of(0, 0, 0x0d, 1, 0, 0, 0, 1, 0, 0, 0, 0), 'f')).toThrow('f: IDX element type 0x0d is not supported (only unsigned bytes, 0x08)');
  expect(() => parseIdx(idx([3, 4], new Uint8Array(11)), 'f')).toThrow('f: truncated: dimensions 3 x 4 need 24 bytes, the file has 23');
  expect(() => parseIdx(Uint8Array.of(0, 0, 8, 2, 0, 0), 'f')).toThrow('f: not an IDX file (its header of 2 dimensions is incomplete)');
});

it('reads Fashion-MNIST-named files from a folder, gzipped or not, up to a limit', async () => {
  await writeFile(join(directory, 'train-images-idx3-ubyte.gz'), gzipSync(idx([3, 2, 2], Uint8Array.from({ length: 12 }, (_, i) => 20 * i))));
  await writeFile(join(directory, 'train-labels-idx1-ubyte'), idx([3], Uint8Array.of(4, 0, 9)));
  const all = await loadFashionMnist(directory, 'train');
  expect(all).toMatchObject({ count: 3, features: 4 });
  expect(Array.from(all.pixels.subarray(4, 8))).toEqual([80, 100, 120, 140]);
  expect(Array.from(all.labels)).toEqual([4, 0, 9]);
  expect((await loadFashionMnist(directory, 'train', 2)).count).toBe(2);
  await expect(loadFashionMnist(directory, 't10k')).rejects.toThrow(/no t10k-images-idx3-ubyte\[\.gz\] there; Fashion-MNIST comes with 'apt-get install dataset-fashion-mnist'/);
  await writeFile(join(directory, 'short-labels-idx1-ubyte'), idx([2], Uint8Array.of(1, 2)));
  await expect(loadIdxImages(join(directory, 'train-images-idx3-ubyte.gz'), join(directory, 'short-labels-idx1-ubyte'))).rejects.toThrow(/holds 2 labels for the 3 images/);
  expect(await findLabelsFile(join(directory, 'train-images-idx3-ubyte.gz'))).toBe(join(directory, 'train-labels-idx1-ubyte'));
  expect(await findLabelsFile(join(directory, 'short-labels-idx1-ubyte'))).toBeNull();
});
