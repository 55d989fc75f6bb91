/** Shared test utilities: seeded data and tolerant comparisons. */

import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect } from 'vitest';
import { relaxedSimd } from 'wasm-feature-detect';
import { BUNDLED_WASM_URL, loadWasmBackend } from '../ts/backends/wasm/index.js';
import { loadBackend, type Backend, type BackendName, type BackendStatus, type LayerWeights } from '../ts/index.js';
import { Random } from '../ts/random.js';

const ROOT = join(import.meta.dirname, '..');

/**
 * Runs the repository's `script` (a path from its root) in a Node child process with tsx,
 * after `nodeFlags`, and parses the JSON it prints: for runs that must have a process of their
 * own, since a process loads one wasm module once.
 */
export function runJsonChild<T>(script: string, args: readonly string[] = [], nodeFlags: readonly string[] = []): Promise<T> {
  return new Promise((done, fail) => {
    const argv = [...nodeFlags, '--import', 'tsx', join(ROOT, script), ...args];
    execFile(process.execPath, argv, { cwd: ROOT, timeout: 120_000, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error) fail(new Error(`${error.message}\n${stderr}`));
      else done(JSON.parse(stdout) as T);
    });
  });
}

/** The backends compared against the ts reference. Each must load: npm test runs after setup. */
export const COMPILED_BACKENDS = ['native', 'wasm'] as const satisfies readonly BackendName[];

export function backend(name: BackendName): Promise<Backend> {
  return loadBackend(name);
}

/**
 * The instruction set the native kernels should pick on this CPU, read from the CPU's flags
 * rather than asked of the kernels: AVX-512F, else AVX2 with FMA, else scalar on x86_64.
 */
export function nativeInstructionSet(): string {
  if (process.arch === 'arm64') return 'neon';
  const flags = new Set(/^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1]?.trim().split(/\s+/));
  if (flags.has('avx512f') && flags.has('avx2') && flags.has('fma')) return 'avx512';
  return flags.has('avx2') && flags.has('fma') ? 'avx2' : 'scalar';
}

/** The wasm build this engine loads by default: relaxed-simd where it validates it (not Node 20). */
export async function wasmInstructionSet(): Promise<string> {
  return (await relaxedSimd()) ? 'wasm-relaxed-simd' : 'wasm-simd';
}

/** What availableBackends() should say here, the machine's threads given. */
export async function expectedStatuses(threads: number): Promise<BackendStatus[]> {
  return [
    { name: 'native', available: true, instructionSet: nativeInstructionSet(), threads },
    { name: 'wasm', available: true, instructionSet: await wasmInstructionSet(), threads, ...(threads > 1 ? {} : { threadsReason: 'this machine offers one thread' }) },
    { name: 'ts', available: true, instructionSet: 'javascript', threads: 1, threadsReason: 'the ts backend is plain loops on the calling thread' },
  ];
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
