/** What a benchmarked library provides: the cases it can run, prepared so that only the work is timed. */

import type { CaseName, Pace } from './spec.js';

/** One timed operation: `setup` runs untimed before each `run`. */
export interface Timed {
  /** Prepares one run (for example a fresh network), outside the clock. */
  setup?: () => void | Promise<void>;
  /** The measured work. */
  run: () => unknown;
  /** Whether `run` returns a promise to await (tinybench awaits only tasks declared asynchronous). */
  async?: boolean;
  /** Frees what the operation held. */
  dispose?: () => void;
}

/** A timed training run (planar) that can also tell whether its network learned. */
export interface TimedTraining extends Timed {
  /**
   * The loss on the training data of the network that `setup` made (before its run) and of
   * the one the last run trained, called untimed after the measurement.
   */
  losses: () => { first: number; last: number } | Promise<{ first: number; last: number }>;
}

/**
 * A network ready to train on a fixed data set with the library's own training loop, reporting
 * each epoch's mean training loss (in the library's own loss function) so a case can check that
 * it learned.
 */
export interface Training {
  /** Trains `epochs` passes over the data, calling `onEpochEnd` with each one's mean training loss. */
  fit(epochs: number, onEpochEnd: (loss: number) => void): Promise<void>;
  /** Frees the network and its data. */
  dispose?: () => void;
}

/** A library under test. Methods it lacks are cases it cannot run. */
export interface Subject {
  /** How much work a measurement gets. */
  readonly pace: Pace;
  /** Threads it computes with, when it can tell (overrides the row's request). */
  readonly threads?: number;
  /** Samples per update in MLP training, when not the specified batch. */
  readonly mlpBatch?: number;
  /** Where it departs from a case's specification, per case. */
  readonly notes?: Partial<Record<CaseName, string>>;
  /** `C = A B` for n x n row-major matrices `a` and `b`. */
  gemm?(n: number, a: Float32Array, b: Float32Array): Promise<Timed>;
  /** The Fashion-MNIST MLP on `x` ([samples][784]) and class indices `labels`. */
  mlp?(x: Float32Array, labels: Uint8Array): Promise<Training>;
  /** 10,000 full-batch steps of the planar network on `x` ([400][2]) and `y` ([400][1]); `setup` makes a fresh network. */
  planar?(x: Float32Array, y: Float32Array): Promise<TimedTraining>;
  /** One forward pass of the MLP over the first `batch` rows of `x`, returning the outputs. */
  inference?(x: Float32Array, batch: number): Promise<Timed>;
  /** The Fashion-MNIST CNN on `x` ([samples][28][28][1]) and class indices `labels`. */
  cnn?(x: Float32Array, labels: Uint8Array): Promise<Training>;
}
