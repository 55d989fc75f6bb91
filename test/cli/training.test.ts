/**
 * `ferronet train`'s training controls: --optimizer adamw|rmsprop, --weight-decay, --clip-norm,
 * --schedule, --early-stopping, --dropout, --checkpoint and --resume, and the learning rate in
 * the progress.
 */

import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Network, Random, Trainer } from '../../ts/index.js';
import { CLI, expectOneLineError, ferronetIn, writeBarImages } from './helpers.js';

const directory = await mkdtemp(join(tmpdir(), 'ferronet-training-'));
const ferronet = ferronetIn(directory);

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const random = new Random(4);
  await mkdir(join(directory, 'bars'));
  await writeBarImages(join(directory, 'bars'), 'train', 400, random);
  await writeBarImages(join(directory, 'bars'), 't10k', 100, random);
  await writeFile(join(directory, 'net.json'), JSON.stringify({ inputShape: [16], layers: [{ units: 10, activation: 'softmax' }] }));
});
afterAll(() => rm(directory, { recursive: true, force: true }));

/** The JSON lines of a `--json` run. */
function jsonLines(stdout: string): Record<string, unknown>[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

/** The epoch objects of a `--json` run. */
function epochLines(stdout: string): Record<string, number>[] {
  return jsonLines(stdout).filter((line) => 'epoch' in line) as Record<string, number>[];
}

/** `train fashion-mnist` on the tiny bar images: a small MLP, a few epochs, in well under a second. */
function bars(...args: string[]): ReturnType<typeof ferronet> {
  return ferronet('train', 'fashion-mnist', '--data', 'bars', '--hidden', '8', '--batch-size', '32', ...args);
}

describe('the training flags', () => {
  it('lists them in the help, adamw and rmsprop among the optimizers', async () => {
    const { stdout } = await ferronet('train', '--help');
    for (const word of ['adam, adamw, rmsprop', '--weight-decay F', '--clip-norm F', '--schedule NAME', 'step:EPOCHS:GAMMA', '--early-stopping N', '--dropout RATE', '--checkpoint FILE', '--resume FILE']) {
      expect(stdout).toContain(word);
    }
  });

  it('gives each epoch the learning rate of --schedule, and shows it', async () => {
    const rates = async (schedule: string, epochs: number): Promise<number[]> => {
      const { code, stdout } = await ferronet('train', 'planar', '--schedule', schedule, '--epochs', String(epochs), '--json', '--out', `schedule/${schedule.replace(/:/g, '-')}.fnet`);
      expect(code).toBe(0);
      return epochLines(stdout).map((epoch) => epoch.learningRate as number);
    };
    // Planar's rate is 1.2; cosine anneals over the run's --epochs.
    const cosine = await rates('cosine', 4);
    [1.2, 0.6 * (1 + Math.SQRT1_2), 0.6, 0.6 * (1 - Math.SQRT1_2)].forEach((rate, epoch) => expect(cosine[epoch]).toBeCloseTo(rate, 12));
    expect(await rates('step:2:0.1', 4)).toEqual([1.2, 1.2, 1.2 * 0.1, 1.2 * 0.1]);
    expect(await rates('exponential:0.5', 3)).toEqual([1.2, 0.6, 0.3]);
    expect(await rates('plateau', 3)).toEqual([1.2, 1.2, 1.2]); // 10 epochs of patience
    const text = await ferronet('train', 'planar', '--schedule', 'cosine', '--epochs', '4', '--out', 'schedule/text.fnet');
    expect(text.stdout).toContain('  400 training examples; sgd lr 1.2, cosine schedule, batch 400, 4 epochs, seed 2');
    expect(text.stdout).toMatch(/^epoch 4\/4 {2}loss \d\.\d{4} {2}accuracy \d+\.\d\d% {2}lr 0\.176 {2}[\d,]+ samples\/s$/m);
  });

  it('hands the optimizer, weight decay, clipping, schedule and dropout to the trainer', async () => {
    const adamw = await bars('--optimizer', 'adamw', '--weight-decay', '0.05', '--clip-norm', '1', '--schedule', 'plateau', '--dropout', '0.2', '--epochs', '2', '--checkpoint', 'flags/adamw.ckpt', '--out', 'flags/adamw.fnet', '--json');
    expect(adamw.code).toBe(0);
    const [model] = jsonLines(adamw.stdout);
    expect((model?.layers as { type: string; rate?: number }[]).map((layer) => layer.type + (layer.rate === undefined ? '' : ` ${layer.rate}`))).toEqual(['dense', 'dropout 0.2', 'dense']);
    const { network, trainer } = await Trainer.load(join(directory, 'flags/adamw.ckpt'), { backend: 'ts' });
    expect([trainer.optimizer.name, trainer.optimizer.weightDecay, trainer.clipNorm, trainer.epochsTrained]).toEqual(['adamw', 0.05, 1, 2]);
    expect(trainer.schedule).toMatchObject({ name: 'reduceOnPlateau', monitor: 'auto', factor: 0.1, patience: 10 });
    network.dispose();

    const rmsprop = await ferronet('train', 'planar', '--optimizer', 'rmsprop', '--lr', '0.01', '--weight-decay', '0.001', '--epochs', '2', '--checkpoint', 'flags/rmsprop.ckpt', '--out', 'flags/rmsprop.fnet');
    expect(rmsprop.stdout).toContain('rmsprop lr 0.01, weight decay 0.001, batch 400');
    const resumed = await Trainer.load(join(directory, 'flags/rmsprop.ckpt'), { backend: 'ts' });
    expect([resumed.trainer.optimizer.name, resumed.trainer.optimizer.weightDecay, resumed.trainer.clipNorm, resumed.trainer.schedule]).toEqual(['rmsprop', 0.001, null, null]);
    resumed.network.dispose();

    // adamw's own weight decay applies unless --weight-decay says otherwise.
    expect((await bars('--optimizer', 'adamw', '--epochs', '1', '--out', 'flags/default.fnet')).stdout).toContain('adamw lr 0.001, weight decay 0.01, batch 32');
  });

  it('replaces the CNN dropout rate with --dropout', async () => {
    const { code, stdout } = await ferronet('train', 'fashion-mnist', '--data', 'bars', '--model', 'cnn', '--dropout', '0.1', '--epochs', '1', '--out', 'flags/cnn.fnet');
    expect(code).toBe(0);
    expect(stdout.split('\n')[0]).toContain('→ flatten → dropout 0.1 → 128 relu →');
  });

  it('stops early when the monitored loss stops falling, keeping the best epoch with --keep best', async () => {
    // A rate so small that no weight moves: the validation loss is the same every epoch, so the
    // first epoch stays the best and the run stops after 1 + patience epochs.
    const still = ['train', 'planar', '--validation-split', '0.25', '--lr', '1e-30', '--early-stopping', '2', '--epochs', '50'];
    const json = await ferronet(...still, '--json', '--out', 'early/json.fnet');
    expect(json.code).toBe(0);
    expect(epochLines(json.stdout).map((epoch) => epoch.epoch)).toEqual([1, 2, 3]);
    const text = await ferronet(...still, '--keep', 'best', '--out', 'early/text.fnet');
    expect(text.stdout).toContain('early stopping: no lower validation loss in 2 epochs, stopped after epoch 3');
    expect(text.stdout).toMatch(/kept the weights of epoch 1, early stopping's best \(validation loss \d\.\d{4}\)/);
    // Without a validation split it watches the training loss.
    const training = await ferronet('train', 'planar', '--lr', '1e-30', '--early-stopping', '1', '--epochs', '50', '--out', 'early/loss.fnet');
    expect(training.stdout).toMatch(/early stopping: no lower training loss in 1 epochs, stopped after epoch \d+/);
  });
});

describe('--checkpoint and --resume', () => {
  const recipe = ['--dropout', '0.2', '--schedule', 'step:1:0.5'];

  it('goes on from a checkpoint exactly: 2 epochs, then 2 more, are 4 straight', async () => {
    const half = await bars(...recipe, '--epochs', '2', '--checkpoint', 'resume/half.ckpt', '--out', 'resume/half.fnet');
    expect(half.code).toBe(0);
    const resumed = await ferronet('train', 'fashion-mnist', '--data', 'bars', '--resume', 'resume/half.ckpt', '--epochs', '4', '--checkpoint', 'resume/half.ckpt', '--out', 'resume/resumed.fnet', '--json');
    expect(resumed.stderr).toBe('');
    expect(resumed.code).toBe(0);
    const epochs = epochLines(resumed.stdout);
    expect(epochs.map((epoch) => [epoch.epoch, epoch.learningRate])).toEqual([
      [3, 0.001 * 0.25],
      [4, 0.001 * 0.125],
    ]);
    const straight = await bars(...recipe, '--epochs', '4', '--out', 'resume/straight.fnet', '--json');
    expect(epochLines(straight.stdout).slice(2)).toEqual(epochs.map((epoch) => ({ ...epoch, samplesPerSec: expect.any(Number) as number, seconds: expect.any(Number) as number })));
    const [a, b] = await Promise.all(['resume/resumed.fnet', 'resume/straight.fnet'].map((file) => Network.load(join(directory, file), { backend: 'ts' })));
    expect(a?.getWeights()).toEqual(b?.getWeights());
    a?.dispose();
    b?.dispose();
    // The checkpoint was saved after every epoch, the resumed run's too.
    const { network, trainer } = await Trainer.load(join(directory, 'resume/half.ckpt'), { backend: 'ts' });
    expect(trainer.epochsTrained).toBe(4);
    network.dispose();
    const text = await ferronet('train', 'fashion-mnist', '--data', 'bars', '--resume', 'resume/half.ckpt', '--epochs', '5', '--out', 'resume/text.fnet');
    expect(text.stdout).toContain('360 training, 40 validation, 100 test examples; adam lr 0.001, step schedule, batch 32, epochs 5 to 5 (from resume/half.ckpt), seed 1');
    expect(text.stdout).toMatch(/^epoch 5\/5 {2}loss .* {2}lr 0\.0000625 {2}/m);
  });

  it('refuses a checkpoint that does not fit the data, or has nothing left to train', async () => {
    expectOneLineError(await ferronet('train', 'planar', '--resume', 'resume/half.ckpt', '--epochs', '9'), 2, 'ferronet: resume/half.ckpt: inputShape [16] holds 16 values per example, but planar has 2');
    expectOneLineError(
      await ferronet('train', 'fashion-mnist', '--data', 'bars', '--resume', 'resume/half.ckpt', '--epochs', '4'),
      2,
      'ferronet: --epochs 4: resume/half.ckpt has already trained 4 epochs; ask for more to go on',
    );
    expectOneLineError(await ferronet('train', 'planar', '--resume', 'resume/straight.fnet'), 1, /^ferronet: resume\/straight\.fnet: a network file, not a checkpoint/);
    expectOneLineError(await ferronet('train', 'planar', '--resume', 'missing.ckpt'), 1, 'ferronet: missing.ckpt: no such file or folder');
  });
});

describe('bad values', () => {
  it('names the flag in one line, exit status 2', async () => {
    const cases: [string[], string][] = [
      [['--weight-decay=-0.1'], '--weight-decay: expected a non-negative number, got "-0.1"'],
      [['--weight-decay', 'lots'], '--weight-decay: expected a non-negative number, got "lots"'],
      [['--clip-norm', '0'], '--clip-norm: expected a positive number, got "0"'],
      [['--schedule', 'linear'], '--schedule: expected cosine, step:EPOCHS:GAMMA, exponential:GAMMA or plateau (EPOCHS a positive integer, GAMMA in (0, 1]), got "linear"'],
      [['--schedule', 'step:2'], '--schedule: expected cosine, step:EPOCHS:GAMMA, exponential:GAMMA or plateau'],
      [['--schedule', 'step:0:0.5'], '--schedule: expected cosine'],
      [['--schedule', 'step:2.5:0.5'], '--schedule: expected cosine'],
      [['--schedule', 'exponential:1.5'], '--schedule: expected cosine'],
      [['--schedule', 'cosine:10'], '--schedule: expected cosine'],
      [['--early-stopping', '0.5'], '--early-stopping: expected a positive integer, got "0.5"'],
      [['--early-stopping', '0'], '--early-stopping: expected a positive integer, got "0"'],
      [['--dropout', '1'], '--dropout: expected a fraction in [0, 1), got "1"'],
      [['--dropout=-0.2'], '--dropout: expected a fraction in [0, 1), got "-0.2"'],
      [['--model', 'net.json', '--dropout', '0.2'], '--dropout applies to --model mlp and cnn only (a model file has its own layers)'],
      [['--checkpoint', 'planar.fnet'], '--checkpoint and --out name the same file, "planar.fnet"'],
      [['--resume', 'run.ckpt', '--lr', '0.1', '--hidden', '8', '--dropout', '0.1'], "--resume goes on with the checkpoint's network and trainer: drop --hidden, --dropout, --lr"],
    ];
    for (const [flags, message] of cases) {
      expectOneLineError(await ferronet('train', 'planar', ...flags), 2, `ferronet: ${message}`);
    }
  });
});
