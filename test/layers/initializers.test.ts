/**
 * The initializers' statistics over large dense layers: mean, standard deviation and the shape
 * of the distribution (normal or uniform) within a few standard errors of the scheme's, and
 * Glorot's bounds. test/layers/config.test.ts checks conv2d's fans and that dense layers draw
 * the same stream as always; this checks that the stream has the distribution it claims.
 */

import { describe, expect, it } from 'vitest';
import { Network, type ActivationName, type InitializerName } from '../../ts/index.js';
import { denseEntry } from '../helpers.js';

/** 400 inputs x 300 units: 120,000 weights, so a standard error is 0.3% of the scale. */
const INPUTS = 400;
const UNITS = 300;
/** How many standard errors an estimate may be from its expected value (a false alarm about 1 run in 15,000). */
const STANDARD_ERRORS = 4;

async function weightsOf(init: InitializerName, activation: ActivationName): Promise<Float32Array> {
  const net = await Network.create({ inputSize: INPUTS, layers: [{ units: UNITS, activation }], init, seed: 17, backend: 'ts' });
  const [layer] = net.getWeights().map(denseEntry);
  net.dispose();
  return (layer as { weights: Float32Array }).weights;
}

interface Moments {
  mean: number;
  std: number;
  /** Standard error of the mean. */
  meanError: number;
  /** Standard error of the standard deviation, from the sample's fourth moment (any distribution). */
  stdError: number;
}

function moments(values: Float32Array): Moments {
  const n = values.length;
  const mean = values.reduce((sum, v) => sum + v, 0) / n;
  let [m2, m4] = [0, 0];
  for (const v of values) {
    const d = (v - mean) ** 2;
    m2 += d / n;
    m4 += (d * d) / n;
  }
  const std = Math.sqrt(m2);
  return { mean, std, meanError: std / Math.sqrt(n), stdError: Math.sqrt((m4 - m2 * m2) / n) / (2 * std) };
}

/** The fraction of `values` with |v| <= bound, and its standard error for the expected fraction `p`. */
function fractionWithin(values: Float32Array, bound: number, p: number): { fraction: number; error: number } {
  const inside = values.reduce((count, v) => count + (Math.abs(v) <= bound ? 1 : 0), 0);
  return { fraction: inside / values.length, error: Math.sqrt((p * (1 - p)) / values.length) };
}

function expectWithin(value: number, expected: number, error: number, what: string): void {
  expect(Math.abs(value - expected), `${what}: ${value} vs ${expected} (standard error ${error})`).toBeLessThanOrEqual(STANDARD_ERRORS * error);
}

/** A normal distribution puts 68.27% of its mass within one standard deviation, 95.45% within two; a uniform one 57.7% and 100%. */
function expectNormal(values: Float32Array, std: number): void {
  for (const [sigmas, p] of [
    [1, 0.682689],
    [2, 0.9545],
  ] as const) {
    const { fraction, error } = fractionWithin(values, sigmas * std, p);
    expectWithin(fraction, p, error, `fraction within ${sigmas} standard deviations`);
  }
}

describe.each([
  ['He', 'auto', 'relu', Math.sqrt(2 / INPUTS)],
  ['He (auto for leakyRelu)', 'auto', 'leakyRelu', Math.sqrt(2 / INPUTS)],
  ['He (asked for)', 'he', 'tanh', Math.sqrt(2 / INPUTS)],
  ['normal0.01', 'normal0.01', 'relu', 0.01],
] as const)('%s: normal with mean 0', (_, init, activation, std) => {
  it(`has standard deviation ${std.toPrecision(3)} and a normal shape`, async () => {
    const weights = await weightsOf(init, activation);
    const stats = moments(weights);
    expectWithin(stats.mean, 0, stats.meanError, 'mean');
    expectWithin(stats.std, std, stats.stdError, 'standard deviation');
    expectNormal(weights, std);
  });
});

describe.each([
  ['Glorot (auto for tanh)', 'auto', 'tanh'],
  ['Glorot (asked for)', 'glorot', 'relu'],
] as const)('%s: uniform in [-limit, limit], limit = sqrt(6 / (fanIn + fanOut))', (_, init, activation) => {
  const limit = Math.sqrt(6 / (INPUTS + UNITS));

  it('has mean 0, standard deviation limit / sqrt(3), and a uniform shape within the bounds', async () => {
    const weights = await weightsOf(init, activation);
    const stats = moments(weights);
    expectWithin(stats.mean, 0, stats.meanError, 'mean');
    expectWithin(stats.std, limit / Math.sqrt(3), stats.stdError, 'standard deviation');
    // Uniform: half the mass within limit / 2, and the whole range used up to the bounds.
    const { fraction, error } = fractionWithin(weights, limit / 2, 0.5);
    expectWithin(fraction, 0.5, error, 'fraction within limit / 2');
    const largest = weights.reduce((max, v) => Math.max(max, Math.abs(v)), 0);
    expect(largest).toBeLessThanOrEqual(limit);
    expect(largest).toBeGreaterThan((1 - 1e-3) * limit);
  });
});
