/** Timing: tinybench for repeatable operations, epoch timestamps for training loops. */

import { Bench } from 'tinybench';
import type { Timed, Training } from './subject.js';

/** Limits of one tinybench measurement. */
export interface MeasureOptions {
  /** Minimum timed iterations. */
  iterations: number;
  /** Minimum timed milliseconds; tinybench keeps going until both minima are met. */
  time: number;
}

/** The default limits: a second of samples, at least five, after a warmup that lets the JIT settle. */
export const DEFAULT_MEASURE: MeasureOptions = { iterations: 5, time: 1000 };

/** Median milliseconds of `timed.run` over tinybench's samples, after a warmup. */
export async function medianMs(timed: Timed, options: MeasureOptions = DEFAULT_MEASURE): Promise<number> {
  const bench = new Bench({ ...options, warmupIterations: 1, warmupTime: 200, throws: true });
  bench.add('run', timed.run, { async: timed.async ?? false, ...(timed.setup ? { beforeEach: timed.setup } : {}) });
  const [task] = await bench.run();
  const result = task?.result;
  if (result?.state !== 'completed') throw new Error(`measurement did not complete (${result?.state ?? 'no task'})`);
  return result.latency.p50;
}

/**
 * Median milliseconds per epoch of a library's own training loop, with the mean training loss
 * of the first epoch and of the last. One fit runs `epochs + 1` epochs and the time between
 * consecutive epoch ends is an epoch: the first epoch (warmup, JIT, the library's per-fit setup
 * such as copying the data in) has no start mark and is left out, so every library is measured
 * in steady state. Whether the loss fell is the report's to judge (see `learned` in spec.ts): a
 * row that did not learn keeps its figure, flagged.
 */
export async function medianEpochMs(training: Training, epochs: number): Promise<{ ms: number; firstLoss: number; lastLoss: number }> {
  const ends: number[] = [];
  const losses: number[] = [];
  await training.fit(epochs + 1, (loss) => {
    ends.push(performance.now());
    losses.push(loss);
  });
  const ms = medianBetween(ends, epochs);
  return { ms, firstLoss: losses[0] ?? Number.NaN, lastLoss: losses.at(-1) ?? Number.NaN };
}

/** The median time between consecutive epoch ends, after checking that all `epochs + 1` ended. */
function medianBetween(ends: readonly number[], epochs: number): number {
  if (ends.length !== epochs + 1) throw new Error(`training stopped after ${ends.length} of ${epochs + 1} epochs`);
  return median(ends.slice(1).map((end, i) => end - (ends[i] as number)));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? (sorted[mid] as number) : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
}
