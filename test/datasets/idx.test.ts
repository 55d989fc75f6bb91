/** IDX files (MNIST's format): parsing, gzip, and refusals. */

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
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

it('refuses an empty file and dimensions no file can match, without allocating for them', () => {
  expect(() => parseIdx(new Uint8Array(0), 'f')).toThrow('f: not an IDX file (0 bytes, shorter than any IDX header)');
  expect(() => parseIdx(Uint8Array.of(0, 0, 8, 0), 'f')).toThrow('f: not an IDX file (its header gives 0 dimensions)');
  expect(() => parseIdx(idx([0xffffffff, 0xffffffff, 0xffffffff], new Uint8Array(4)), 'f')).toThrow(
    'f: dimensions 4294967295 x 4294967295 x 4294967295 need more bytes than any file holds',
  );
  // 255 dimensions of 2: a message shows the first 8 of them.
  expect(() => parseIdx(idx(new Array<number>(255).fill(2), new Uint8Array(3)), 'f')).toThrow('f: dimensions 2 x 2 x 2 x 2 x 2 x 2 x 2 x 2 x … (255 dimensions) need more bytes than any file holds');
  expect(() => parseIdx(idx([60_000_000, 28, 28], new Uint8Array(16)), 'f')).toThrow('f: truncated: dimensions 60000000 x 28 x 28 need 47040000016 bytes, the file has 32');
});

it('stops gunzipping at the length the header gives (a gzip bomb), and refuses a header beyond 2 GiB at once', async () => {
  const bomb = join(directory, 'bomb-images-idx3-ubyte.gz');
  // 64 MB of zeros after a header of 2 x 2 x 2 (8 bytes): a 64 kB file.
  await writeFile(bomb, gzipSync(idx([2, 2, 2], new Uint8Array(64 * 2 ** 20))));
  const before = process.memoryUsage().arrayBuffers;
  await expect(loadIdxImages(bomb, bomb)).rejects.toThrow(`${bomb}: too long: gunzipped, it holds more than the 24 bytes its dimensions need`);
  expect(process.memoryUsage().arrayBuffers - before).toBeLessThan(16 * 2 ** 20);
  const huge = join(directory, 'huge-images-idx3-ubyte.gz');
  await writeFile(huge, gzipSync(idx([3_000_000, 28, 28], new Uint8Array(100))));
  await expect(loadIdxImages(huge, huge)).rejects.toThrow(`${huge}: its dimensions need 2,352,000,016 bytes gunzipped, more than the 2 GiB ferronet reads at once; use fewer images`);
  const cut = join(directory, 'cut-images-idx3-ubyte.gz');
  await writeFile(cut, gzipSync(idx([2, 2, 2], new Uint8Array(8))).subarray(0, 20));
  await expect(loadIdxImages(cut, cut)).rejects.toThrow(`${cut}: cannot gunzip it (unexpected end of file)`);
});

it('refuses labels that are no Fashion-MNIST class, and files of no images', async () => {
  const folder = join(directory, 'bad-labels');
  await mkdir(folder);
  await writeFile(join(folder, 't10k-images-idx3-ubyte'), idx([2, 1, 1], Uint8Array.of(0, 255)));
  await writeFile(join(folder, 't10k-labels-idx1-ubyte'), idx([2], Uint8Array.of(3, 12)));
  await expect(loadFashionMnist(folder, 't10k')).rejects.toThrow(`${join(folder, 't10k-labels-idx1-ubyte')}: label 12 of example 1 is not a class (expected 0 to 9)`);
  const empty = join(directory, 'empty-images-idx3-ubyte');
  await writeFile(empty, idx([0, 28, 28], new Uint8Array(0)));
  await writeFile(join(directory, 'empty-labels-idx1-ubyte'), idx([0], new Uint8Array(0)));
  await expect(loadIdxImages(empty, join(directory, 'empty-labels-idx1-ubyte'))).rejects.toThrow(`${empty}: holds no images (dimensions 0 x 28 x 28)`);
});
