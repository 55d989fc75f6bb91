/**
 * Training controls through the public API: each schedule's learning rates, early stopping,
 * checkpoints that resume bit-identically on every backend (mid-schedule, with dropout and
 * batch norm), and every option's bad values. The formulas themselves are checked against
 * PyTorch in pytorch.test.ts.
 */

import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../ts/backends/backend.js';
import { ModelFileError, Network, Random, Trainer, type BackendName, type LayerConfig, type TrainerOptions } from '../../ts/index.js';
import { uniformArray } from '../helpers.js';

const LAYERS: LayerConfig[] = [
  { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'relu' },
  { type: 'batchNorm' },
  { type: 'maxPool2d', poolSize: 2 },
  { type: 'flatten' },
  { type: 'dropout', rate: 0.3 },
  { units: 3, activation: 'softmax' },
];

const SAMPLES = 40;
const random = new Random(8);
const X = uniformArray(random, SAMPLES * 36, -1, 1);
const Y = Int32Array.from({ length: SAMPLES }, () => random.below(3));

function network(backend: BackendName): Promise<Network> {
  return Network.create({ inputShape: [6, 6, 1], layers: LAYERS, seed: 4, backend });
}

const RESUMED: TrainerOptions = {
  optimizer: { name: 'adamw', learningRate: 0.01, weightDecay: 0.05 },
  batchSize: 8,
  clipNorm: 1,
  schedule: { name: 'cosine', epochs: 6, minLearningRate: 1e-4 },
};

describe.each(BACKEND_NAMES)('%s backend', (backend) => {
  it('resumes a checkpoint bit-identically: 3 epochs, save, load, 3 more equals 6', async () => {
    const straight = await network(backend);
    const straightHistory = await new Trainer(straight, RESUMED).fit(X, Y, { epochs: 6 });

    const first = await network(backend);
    const trainer = new Trainer(first, RESUMED);
    await trainer.fit(X, Y, { epochs: 3 });
    const bytes = trainer.toBytes();
    first.dispose();
    const { network: resumed, trainer: again } = await Trainer.fromBytes(bytes, { backend });
    expect(again.epochsTrained).toBe(3);
    const rest = await again.fit(X, Y, { epochs: 3 });

    expect(resumed.getWeights()).toEqual(straight.getWeights());
    expect(rest.loss).toEqual(straightHistory.loss.slice(3));
    expect(rest.learningRate).toEqual(straightHistory.learningRate.slice(3));
    expect(resumed.training?.epochs).toBe(6);
    straight.dispose();
    resumed.dispose();
  });

  it('resumes from a checkpoint taken in onEpochEnd, with a plateau schedule mid-way', async () => {
    const options: TrainerOptions = { optimizer: { name: 'momentum', learningRate: 0.05 }, batchSize: 10, schedule: { name: 'reduceOnPlateau', patience: 1, factor: 0.5, minDelta: 0.05 } };
    const straight = await network(backend);
    const history = await new Trainer(straight, options).fit(X, Y, { epochs: 5 });

    const first = await network(backend);
    const trainer = new Trainer(first, options);
    let saved: Uint8Array | null = null;
    await trainer.fit(X, Y, {
      epochs: 5,
      onEpochEnd: (epoch) => {
        if (epoch === 1) saved = trainer.toBytes();
      },
    });
    first.dispose();
    const { network: resumed, trainer: again } = await Trainer.fromBytes(saved as unknown as Uint8Array, { backend });
    const rest = await again.fit(X, Y, { epochs: 3 });
    expect(rest.learningRate).toEqual(history.learningRate.slice(2));
    expect(resumed.getWeights()).toEqual(straight.getWeights());
    straight.dispose();
    resumed.dispose();
  });
});

describe('schedules', () => {
  async function rates(options: TrainerOptions, epochs: number, fits = 1): Promise<number[]> {
    const net = await Network.create({ inputSize: 2, layers: [{ units: 1, activation: 'sigmoid' }], backend: 'ts' });
    const trainer = new Trainer(net, { batchSize: 4, ...options });
    const x = Float32Array.of(0, 1, 1, 0, 1, 1, 0, 0);
    const y = Float32Array.of(1, 1, 0, 0);
    const all: number[] = [];
    for (let f = 0; f < fits; f++) all.push(...(await trainer.fit(x, y, { epochs })).learningRate);
    net.dispose();
    return all;
  }

  it('gives each epoch its rate, counting epochs across fits', async () => {
    const sgd = { name: 'sgd', learningRate: 0.8 } as const;
    expect(await rates({ optimizer: sgd }, 3)).toEqual([0.8, 0.8, 0.8]);
    expect(await rates({ optimizer: sgd, schedule: { name: 'step', stepEpochs: 2, gamma: 0.5 } }, 2, 3)).toEqual([0.8, 0.8, 0.4, 0.4, 0.2, 0.2]);
    expect(await rates({ optimizer: sgd, schedule: { name: 'exponential', gamma: 0.5 } }, 4)).toEqual([0.8, 0.4, 0.2, 0.1]);
    const cosine = await rates({ optimizer: sgd, schedule: { name: 'cosine', epochs: 4, minLearningRate: 0.2 } }, 6);
    const expected = [0, 1, 2, 3, 4, 4].map((e) => 0.2 + (0.6 * (1 + Math.cos((Math.PI * e) / 4))) / 2);
    cosine.forEach((rate, i) => {
      expect(rate).toBeCloseTo(expected[i] as number, 12);
    });
    expect(await rates({ optimizer: sgd, schedule: (epoch, base) => base / (epoch + 1) }, 3)).toEqual([0.8, 0.4, 0.8 / 3]);
  });

  it('reduces on a plateau after patience epochs without an improvement larger than minDelta, down to the minimum', async () => {
    // No epoch improves on the first by 10, so every epoch after it counts as a plateau epoch.
    const schedule = { name: 'reduceOnPlateau', patience: 2, factor: 0.5, minDelta: 10, minLearningRate: 0.15 } as const;
    expect(await rates({ optimizer: { name: 'sgd', learningRate: 0.8 }, schedule }, 8)).toEqual([0.8, 0.8, 0.8, 0.4, 0.4, 0.2, 0.2, 0.15]);
  });
});

describe('early stopping', () => {
  it('stops after patience epochs without improvement and restores the best weights', async () => {
    const net = await network('ts');
    const trainer = new Trainer(net, { optimizer: { name: 'sgd', learningRate: 0.05 }, batchSize: 20 });
    let weightsAtFirstEpoch: unknown = null;
    const history = await trainer.fit(X, Y, {
      epochs: 20,
      // No loss can be 100 below the first epoch's, so the first epoch stays the best.
      earlyStopping: { patience: 3, minDelta: 100, restoreBestWeights: true },
      onEpochEnd: (epoch) => {
        if (epoch === 0) weightsAtFirstEpoch = net.getWeights();
      },
    });
    expect(history.epochs).toBe(4);
    expect(history.stoppedEpoch).toBe(3);
    expect(history.bestEpoch).toBe(0);
    expect(net.getWeights()).toEqual(weightsAtFirstEpoch);
    net.dispose();
  });

  it('watches valLoss when there is validation data and runs every epoch while it improves', async () => {
    const net = await network('ts');
    const trainer = new Trainer(net, { optimizer: { name: 'adam', learningRate: 0.01 }, batchSize: 20 });
    const history = await trainer.fit(X, Y, { epochs: 3, validationData: { x: X, y: Y }, earlyStopping: { patience: 5 } });
    expect(history.epochs).toBe(3);
    expect(history.stoppedEpoch).toBeNull();
    expect(history.bestEpoch).toBe(history.valLoss.indexOf(Math.min(...history.valLoss)));
    net.dispose();
  });
});

describe('checkpoints', () => {
  it('take a schedule function again on load and refuse to load without it', async () => {
    const net = await network('ts');
    const schedule = (epoch: number, base: number): number => base * 0.9 ** epoch;
    const trainer = new Trainer(net, { schedule, batchSize: 8 });
    await trainer.fit(X, Y, { epochs: 2 });
    const bytes = trainer.toBytes();
    await expect(Trainer.fromBytes(bytes)).rejects.toThrow(/^schedule: the checkpoint was trained with a schedule function/);
    const { network: loaded, trainer: again } = await Trainer.fromBytes(bytes, { schedule, backend: 'ts' });
    expect(again.learningRate).toBeCloseTo(0.001 * 0.81, 15);
    loaded.dispose();
    net.dispose();
  });

  it('are network files too, and a network file or damaged bytes are no checkpoint', async () => {
    const net = await network('ts');
    const trainer = new Trainer(net, { batchSize: 8 });
    await trainer.fit(X, Y, { epochs: 1 });
    const bytes = trainer.toBytes();
    const plain = await Network.fromBytes(bytes, { backend: 'ts' });
    expect(plain.getWeights()).toEqual(net.getWeights());
    await expect(Trainer.fromBytes(net.toBytes())).rejects.toThrow(ModelFileError);
    await expect(Trainer.fromBytes(net.toBytes())).rejects.toThrow(/a network file, not a checkpoint/);
    const damaged = bytes.slice();
    const at = damaged.length - 9;
    damaged[at] = (damaged[at] as number) ^ 0xff;
    await expect(Trainer.fromBytes(damaged)).rejects.toThrow(/corrupted: the checksum does not match/);
    await expect(Trainer.fromBytes(bytes.subarray(0, bytes.length - 40))).rejects.toThrow(/^bytes: truncated/);
    plain.dispose();
    net.dispose();
  });

  it('cannot be taken while a fit runs, except from onEpochEnd', async () => {
    const net = await network('ts');
    const trainer = new Trainer(net, { batchSize: 8 });
    const running = trainer.fit(X, Y, { epochs: 1 });
    expect(() => trainer.toBytes()).toThrow(/^toBytes: a fit is running/);
    await running;
    net.dispose();
  });
});

describe('bad options', () => {
  it.each([
    [{ optimizer: { name: 'sgd', weightDecay: -1 } }, RangeError, /^optimizer\.weightDecay: expected a non-negative finite number, got -1$/],
    [{ optimizer: { name: 'rmsprop', rho: 1 } }, RangeError, /^optimizer\.rho: expected a number in \[0, 1\), got 1$/],
    [{ clipNorm: 0 }, RangeError, /^clipNorm: expected a positive finite number, got 0$/],
    [{ clipNorm: '1' }, TypeError, /^clipNorm: expected a finite number, got "1"$/],
    [{ schedule: { name: 'linear' } }, RangeError, /^schedule\.name: expected one of 'step', 'exponential', 'cosine', 'reduceOnPlateau', got "linear"$/],
    [{ schedule: { name: 'step', stepEpochs: 1.5, gamma: 0.5 } }, RangeError, /^schedule\.stepEpochs: expected a positive integer, got 1\.5$/],
    [{ schedule: { name: 'reduceOnPlateau', patience: 0.5 } }, RangeError, /^schedule\.patience: expected a positive integer, got 0\.5$/],
    [{ schedule: { name: 'cosine', epochs: 5, minLearningRate: 1 } }, RangeError, /^schedule\.minLearningRate: expected a number in \[0, 0\.001\]/],
    [{ schedule: 3 }, TypeError, /^schedule: expected a schedule config/],
  ])('%j', async (options, kind, message) => {
    const net = await network('ts');
    expect(() => new Trainer(net, options as TrainerOptions)).toThrow(kind);
    expect(() => new Trainer(net, options as TrainerOptions)).toThrow(message);
    net.dispose();
  });

  it('refuses bad early stopping and a schedule function that returns no rate, leaving the weights alone', async () => {
    const net = await network('ts');
    const before = net.getWeights();
    const trainer = new Trainer(net, { batchSize: 8 });
    await expect(trainer.fit(X, Y, { earlyStopping: { patience: 0.5 } })).rejects.toThrow(/^earlyStopping\.patience: expected a positive integer, got 0\.5$/);
    await expect(trainer.fit(X, Y, { earlyStopping: { patience: 2, monitor: 'valLoss' } })).rejects.toThrow(/^earlyStopping\.monitor: 'valLoss' needs validationData/);
    await expect(trainer.fit(X, Y, { earlyStopping: { patience: 2, minDelta: -1 } })).rejects.toThrow(RangeError);
    const broken = new Trainer(net, { batchSize: 8, schedule: () => Number.NaN });
    await expect(broken.fit(X, Y)).rejects.toThrow(/^schedule: expected the function to return a positive finite learning rate for epoch 0, got NaN$/);
    expect(net.getWeights()).toEqual(before);
    net.dispose();
  });
});
