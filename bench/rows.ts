/**
 * The rows of the benchmark: who runs, with how many threads, in which environment. Every row
 * runs in a child process of its own, so its environment (RAYON_NUM_THREADS, OpenBLAS's,
 * OpenMP's and XLA's variables) and its JIT, heap and thread pools never leak into another
 * row's timings.
 */

import { availableParallelism } from 'node:os';
import { PACES, type CaseName, type Pace } from './spec.js';

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
  /** A Node subject (bench/subjects), the numpy script or a Python peer script (bench/peer_*.py). */
  readonly runner: 'node' | 'numpy' | 'python';
  /** The Python peer's script in bench/ (runner `python`). */
  readonly script?: string;
  /** The Python peer's pace (runner `python`; Node subjects choose their own). */
  readonly pace?: Pace;
}

const cores = availableParallelism();
const ALL: readonly CaseName[] = ['gemm', 'mlp', 'planar', 'inference', 'cnn'];
const NO_GEMM: readonly CaseName[] = ['mlp', 'planar', 'inference'];
const TRAINING_AND_INFERENCE: readonly CaseName[] = ['mlp', 'planar', 'inference', 'cnn'];

/**
 * OpenBLAS variables that some machines here set to work around old OpenBLAS builds; they pin
 * a current numpy to its Haswell kernel, so the `numpy` rows remove them in their process only.
 */
const OPENBLAS_UNSET = { OPENBLAS_CORETYPE: undefined, OPENBLAS_L2_SIZE: undefined };

function numpy(backend: string, threads: number, kernel: Record<string, string | undefined>): Row {
  return { backend, threads, env: { ...kernel, OPENBLAS_NUM_THREADS: String(threads) }, cases: ['gemm'], runner: 'numpy' };
}

/**
 * Thread limits for the OpenMP, MKL and OpenBLAS pools a Python library may use, and no
 * `__pycache__` left in bench/.
 */
function poolThreads(threads: number): Record<string, string> {
  const value = String(threads);
  return { OMP_NUM_THREADS: value, MKL_NUM_THREADS: value, OPENBLAS_NUM_THREADS: value, PYTHONDONTWRITEBYTECODE: '1' };
}

/**
 * PyTorch (eager, a plain training loop). The script also calls `torch.set_num_threads`; the
 * variables pin the OpenMP and MKL pools under it. A planar run (10,000 eager steps) takes
 * seconds: 3 timed runs rather than 10.
 */
function torchRow(threads: number): Row {
  return {
    backend: 'torch',
    threads,
    env: { ...OPENBLAS_UNSET, ...poolThreads(threads) },
    cases: TRAINING_AND_INFERENCE,
    runner: 'python',
    script: 'peer_torch.py',
    pace: { ...PACES.fast, runs: PACES.slow.runs },
  };
}

/**
 * JAX on XLA's CPU backend (jit). For one thread the row sets XLA_FLAGS
 * (`--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1`: Eigen and XLA's
 * intra-op work on one thread) and peer_jax.py pins its process to one CPU before importing JAX,
 * since XLA sizes its pools from the CPU affinity and the flags alone left the CNN's convolutions
 * on about 1.5 cores. The script reports the process's CPU time per wall second over the timed
 * work, which shows whether a row stayed on one core.
 */
function jaxRow(threads: number): Row {
  const xla = threads === 1 ? '--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1' : undefined;
  return {
    backend: 'jax',
    threads,
    env: { ...OPENBLAS_UNSET, ...poolThreads(threads), XLA_FLAGS: xla, JAX_PLATFORMS: 'cpu' },
    cases: TRAINING_AND_INFERENCE,
    runner: 'python',
    script: 'peer_jax.py',
    pace: PACES.fast,
  };
}

/** Every row, in report order: ferronet first (native with 1 thread and with all), then the peers. */
export const ROWS: readonly Row[] = [
  // Native GEMM threads come from rayon's global pool, sized by RAYON_NUM_THREADS (all cores when unset).
  { backend: 'native', threads: 1, env: { RAYON_NUM_THREADS: '1' }, cases: ALL, runner: 'node' },
  { backend: 'native', threads: cores, env: { RAYON_NUM_THREADS: undefined }, cases: ALL, runner: 'node' },
  // The wasm backend's threads come from setWasmThreads (bench/subjects/index.ts).
  { backend: 'wasm', threads: 1, env: {}, cases: ALL, runner: 'node' },
  { backend: 'wasm', threads: cores, env: {}, cases: ALL, runner: 'node' },
  { backend: 'ts', threads: 1, env: {}, cases: ALL, runner: 'node' },
  { backend: 'tfjs-cpu', threads: 1, env: {}, cases: ALL, runner: 'node' },
  { backend: 'tfjs-wasm', threads: 1, env: {}, cases: ALL, runner: 'node' },
  { backend: 'brain.js', threads: 1, env: {}, cases: NO_GEMM, runner: 'node' },
  { backend: 'synaptic', threads: 1, env: {}, cases: NO_GEMM, runner: 'node' },
  torchRow(1),
  torchRow(cores),
  jaxRow(1),
  jaxRow(cores),
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
