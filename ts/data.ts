/** Checks on data sets at the public boundary: inputs `x` and targets `y`. */

import type { LossName } from './losses/index.js';
import { checkAllFinite, describe, fail, reject } from './validation.js';

/** Integer arrays accepted as class indices for categorical cross-entropy. */
export type ClassIndices = Int32Array | Uint32Array | Int16Array | Uint16Array | Int8Array | Uint8Array;

function isClassIndices(value: unknown): value is ClassIndices {
  return (
    value instanceof Int32Array ||
    value instanceof Uint32Array ||
    value instanceof Int16Array ||
    value instanceof Uint16Array ||
    value instanceof Int8Array ||
    value instanceof Uint8Array
  );
}

/**
 * Validates `x` as a row-major `[samples][...inputShape]` Float32Array of finite values and
 * returns the number of samples.
 */
export function checkInputs(argument: string, x: unknown, inputShape: readonly number[]): number {
  const features = inputShape.reduce((product, extent) => product * extent, 1);
  const shape = `a Float32Array [samples]${inputShape.map((extent) => `[${extent}]`).join('')} (row-major)`;
  if (!(x instanceof Float32Array)) fail('type', argument, shape, x);
  if (x.length === 0) reject('range', argument, `${shape} with at least one sample`, 'an empty Float32Array');
  if (x.length % features !== 0) {
    reject('range', argument, `${shape}, a length that is a multiple of ${features}`, describe(x));
  }
  checkAllFinite(argument, x, inputShape);
  return x.length / features;
}

/**
 * Validates targets for `samples` rows of `outputs` values and returns them as the
 * Float32Array the backends train on: `[samples][outputs]`, or for class indices with two or
 * more classes the indices themselves, one float per sample, which the backends expand into
 * one-hot rows a batch at a time (a data set of many classes never exists as one-hot rows).
 */
export function prepareTargets(argument: string, y: unknown, samples: number, outputs: number, loss: LossName): Float32Array {
  const shape = `a Float32Array [${samples}][${outputs}]`;
  if (isClassIndices(y) && loss === 'categoricalCrossEntropy') return classIndices(argument, y, samples, outputs);
  if (!(y instanceof Float32Array)) {
    const indices = loss === 'categoricalCrossEntropy' ? `, or class indices (Int32Array or Uint8Array) of length ${samples}` : '';
    fail('type', argument, `${shape}${indices}`, y);
  }
  if (y.length !== samples * outputs) reject('range', argument, `${shape} (length ${samples * outputs})`, describe(y));
  checkAllFinite(argument, y, outputs);
  if (loss !== 'meanSquaredError') {
    const at = y.findIndex((v) => v < 0 || v > 1);
    if (at >= 0) {
      const where = `${argument}[${Math.floor(at / outputs)}][${at % outputs}]`;
      reject('range', argument, `targets in [0, 1] for ${loss}`, `${String(y[at])} at ${where}`);
    }
  }
  return y;
}

function classIndices(argument: string, labels: ClassIndices, samples: number, classes: number): Float32Array {
  if (labels.length !== samples) {
    reject('range', argument, `${samples} class indices (one per sample)`, describe(labels));
  }
  const bad = labels.findIndex((label) => label < 0 || label >= classes);
  if (bad >= 0) reject('range', argument, `class indices in [0, ${classes - 1}]`, `${labels[bad] as number} at ${argument}[${bad}]`);
  // One class: a one-hot row is the single float 1, which the backends read as [samples][1].
  return classes === 1 ? new Float32Array(samples).fill(1) : Float32Array.from(labels);
}
