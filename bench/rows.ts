/**
 * The rows of the benchmark: who runs, with how many threads, in which environment. Every row
 * runs in a child process of its own, so its environment (RAYON_NUM_THREADS, OpenBLAS's
 * variables) and its JIT, heap and thread pools never leak into another row's timings.
 */

import { availableParallelism } from 'node:os';
import type { CaseName } from './spec.js';

/** One row: a subject, its threads and the environment its process gets. */
export interface Row {
  /** The `backend` field of its results. */
  readonly backend: string;
  /** Threads it is asked to use. */
  readonly threads: number;
  /** Variables set in its process; `undefined` removes one inherited from the caller. */
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The cases it runs. */
  readonly cases: readonly CaseName[];
  /** A Node subject (bench/subjects) or the numpy script. */
  readonly runner: 'node' | 'numpy';
}

const cores = availableParallelism();
const ALL: readonly CaseName[] = ['gemm', 'mlp', 'planar', 'inference', 'cnn'];
const NO_GEMM: readonly CaseName[] = ['mlp', 'planar', 'inference'];

/**
 * OpenBLAS variables that some machines here set to work around old OpenBLAS builds; they pin
 * a current numpy to its Haswell kernel, so the `numpy` rows remove them in their process only.
 */
const OPENBLAS_UNSET = { OPENBLAS_CORETYPE: undefined, OPENBLAS_L2_SIZE: undefined };

function numpy(backend: string, threads: number, kernel: Record<string, string | undefined>): Row {
  return { backend, threads, env: { ...kernel, OPENBLAS_NUM_THREADS: String(threads) }, cases: ['gemm'], runner: 'numpy' };
}

/** Every row, in report order: ferronet first (native with 1 thread and with all), then the peers. */
export const ROWS: readonly Row[] = [
  // Native GEMM threads come from rayon's global pool, sized by RAYON_NUM_THREADS (all cores when unset).
  { backend: 'native', threads: 1, env: { RAYON_NUM_THREADS: '1' }, cases: ALL, runner: 'node' },
  { backend: 'native', threads: cores, env: { RAYON_NUM_THREADS: undefined }, cases: ALL, runner: 'node' },
  { backend: 'wasm', threads: 1, env: {}, cases: ALL, runner: 'node' },
  { backend: 'ts', threads: 1, env: {}, cases: ALL, runner: 'node' },
  { backend: 'tfjs-cpu', threads: 1, env: {}, cases: ALL, runner: 'node' },
  { backend: 'tfjs-wasm', threads: 1, env: {}, cases: ALL, runner: 'node' },
  { backend: 'brain.js', threads: 1, env: {}, cases: NO_GEMM, runner: 'node' },
  { backend: 'synaptic', threads: 1, env: {}, cases: NO_GEMM, runner: 'node' },
  numpy('numpy', 1, OPENBLAS_UNSET),
  numpy('numpy', cores, OPENBLAS_UNSET),
  // The kernel the machine's environment would otherwise select, for comparison.
  numpy('numpy-haswell', 1, { ...OPENBLAS_UNSET, OPENBLAS_CORETYPE: 'Haswell' }),
  numpy('numpy-haswell', cores, { ...OPENBLAS_UNSET, OPENBLAS_CORETYPE: 'Haswell' }),
];

/** Whether a row belongs to ferronet (as opposed to a peer). */
export function isFerronet(backend: string): boolean {
  return backend === 'native' || backend === 'wasm' || backend === 'ts';
}
