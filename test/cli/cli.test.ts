/**
 * The built `ferronet` command (dist/cli/main.js, made by `npm run build`), run as users run
 * it: output, exit statuses and the files it writes.
 */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FASHION_MNIST_CLASSES, FASHION_MNIST_DIRECTORY } from '../../ts/datasets/fashion-mnist.js';
import { Random } from '../../ts/random.js';
import { CLI, expectOneLineError, ferronetIn, NATIVE_COMPUTE, writeBarImages } from './helpers.js';

const directory = await mkdtemp(join(tmpdir(), 'ferronet-cli-'));
const ferronet = ferronetIn(directory);

beforeAll(() => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
});
afterAll(() => rm(directory, { recursive: true, force: true }));

describe('the command line itself', () => {
  it('lists every command and option in --help', async () => {
    const { code, stdout } = await ferronet('--help');
    expect(code).toBe(0);
    for (const word of ['train planar', 'train fashion-mnist', 'train csv FILE --label COLUMN', 'evaluate MODEL DATA', 'predict MODEL DATA', '--batch-size N', '--json', '--quiet', '--out FILE']) {
      expect(stdout).toContain(word);
    }
    const train = await ferronet('train', '--help');
    expect(train.stdout).toMatch(/--epochs\s+10000\s+10\s+50/);
    expect((await ferronet('help', 'predict')).stdout).toContain('Usage: ferronet predict MODEL DATA');
    expect((await ferronet('--version')).stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });

  it('explains bad input in one line with a non-zero exit, never a stack trace', async () => {
    expect((await ferronet()).code).toBe(2);
    expectOneLineError(await ferronet('fit'), 2, 'ferronet: unknown command "fit" (expected train, evaluate, predict, export, import) (see ferronet --help)');
    expectOneLineError(await ferronet('train', 'planar', '--epoch', '3'), 2, "ferronet: Unknown option '--epoch' (see ferronet train --help)");
    expectOneLineError(await ferronet('train', 'planar', '--epochs', 'ten'), 2, 'ferronet: --epochs: expected a positive integer, got "ten"');
    expectOneLineError(await ferronet('train', 'planar', '--lr=-1'), 2, 'ferronet: --lr: expected a positive number, got "-1"');
    expectOneLineError(await ferronet('train', 'planar', '--seed', '-1'), 2, /ferronet: Option '--seed' argument is ambiguous\. .* use '--seed=-XYZ'/);
    expectOneLineError(await ferronet('train', 'planar', '--hidden', '4,x'), 2, /--hidden: expected comma-separated positive integers/);
    expectOneLineError(await ferronet('train', 'planar', '--epochs'), 2, "ferronet: Option '--epochs <value>' argument missing");
    expectOneLineError(await ferronet('train', 'mnist'), 2, /unknown data set "mnist"/);
    expectOneLineError(await ferronet('train', 'planar', '--label', 'y'), 2, '--label applies to train csv only');
    expectOneLineError(await ferronet('train', 'csv', 'missing.csv', '--label', 'y'), 1, 'ferronet: missing.csv: no such file or folder');
    expectOneLineError(await ferronet('evaluate', 'missing.fnet', 'planar'), 1, 'ferronet: missing.fnet: no such file or folder');
    expectOneLineError(await ferronet('train', 'fashion-mnist', '--data', directory), 1, /no train-images-idx3-ubyte\[\.gz\] there/);
  });
});

describe('train planar, then evaluate and predict', () => {
  it('trains, prints per-epoch lines off a terminal, saves the model and its pictures', async () => {
    const { code, stdout, stderr } = await ferronet('train', 'planar', '--epochs', '300', '--out', 'planar/model.fnet');
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const lines = stdout.split('\n');
    expect(lines[0]).toBe(`training 2 → 4 tanh → 1 sigmoid on planar with the native backend (${NATIVE_COMPUTE})`);
    // The summary (net.summary()) comes before the epochs.
    expect(lines[2]).toMatch(/^Layer \(type\) +Output Shape +Param #$/);
    expect(lines[4]).toMatch(/^layers\[0\] \(dense\) +\[4\] +12$/);
    expect(lines.indexOf('Total params: 17')).toBeLessThan(lines.findIndex((line) => line.startsWith('epoch')));
    expect(lines.filter((line) => /^epoch +\d+\/300 {2}loss \d\.\d{4} {2}accuracy \d+\.\d\d% {2}lr 1\.2 {2}[\d,]+ samples\/s$/.test(line))).toHaveLength(7); // 1, 50, ..., 300
    expect(stdout).toMatch(/trained 300 epochs in [\d.]+ s \([\d,]+ samples\/s\): loss 0\.\d{4}, accuracy \d+\.\d\d%/);
    expect(stdout).toContain('wrote planar/model.fnet, planar/model-training.svg');
    expect(await readFile(join(directory, 'planar/model-boundary.svg'), 'utf8')).toContain('</svg>');
    expect(await readFile(join(directory, 'planar/model-training.svg'), 'utf8')).toContain('</svg>');
  });

  it('evaluates and predicts with the saved model', async () => {
    const evaluation = await ferronet('evaluate', 'planar/model.fnet', 'planar', '--json');
    expect(evaluation.code).toBe(0);
    const result = JSON.parse(evaluation.stdout) as { samples: number; loss: number; accuracy: number };
    expect(result.samples).toBe(400);
    expect(result.accuracy).toBeGreaterThan(0.8);
    const text = await ferronet('evaluate', 'planar/model.fnet', 'planar', '--backend', 'wasm');
    expect(text.stdout).toContain(`400 examples: loss ${result.loss.toFixed(4)}, accuracy ${(100 * result.accuracy).toFixed(2)}%`);
    const predictions = await ferronet('predict', 'planar/model.fnet', 'planar', '--out', 'planar/predictions.csv');
    expect(predictions).toEqual({ code: 0, stdout: '', stderr: '' });
    const csv = (await readFile(join(directory, 'planar/predictions.csv'), 'utf8')).trimEnd().split('\n');
    expect(csv[0]).toBe('prediction,p(0),p(1)');
    expect(csv).toHaveLength(401);
    expect(csv[1]).toMatch(/^[01],0\.\d+,0\.\d+$/);
  });

  it('writes one JSON object per epoch with --json, and nothing with --quiet', async () => {
    const { code, stdout } = await ferronet('train', 'planar', '--epochs', '5', '--validation-split', '0.25', '--json', '--out', 'json/planar.fnet');
    expect(code).toBe(0);
    const [model, ...objects] = stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(model).toEqual({
      inputShape: [2],
      layers: [
        { type: 'dense', units: 4, activation: 'tanh', useBias: true, outputShape: [4], params: 12 },
        { type: 'dense', units: 1, activation: 'sigmoid', useBias: true, outputShape: [1], params: 5 },
      ],
      params: 17,
      trainableParams: 17,
    });
    expect(objects).toHaveLength(5);
    expect(Object.keys(objects[0] ?? {})).toEqual(['epoch', 'loss', 'accuracy', 'valLoss', 'valAccuracy', 'learningRate', 'samplesPerSec', 'seconds']);
    expect(objects.map((o) => o.epoch)).toEqual([1, 2, 3, 4, 5]);
    expect(objects.every((o) => typeof o.valAccuracy === 'number' && o.valAccuracy <= 1)).toBe(true);
    expect(await ferronet('train', 'planar', '--epochs', '5', '--quiet', '--out', 'json/quiet.fnet')).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('stops at Ctrl-C, still saving the model, with exit status 130', async () => {
    const child = spawn(process.execPath, [CLI, 'train', 'planar', '--out', 'interrupted/planar.fnet'], { cwd: directory });
    let stdout = '';
    child.stdout.on('data', (chunk: Buffer) => {
      const first = !stdout.includes('epoch     1/10000');
      stdout += chunk.toString();
      if (first && stdout.includes('epoch     1/10000')) child.kill('SIGINT'); // once: a second Ctrl-C quits at once
    });
    const code = await new Promise((resolve) => child.on('exit', resolve));
    expect(code).toBe(130);
    expect(stdout).toContain('interrupted: stopping after the batches in flight, then saving');
    expect(stdout).toMatch(/trained \d+ epochs? in /);
    expect(existsSync(join(directory, 'interrupted/planar.fnet'))).toBe(true);
  });

  it('refuses a damaged model file in one line', async () => {
    const bytes = await readFile(join(directory, 'planar/model.fnet'));
    await writeFile(join(directory, 'damaged.fnet'), bytes.subarray(0, bytes.length - 7));
    expectOneLineError(await ferronet('predict', 'damaged.fnet', 'planar'), 1, /^ferronet: damaged\.fnet: truncated: \d+ bytes, the file says it has \d+\n$/);
  });
});

describe('train csv', () => {
  /** Three blobs in 2-D with named classes, and a numeric target for regression. */
  function blobs(rows: number): string {
    const random = new Random(5);
    const lines = ['width,height,kind,size'];
    for (let i = 0; i < rows; i++) {
      const kind = i % 3;
      const w = [0, 4, 2][kind] as number;
      const h = [0, 0, 4][kind] as number;
      const width = w + random.normal();
      const height = h + random.normal();
      lines.push(`${width.toFixed(3)},${height.toFixed(3)},${['small', 'wide', 'tall'][kind] as string},${(3 * width - 2 * height + 0.1 * random.normal()).toFixed(3)}`);
    }
    return `${lines.join('\n')}\n`;
  }

  it('classifies named classes, draws the boundary, and predicts from columns by name', async () => {
    await writeFile(join(directory, 'blobs.csv'), blobs(300));
    const trained = await ferronet('train', 'csv', 'blobs.csv', '--label', 'kind', '--features', 'width,height', '--epochs', '30', '--hidden', '16');
    expect(trained.stderr).toBe('');
    expect(trained.stdout).toContain('training 2 → 16 relu → 3 softmax on csv');
    expect(trained.stdout).toContain('wrote blobs.fnet, blobs-training.svg');
    expect(trained.stdout).toContain('blobs-boundary.svg');
    const evaluation = JSON.parse((await ferronet('evaluate', 'blobs.fnet', 'blobs.csv', '--json')).stdout) as { accuracy: number };
    expect(evaluation.accuracy).toBeGreaterThan(0.85);
    // New data without the label, its columns in another order.
    await writeFile(join(directory, 'new.csv'), 'height,width\n0,0\n0.1,4.2\n4,2\n');
    const { stdout } = await ferronet('predict', 'blobs.fnet', 'new.csv');
    expect(stdout.split('\n').map((line) => line.split(',')[0])).toEqual(['prediction', 'small', 'wide', 'tall', '']);
    expect(stdout.split('\n')[0]).toBe('prediction,p(small),p(tall),p(wide)');
  });

  it('regresses a numeric column and predicts in its units', async () => {
    const trained = await ferronet('train', 'csv', 'blobs.csv', '--label', 'size', '--features', 'width,height', '--epochs', '60', '--lr', '0.01', '--out', 'size.fnet', '--json');
    expect(trained.code).toBe(0);
    const epochs = trained.stdout.trimEnd().split('\n').map((line) => JSON.parse(line) as { valLoss: number; accuracy: null });
    expect(epochs.at(-1)?.accuracy).toBeNull();
    expect(epochs.at(-1)?.valLoss).toBeLessThan(0.05); // standardized: a fraction of the target's variance
    await writeFile(join(directory, 'sizes.csv'), 'width,height\n1,1\n2,-1\n');
    const lines = (await ferronet('predict', 'size.fnet', 'sizes.csv')).stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('size');
    // size = 3 width - 2 height + noise of 0.1: (1, 1) lies among the training points and gets
    // 1.06; (2, -1) is at the edge of the 'wide' blob and gets 7.76. A prediction left
    // standardized or unscaled with another column's statistics would be off by more than 1.
    expect(Math.abs(Number(lines[1]) - 1)).toBeLessThan(0.15);
    expect(Math.abs(Number(lines[2]) - 8)).toBeLessThan(0.4);
  });

  it('names the line and column of a value it cannot read', async () => {
    await writeFile(join(directory, 'bad.csv'), 'a,b,label\n1,2,x\n3,oops,y\n');
    expectOneLineError(await ferronet('train', 'csv', 'bad.csv', '--label', 'label'), 1, 'ferronet: bad.csv:3: column 2 ("b"): "oops" is not a number\n');
    expectOneLineError(await ferronet('train', 'csv', 'bad.csv', '--label', 'kind'), 1, /bad\.csv: no column "kind" \(named by --label\); the columns are a, b, label/);
    expectOneLineError(await ferronet('train', 'csv', 'bad.csv'), 2, 'train csv needs --label COLUMN');
  });
});

describe('train fashion-mnist', () => {
  it('reads IDX files from --data, holds out validation, and reports the test set', async () => {
    const random = new Random(9);
    await mkdir(join(directory, 'idx'));
    await writeBarImages(join(directory, 'idx'), 'train', 600, random);
    await writeBarImages(join(directory, 'idx'), 't10k', 100, random);
    const { code, stdout } = await ferronet('train', 'fashion-mnist', '--data', 'idx', '--epochs', '3', '--hidden', '8', '--batch-size', '16', '--lr', '0.01', '--out', 'idx.fnet', '--json');
    expect(code).toBe(0);
    const objects = stdout.trimEnd().split('\n').slice(1).map((line) => JSON.parse(line) as Record<string, number>); // after the model's line
    expect(objects).toHaveLength(4);
    expect(Object.keys(objects[3] ?? {})).toEqual(['testLoss', 'testAccuracy']);
    expect(objects[3]?.testAccuracy).toBeGreaterThan(0.9);
    const evaluation = await ferronet('evaluate', 'idx.fnet', 'idx/t10k-images-idx3-ubyte.gz');
    expect(evaluation.stdout).toContain(`100 examples: loss ${(objects[3]?.testLoss ?? 0).toFixed(4)}`);
    const header = (await ferronet('predict', 'idx.fnet', 'idx')).stdout.split('\n')[0];
    expect(header).toBe(['prediction', ...FASHION_MNIST_CLASSES.map((name) => `p(${name})`)].join(','));
  });

  it('learns a slice of the real data set', async (context) => {
    context.skip(!existsSync(FASHION_MNIST_DIRECTORY), `no Fashion-MNIST in ${FASHION_MNIST_DIRECTORY}: apt-get install dataset-fashion-mnist`);
    const { code, stdout } = await ferronet('train', 'fashion-mnist', '--limit', '3000', '--epochs', '3', '--out', 'fashion.fnet', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '{}') as { testAccuracy: number };
    expect(result.testAccuracy).toBeGreaterThan(0.75);
  });

  it("reaches the README's test accuracy with the README's command (784-256-128-10, all 60,000 images)", { timeout: 180_000 }, async (context) => {
    context.skip(!existsSync(FASHION_MNIST_DIRECTORY), `no Fashion-MNIST in ${FASHION_MNIST_DIRECTORY}: apt-get install dataset-fashion-mnist`);
    // The README says ~88.5-89%; this machine's run gives 88.88% in about 11 s on native.
    const { code, stdout } = await ferronet('train', 'fashion-mnist', '--out', 'fashion-full.fnet', '--json');
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trimEnd().split('\n').at(-1) ?? '{}') as { testAccuracy: number };
    expect(result.testAccuracy).toBeGreaterThan(0.88);
  });
});
