/** Shared test utilities: seeded data and tolerant comparisons. */

import { readFile } from 'node:fs/promises';
import { expect } from 'vitest';
import { BUNDLED_WASM_URL, loadWasmBackend } from '../ts/backends/wasm/index.js';
import { loadBackend, type Backend, type BackendName, type LayerWeights } from '../ts/index.js';
import { Random } from '../ts/random.js';

/** The backends compared against the ts reference. Each must load: npm test runs after setup. */
export const COMPILED_BACKENDS = ['native', 'wasm'] as const satisfies readonly BackendName[];

export function backend(name: BackendName): Promise<Backend> {
  return loadBackend(name);
}

/**
 * The single-threaded wasm module's backend, beside `backend('wasm')`, which in Node is the
 * threaded module. wasm-bindgen's loader instantiates a module once, so every call shares it.
 */
export async function singleThreadedWasm(): Promise<Backend> {
  return loadWasmBackend(await readFile(BUNDLED_WASM_URL), 'asked for by a test');
}

/** A dense layer's `getWeights()` entry, checked to hold exactly `weights` and `bias`. */
export function denseEntry(entry: LayerWeights | undefined): { weights: Float32Array; bias: Float32Array } {
  const { weights, bias } = entry ?? {};
  expect(Object.keys(entry ?? {})).toEqual(['weights', 'bias']);
  if (!(weights instanceof Float32Array && bias instanceof Float32Array)) throw new TypeError('expected { weights, bias } Float32Arrays');
  return { weights, bias };
}

export function uniformArray(random: Random, length: number, low = -1, high = 1): Float32Array {
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = low + (high - low) * random.uniform();
  return out;
}

/**
 * Asserts |got - expected| <= tolerance * max(|expected|, floor) elementwise; `floor` keeps
 * the comparison meaningful for entries near zero. Reports the worst index on failure.
 */
export function expectClose(got: ArrayLike<number>, expected: ArrayLike<number>, tolerance: number, floor = 1e-6): void {
  expect(got.length).toBe(expected.length);
  let worst = -1;
  let worstRatio = 0;
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i] as number;
    const g = got[i] as number;
    const difference = Math.abs(g - e);
    const ratio = difference === 0 ? 0 : difference / (tolerance * Math.max(Math.abs(e), floor));
    if (!(ratio <= 1) && !(ratio <= worstRatio)) {
      worst = i;
      worstRatio = ratio;
    }
  }
  if (worst >= 0) {
    expect.fail(
      `element ${worst}: got ${got[worst]}, expected ${expected[worst]} (off by ${worstRatio.toFixed(2)}x the tolerance ${tolerance})`,
    );
  }
}

export function largestMagnitude(values: ArrayLike<number>): number {
  let largest = 0;
  for (let i = 0; i < values.length; i++) largest = Math.max(largest, Math.abs(values[i] as number));
  return largest;
}
