/**
 * `ferronet train --model`: the built-in CNN, networks from a JSON file, the summary printed
 * before training, and a short native run of the CNN on real Fashion-MNIST.
 */

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_DIRECTORY } from '../../ts/datasets/fashion-mnist.js';
import { Random } from '../../ts/random.js';
import { CLI, expectOneLineError, ferronetIn, NATIVE_COMPUTE, writeBarImages } from './helpers.js';

const directory = await mkdtemp(join(tmpdir(), 'ferronet-cnn-'));
const ferronet = ferronetIn(directory);

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const random = new Random(3);
  await mkdir(join(directory, 'bars'));
  await writeBarImages(join(directory, 'bars'), 'train', 400, random);
  await writeBarImages(join(directory, 'bars'), 't10k', 100, random);
  await writeFile(join(directory, 'points.csv'), 'x,y,kind\n0,0,a\n1,0,b\n0,1,a\n1,1,b\n');
});
afterAll(() => rm(directory, { recursive: true, force: true }));

/** The JSON lines of a `--json` run. */
function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe('train --model cnn', () => {
  it('prints the summary, trains on the images as [rows, columns, 1], and the model evaluates', async () => {
    const { code, stdout, stderr } = await ferronet('train', 'fashion-mnist', '--data', 'bars', '--model', 'cnn', '--epochs', '3', '--batch-size', '16', '--out', 'bars/cnn.fnet');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(
      `training 4x4x1 → conv2d 32 3x3 same relu → maxPool2d 2x2 → batchNorm → conv2d 64 3x3 same relu → maxPool2d 2x2 → flatten → dropout 0.25 → 128 relu → 10 softmax on fashion-mnist with the native backend (${NATIVE_COMPUTE})`,
    );
    const summary = lines.slice(lines.findIndex((line) => line.startsWith('Layer (type)')));
    expect(summary[2]).toMatch(/^layers\[0\] \(conv2d\) +\[4, 4, 32\] +320$/);
    expect(summary[10]).toMatch(/^layers\[8\] \(dense\) +\[10\] +1,290$/);
    // 320 + 128 + 18,496 + 64 * 128 + 128 + 1,290; batch norm's moving statistics are not trained.
    expect(summary.slice(12, 15)).toEqual(['Total params: 28,554', 'Trainable params: 28,490', 'Non-trainable params: 64']);
    expect(summary[15]).toMatch(/^epoch 1\/3 /);
    const test = /test: loss (\d\.\d{4}), accuracy/.exec(stdout)?.[1];
    expect(test).toBeDefined();
    const evaluation = await ferronet('evaluate', 'bars/cnn.fnet', 'bars/t10k-images-idx3-ubyte.gz');
    expect(evaluation.stdout).toContain(`100 examples: loss ${test as string}`);
  });

  it('prints the layers as the first JSON line with --json', async () => {
    const { code, stdout } = await ferronet('train', 'fashion-mnist', '--data', 'bars', '--model', 'cnn', '--epochs', '1', '--out', 'bars/json.fnet', '--json');
    expect(code).toBe(0);
    const [model, epoch, test] = jsonLines(stdout);
    expect(model?.inputShape).toEqual([4, 4, 1]);
    expect((model?.layers as Record<string, unknown>[])[0]).toEqual({
      type: 'conv2d',
      filters: 32,
      kernelSize: [3, 3],
      strides: [1, 1],
      padding: 'same',
      activation: 'relu',
      useBias: true,
      outputShape: [4, 4, 32],
      params: 320,
    });
    expect([model?.params, model?.trainableParams]).toEqual([28554, 28490]);
    expect(epoch?.epoch).toBe(1);
    expect(test).toHaveProperty('testAccuracy');
  });

  it('refuses what it does not fit in one line, as usage errors', async () => {
    expectOneLineError(await ferronet('train', 'planar', '--model', 'cnn'), 2, 'ferronet: --model cnn applies to train fashion-mnist only (it needs images) (see ferronet train --help)');
    expectOneLineError(await ferronet('train', 'fashion-mnist', '--model', 'cnn', '--hidden', '64'), 2, 'ferronet: --hidden applies to --model mlp only');
    expectOneLineError(await ferronet('train', 'planar', '--model', 'resnet'), 2, 'ferronet: --model: expected mlp, cnn or a FILE.json, got "resnet"');
  });
});

describe('train --model FILE.json', () => {
  const model = async (name: string, contents: unknown): Promise<string> => {
    await writeFile(join(directory, name), typeof contents === 'string' ? contents : JSON.stringify(contents));
    return name;
  };

  it('trains the network the file describes', async () => {
    const file = await model('small.json', {
      inputShape: [4, 4, 1],
      layers: [{ type: 'conv2d', filters: 4, kernelSize: 2, activation: 'relu' }, { type: 'avgPool2d', poolSize: 3 }, { type: 'flatten' }, { units: 10, activation: 'softmax' }],
    });
    const { code, stdout } = await ferronet('train', 'fashion-mnist', '--data', 'bars', '--model', file, '--epochs', '2', '--out', 'bars/small.fnet');
    expect(code).toBe(0);
    expect(stdout).toContain('training 4x4x1 → conv2d 4 2x2 relu → avgPool2d 3x3 → flatten → 10 softmax on fashion-mnist');
    expect(stdout).toContain('Total params: 70'); // 4 * 4 + 4, then 4 * 10 + 10
    const points = await model('points.json', { inputShape: [2], layers: [{ units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }] });
    expect((await ferronet('train', 'csv', 'points.csv', '--label', 'kind', '--model', points, '--epochs', '2', '--quiet')).code).toBe(0);
  });

  it('names the file and the problem in one line', async () => {
    const train = (file: string): ReturnType<typeof ferronet> => ferronet('train', 'fashion-mnist', '--data', 'bars', '--model', file, '--epochs', '1', '--out', 'bars/bad.fnet');
    const dense = { inputShape: [16], layers: [{ units: 10, activation: 'softmax' }] };
    expectOneLineError(await train('missing.json'), 2, 'ferronet: missing.json: no such file or folder (see ferronet train --help)');
    expectOneLineError(await train(await model('broken.json', '{"inputShape": [16],')), 2, /^ferronet: broken\.json: not JSON \(.+\) \(see ferronet train --help\)\n$/);
    expectOneLineError(await train(await model('list.json', [dense])), 2, 'ferronet: list.json: expected a JSON object { "inputShape": [...], "layers": [...] }');
    expectOneLineError(await train(await model('extra.json', { ...dense, seed: 1 })), 2, 'ferronet: extra.json: unknown key "seed" (a model file has inputShape and layers)');
    expectOneLineError(await train(await model('no-shape.json', { layers: dense.layers })), 2, 'ferronet: no-shape.json: no inputShape ([features] or [height, width, channels])');
    expectOneLineError(
      await train(await model('pool.json', { inputShape: [4, 4, 1], layers: [{ type: 'maxPool2d', poolSize: 0 }, { type: 'flatten' }, { units: 10, activation: 'softmax' }] })),
      2,
      /^ferronet: pool\.json: layers\[0\]\.poolSize: expected a positive integer, got 0 \(see ferronet train --help\)\n$/,
    );
    expectOneLineError(await train(await model('no-flatten.json', { ...dense, inputShape: [4, 4, 1] })), 2, /^ferronet: no-flatten\.json: layers\[0\]: dense needs a flat input \[features\], got \[4, 4, 1\]; add/);
    expectOneLineError(
      await train(await model('wide.json', { inputShape: [28, 28, 1], layers: [{ type: 'flatten' }, ...dense.layers] })),
      2,
      'ferronet: wide.json: inputShape [28, 28, 1] holds 784 values per example, but fashion-mnist has 16',
    );
    expectOneLineError(
      await train(await model('outputs.json', { inputShape: [16], layers: [{ units: 4, activation: 'softmax' }] })),
      2,
      'ferronet: outputs.json: the last layer gives [4] softmax outputs; the 10 classes of fashion-mnist need 10 softmax outputs',
    );
    const csv = await ferronet('train', 'csv', 'points.csv', '--label', 'kind', '--model', await model('three.json', { inputShape: [3], layers: [{ units: 2, activation: 'softmax' }] }));
    expectOneLineError(csv, 2, 'ferronet: three.json: inputShape [3] holds 3 values per example, but points.csv has 2');
  });
});

describe('the CNN on Fashion-MNIST', () => {
  /*
   * Seeds 1 to 5 of exactly this run (native, the first 3,000 training images less the 10%
   * validation split, 2 epochs of batch 128, tested on the first 3,000 test images) gave
   * 74.20%, 70.50%, 77.23%, 77.07% and 74.87% test accuracy on the development machine (mean
   * 74.8%, standard deviation 2.7 points; batch norm's moving statistics are still settling after
   * 42 batches, hence the spread). The run is seeded, so only another CPU's float rounding moves
   * it, about as much as another seed does: the threshold is the minimum, 70.5%, less 5.5
   * points. An untrained network scores about 10%; one that learns nothing from its
   * convolutions far less than this.
   */
  const THRESHOLD = 0.65;

  it('learns a slice of the real data set on native', { timeout: 120_000 }, async (context) => {
    context.skip(!existsSync(FASHION_MNIST_DIRECTORY), `no Fashion-MNIST in ${FASHION_MNIST_DIRECTORY}: apt-get install dataset-fashion-mnist`);
    const { code, stdout, stderr } = await ferronet('train', 'fashion-mnist', '--model', 'cnn', '--backend', 'native', '--limit', '3000', '--epochs', '2', '--out', 'fashion-cnn.fnet', '--json');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const result = jsonLines(stdout).at(-1) as { testAccuracy: number };
    expect(result.testAccuracy).toBeGreaterThan(THRESHOLD);
  });
});
