/**
 * What every row of the benchmark runs: the cases of issue 5 and the CNN of issues 11 and 14,
 * with their fixed parameters. Each subject (ferronet's backends and the peers) builds the same
 * thing where its API allows and says where it cannot in its notes.
 */

/** The cases, in the order they run and are reported. */
export const CASES = ['gemm', 'mlp', 'planar', 'inference', 'cnn'] as const;

/** One case of the benchmark. */
export type CaseName = (typeof CASES)[number];

/** Square sgemm sizes, `C = A B` with n x n matrices. */
export const GEMM_SIZES = [64, 128, 256, 512, 1024] as const;

/** The Fashion-MNIST network: 784-256-128-10, relu, relu, softmax, SGD on batches of 128. */
export const MLP = { inputs: 784, hidden: [256, 128], classes: 10, batch: 128, learningRate: 0.01 } as const;

/** The planar flower exercise: 2-4-1 tanh/sigmoid, full-batch SGD, 10,000 steps. */
export const PLANAR = { steps: 10_000, hidden: 4, learningRate: 1.2 } as const;

/**
 * The Fashion-MNIST CNN (issue 14's table): 28x28x1 inputs, conv2d 32 3x3 'same' relu, 2x2 max
 * pooling, conv2d 64 3x3 'same' relu, 2x2 max pooling, flatten, dense 128 relu, dense 10
 * softmax; SGD on batches of 128.
 */
export const CNN = { inputShape: [28, 28, 1], filters: [32, 64], kernelSize: 3, poolSize: 2, hidden: 128, classes: 10, batch: 128, learningRate: 0.01 } as const;

/** Inference batch sizes of the MLP: one sample (latency) and a large batch (throughput). */
export const INFERENCE_BATCHES = [1, 1024] as const;

/**
 * How much work one measurement gets, so that it takes roughly 0.2 to 5 s whatever the
 * subject's speed: the compiled kernels get many samples, object-per-neuron libraries few.
 * Throughput barely depends on the epoch length once an epoch holds many batches.
 */
export interface Pace {
  /** Training samples per MLP epoch (a multiple of the batch). */
  readonly mlpSamples: number;
  /** Timed MLP epochs, after one untimed warmup epoch. */
  readonly mlpEpochs: number;
  /** Training samples per CNN epoch (a multiple of the batch). */
  readonly cnnSamples: number;
  /** Timed CNN epochs, after one untimed warmup epoch. */
  readonly cnnEpochs: number;
  /** Minimum timed runs of a planar training or an inference batch (tinybench also runs for at least a second). */
  readonly runs: number;
}

/**
 * The paces subjects choose from. `fast` is the case's reference work: every row that can do it
 * in about a minute gets it, and the report notes each row that trains on fewer samples or epochs.
 */
export const PACES = {
  fast: { mlpSamples: 12_800, mlpEpochs: 5, cnnSamples: 2_560, cnnEpochs: 3, runs: 10 },
  slow: { mlpSamples: 1_280, mlpEpochs: 3, cnnSamples: 256, cnnEpochs: 2, runs: 3 },
  crawl: { mlpSamples: 128, mlpEpochs: 2, cnnSamples: 128, cnnEpochs: 1, runs: 1 },
} as const satisfies Record<string, Pace>;

/** One line of `npm run bench -- --json`: a measurement, or why a row could not run. */
export interface Result {
  /** Which case. */
  case: CaseName;
  /** Who ran it: `native`, `wasm`, `ts` or a peer (`tfjs-cpu`, `numpy`, ...). */
  backend: string;
  /** GEMM size. */
  n?: number;
  /** Samples per forward pass (inference) or per update (training). */
  batch?: number;
  /** Training steps (planar). */
  steps?: number;
  /** Threads the row computes with. */
  threads: number;
  /** GEMM throughput, 2 n^3 / median time. */
  gflops?: number;
  /** Training or inference throughput. */
  samplesPerSec?: number;
  /** Median wall time of one run (planar: all steps). */
  ms?: number;
  /** Median latency of one inference call. */
  latencyMs?: number;
  /** Training samples per epoch (mlp, cnn). */
  samples?: number;
  /** Timed epochs, after one untimed warmup epoch (mlp, cnn). */
  epochs?: number;
  /**
   * The training loss before: the mean over the first (warmup) epoch (mlp, cnn), or the fresh
   * network's full-batch loss (planar). Each library reports its own loss function.
   */
  firstLoss?: number;
  /**
   * The training loss after: the mean over the last epoch (mlp, cnn), or the full-batch loss
   * after the last run's steps (planar). The report flags a row where it is not finite or not
   * below `firstLoss` (see {@link learned}).
   */
  lastLoss?: number;
  /** Process CPU seconds per wall second over the timed work (Python rows): about 1 on one thread. */
  cpuPerWall?: number;
  /** The BLAS kernel a numpy row ran (from threadpoolctl). */
  kernel?: string;
  /** Where this row differs from the case's specification. */
  note?: string;
  /** Why the row could not run, when it could not. */
  error?: string;
  /** The machine's 1-minute load average when the row started: other work skews timings. */
  load1?: number;
}

/**
 * Whether a training row's network learned: its last loss finite and below its first. `undefined`
 * when the row reports no losses (gemm, inference, errors).
 */
export function learned(result: Pick<Result, 'firstLoss' | 'lastLoss'>): boolean | undefined {
  const { firstLoss, lastLoss } = result;
  if (firstLoss === undefined && lastLoss === undefined) return undefined;
  return Number.isFinite(firstLoss) && Number.isFinite(lastLoss) && (lastLoss as number) < (firstLoss as number);
}
