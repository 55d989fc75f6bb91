/**
 * Issue 12's training controls on every backend against float64 PyTorch reference runs:
 * test/fixtures/training-reference.json, written by scripts/fixtures/make_training_reference.py
 * with torch.optim's own SGD (momentum, weight_decay), Adam, AdamW and RMSprop, parameter groups
 * that decay dense and conv2d weights only, torch.nn.utils.clip_grad_norm_, and issue 12's
 * schedule formulas set per epoch; no shuffling, several minibatches per epoch.
 *
 * Tolerances. The issue asks for the reference reproduced to 2e-4: epoch losses within
 * 2e-4 * max(1, |expected|); every final buffer (moving statistics included) within
 * 2e-4 * max(|expected|, 0.05), the floor because weights are O(0.1-1) and a few end near 0.
 * The generator reruns each case in float32 (each case's `float32Drift`): float32 arithmetic
 * alone moves losses by at most 1e-7 and weights by at most 2e-6 in these measures, 100x
 * inside the tolerance, which leaves room for a backend's own summation orders (the three
 * backends land within 1.1e-7 and 1.4e-6). It also reruns each case with plausible slips
 * (each case's `sensitivity`: decay on biases and batch norm, coupled instead of decoupled
 * decay, no clipping or clipping after decay, Keras-form momentum, state reset at a rate
 * change, a schedule counting epochs from 1, RMSprop's epsilon inside the square root, ...):
 * each moves its case by 20x to 35000x the tolerance, so none would pass.
 * Learning rates are the formula's, computed in float64 on both sides: equal to 1e-12 relative.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  Network,
  Trainer,
  type BackendName,
  type LayerWeights,
  type LossName,
  type NetworkOptions,
  type OptimizerConfig,
} from '../../ts/index.js';
import { expectClose } from '../helpers.js';

/** A getWeights() entry as the fixture stores it: buffer name to flat row-major numbers. */
type Entry = Record<string, number[]>;

/** Issue 12's schedules, as the fixture spells them. */
type Schedule =
  | { name: 'step'; stepEpochs: number; gamma: number }
  | { name: 'exponential'; gamma: number }
  | { name: 'cosine'; epochs: number; minLearningRate?: number };

/** The Trainer's options as issue 12 spells them (clipNorm and schedule are new). */
interface CaseTrainer {
  loss: LossName;
  optimizer: OptimizerConfig & { name: string; learningRate: number; epsilon?: number };
  batchSize: number;
  shuffle: false;
  clipNorm?: number;
  schedule?: Schedule;
}

/** A distance from the reference in the test's measures: epoch losses, final weights. */
interface Distance {
  epochLoss: number;
  weights: number;
}

interface ReferenceCase {
  name: string;
  description: string;
  network: { inputShape: number[]; layers: unknown[] };
  trainer: CaseTrainer;
  epochs: number;
  samples: number;
  x: number[];
  y: number[];
  initialWeights: Entry[];
  batchLoss: number[];
  /** Only for cases with clipNorm: each batch's gradient norm before clipping, and whether it clipped. */
  batchGradNorm?: number[];
  batchClipped?: boolean[];
  epochLoss: number[];
  learningRate: number[];
  finalWeights: Entry[];
  float32Drift: Distance;
  sensitivity: Record<string, Distance>;
}

const fixture = JSON.parse(readFileSync(new URL('../fixtures/training-reference.json', import.meta.url), 'utf8')) as {
  slips: Record<string, string>;
  cases: ReferenceCase[];
};

const TOLERANCE = 2e-4;
/** Below this magnitude a weight is compared absolutely (2e-4 * 0.05 = 1e-5). */
const WEIGHT_FLOOR = 0.05;
/** Both sides compute the rate in float64 from the same formula; only Math.cos's last bits may differ. */
const RATE_TOLERANCE = 1e-12;
/** clip_grad_norm_'s guard in the denominator, also ferronet's. */
const CLIP_GUARD = 1e-6;
const BACKENDS = ['ts', 'wasm', 'native'] as const satisfies readonly BackendName[];

/** Issue 12's schedule formulas, written independently of the generator's. */
function issueRate(schedule: Schedule | undefined, base: number, epoch: number): number {
  if (schedule === undefined) return base;
  switch (schedule.name) {
    case 'step':
      return base * schedule.gamma ** Math.floor(epoch / schedule.stepEpochs);
    case 'exponential':
      return base * schedule.gamma ** epoch;
    case 'cosine': {
      const low = schedule.minLearningRate ?? 0;
      return low + ((base - low) * (1 + Math.cos((Math.PI * Math.min(epoch, schedule.epochs)) / schedule.epochs))) / 2;
    }
  }
}

function expectLoss(got: number | undefined, expected: number, what: string): void {
  expect(got, what).toBeTypeOf('number');
  const error = Math.abs((got as number) - expected);
  expect(error, `${what}: got ${got}, expected ${expected}`).toBeLessThanOrEqual(TOLERANCE * Math.max(1, Math.abs(expected)));
}

function expectRate(got: number | undefined, expected: number, what: string): void {
  expect(got, `${what}: a learning rate`).toBeTypeOf('number');
  const error = Math.abs((got as number) - expected);
  expect(error, `${what}: got ${got}, expected ${expected}`).toBeLessThanOrEqual(RATE_TOLERANCE * Math.abs(expected));
}

/** The fixture's entries as setWeights() takes them: every buffer a Float32Array, `{}` for layers without parameters. */
function toWeights(entries: Entry[]): LayerWeights[] {
  return entries.map((entry) => Object.fromEntries(Object.entries(entry).map(([name, values]) => [name, Float32Array.from(values)])));
}

/** A network with the case's layers and its initial weights. */
async function build(backend: BackendName, c: ReferenceCase): Promise<Network> {
  const options = { ...c.network, backend } as unknown as NetworkOptions;
  const net = await Network.create(options);
  net.setWeights(toWeights(c.initialWeights));
  return net;
}

/** The case's Trainer options exactly as the fixture spells them: loss, optimizer, batchSize, shuffle, clipNorm, schedule. */
function trainer(net: Network, c: ReferenceCase): Trainer {
  return new Trainer(net, c.trainer);
}

/** Compares every buffer of every layer, by name, and names the one that differs. */
function expectWeights(net: Network, expected: Entry[]): void {
  const got = net.getWeights() as unknown as Record<string, Float32Array>[];
  expect(got.length, 'getWeights(): one entry per layer').toBe(expected.length);
  expected.forEach((entry, l) => {
    const layer = got[l] as Record<string, Float32Array>;
    expect(Object.keys(layer).sort(), `layer ${l}: buffers`).toEqual(Object.keys(entry).sort());
    for (const [name, values] of Object.entries(entry)) {
      try {
        expectClose(layer[name] as Float32Array, values, TOLERANCE, WEIGHT_FLOOR);
      } catch (error) {
        throw new Error(`layer ${l} ${name}: ${(error as Error).message}`);
      }
    }
  });
}

const cases = fixture.cases.map((c) => [c.name, c] as const);

describe('the training reference fixture', () => {
  it.each(cases)('%s is self-consistent', (_, c) => {
    const batches = Math.ceil(c.samples / c.trainer.batchSize);
    expect(c.batchLoss).toHaveLength(batches * c.epochs);
    expect(c.epochLoss).toHaveLength(c.epochs);
    // The epoch loss is the row-weighted mean of its batch losses, as the Trainer computes it.
    c.epochLoss.forEach((loss, epoch) => {
      let sum = 0;
      for (let b = 0; b < batches; b++) {
        const rows = Math.min(c.trainer.batchSize, c.samples - b * c.trainer.batchSize);
        sum += (c.batchLoss[epoch * batches + b] as number) * rows;
      }
      expect(sum / c.samples).toBeCloseTo(loss, 12);
    });
    // The rates the reference trained with are issue 12's formula, epochs counted from 0.
    expect(c.learningRate).toHaveLength(c.epochs);
    c.learningRate.forEach((rate, epoch) => expectRate(rate, issueRate(c.trainer.schedule, c.trainer.optimizer.learningRate, epoch), `epoch ${epoch}`));
    // No default may decide a result: ferronet's Adam and PyTorch's differ in epsilon.
    expect(c.trainer.shuffle).toBe(false);
    if (['adam', 'adamw', 'rmsprop'].includes(c.trainer.optimizer.name)) expect(c.trainer.optimizer.epsilon).toBeTypeOf('number');
    // Float32 arithmetic alone stays far inside the tolerances, and every slip far outside (see the header).
    expect(c.float32Drift.epochLoss).toBeLessThan(TOLERANCE / 20);
    expect(c.float32Drift.weights).toBeLessThan(TOLERANCE / 20);
    expect(Object.keys(c.sensitivity).length).toBeGreaterThan(0);
    for (const [slip, distance] of Object.entries(c.sensitivity)) {
      expect(Object.keys(fixture.slips), slip).toContain(slip);
      expect(Math.max(distance.epochLoss, distance.weights), `${slip} (${fixture.slips[slip]})`).toBeGreaterThan(5 * TOLERANCE);
    }
  });

  it.each(cases.filter(([, c]) => c.trainer.clipNorm !== undefined))('%s clips on some batches and not on others', (_, c) => {
    const clipNorm = c.trainer.clipNorm as number;
    const norms = c.batchGradNorm as number[];
    expect(norms).toHaveLength(c.batchLoss.length);
    expect(c.batchClipped).toEqual(norms.map((norm) => clipNorm / (norm + CLIP_GUARD) < 1));
    expect(c.batchClipped).toContain(true);
    expect(c.batchClipped).toContain(false);
  });
});

describe.each(BACKENDS)('%s backend', (backend) => {
  describe.each(cases)('%s', (_, c) => {
    const x = Float32Array.from(c.x);
    const y = Float32Array.from(c.y);

    it('trains like the reference: epoch losses, learning rates, every final buffer', async () => {
      const net = await build(backend, c);
      const history = await trainer(net, c).fit(x, y, { epochs: c.epochs });
      expect(history.loss).toHaveLength(c.epochs);
      c.epochLoss.forEach((loss, epoch) => expectLoss(history.loss[epoch], loss, `epoch ${epoch} loss`));
      expectWeights(net, c.finalWeights);
      expect(history.learningRate, 'history.learningRate').toHaveLength(c.epochs);
      c.learningRate.forEach((rate, epoch) => expectRate(history.learningRate[epoch], rate, `epoch ${epoch} rate`));
      net.dispose();
    });

    // Issue 12: the schedule's epoch counts every epoch the trainer has trained, across fit
    // calls, and the optimizer state survives both the calls and the rate changes.
    it('trains the same one epoch per fit call (the schedule and the state continue)', async () => {
      const net = await build(backend, c);
      const fitter = trainer(net, c);
      const rates: (number | undefined)[] = [];
      for (let epoch = 0; epoch < c.epochs; epoch++) {
        const history = await fitter.fit(x, y, { epochs: 1 });
        expectLoss(history.loss[0], c.epochLoss[epoch] as number, `epoch ${epoch} loss`);
        rates.push(history.learningRate[0]);
      }
      expectWeights(net, c.finalWeights);
      c.learningRate.forEach((rate, epoch) => expectRate(rates[epoch], rate, `epoch ${epoch} rate`));
      net.dispose();
    });

    // One fit per batch gives every batch's loss, which says where a run first departs. Only
    // without a schedule (each fit is an epoch to the schedule) and with equal batches (a fit's
    // batch size may not exceed its samples).
    it.runIf(c.trainer.schedule === undefined && c.samples % c.trainer.batchSize === 0)('matches the loss of every batch', async () => {
      const net = await build(backend, c);
      const fitter = trainer(net, c);
      const [inputs, outputs] = [x.length / c.samples, y.length / c.samples];
      const batches = c.samples / c.trainer.batchSize;
      for (let step = 0; step < c.batchLoss.length; step++) {
        const start = (step % batches) * c.trainer.batchSize;
        const end = start + c.trainer.batchSize;
        const history = await fitter.fit(x.slice(start * inputs, end * inputs), y.slice(start * outputs, end * outputs));
        expectLoss(history.loss[0], c.batchLoss[step] as number, `batch ${step} (epoch ${Math.floor(step / batches)}) loss`);
      }
      expectWeights(net, c.finalWeights);
      net.dispose();
    });
  });
});
