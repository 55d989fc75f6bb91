/** The case drivers: each prepares the same inputs for every subject, measures, and reports rows. */

import { Random } from '../ts/random.js';
import { planarDataset } from '../ts/datasets/planar.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { DEFAULT_MEASURE, medianEpochMs, medianMs } from './measure.js';
import { CNN, GEMM_SIZES, INFERENCE_BATCHES, MLP, PLANAR, type CaseName, type Result } from './spec.js';
import type { Subject } from './subject.js';

/** The parameters of one measurement (size, batch, steps) and its figures. */
export type Measurement = Pick<Result, 'n' | 'batch' | 'steps' | 'samples' | 'epochs' | 'gflops' | 'samplesPerSec' | 'ms' | 'latencyMs' | 'firstLoss' | 'lastLoss'>;

type Driver = (subject: Subject, report: (measurement: Measurement) => void) => Promise<void>;

function missing(name: CaseName): never {
  throw new Error(`this library has no ${name} case`);
}

function uniform(random: Random, length: number): Float32Array {
  return Float32Array.from({ length }, () => 2 * random.uniform() - 1);
}

const drivers: Record<CaseName, Driver> = {
  async gemm(subject, report) {
    const gemm = subject.gemm?.bind(subject) ?? missing('gemm');
    const random = new Random(5);
    for (const n of GEMM_SIZES) {
      const timed = await gemm(n, uniform(random, n * n), uniform(random, n * n));
      const ms = await medianMs(timed);
      timed.dispose?.();
      report({ n, gflops: (2 * n ** 3) / (ms * 1e6) });
    }
  },

  async mlp(subject, report) {
    const mlp = subject.mlp?.bind(subject) ?? missing('mlp');
    const { mlpSamples, mlpEpochs } = subject.pace;
    const { x, labels } = loadFashionMnist('train', mlpSamples);
    const training = await mlp(x, labels);
    const { ms, firstLoss, lastLoss } = await medianEpochMs(training, mlpEpochs);
    training.dispose?.();
    report({ batch: subject.mlpBatch ?? MLP.batch, samples: mlpSamples, epochs: mlpEpochs, samplesPerSec: (mlpSamples * 1000) / ms, firstLoss, lastLoss });
  },

  async planar(subject, report) {
    const planar = subject.planar?.bind(subject) ?? missing('planar');
    const { x, y } = planarDataset();
    const timed = await planar(x, y);
    const ms = await medianMs(timed, { ...DEFAULT_MEASURE, iterations: subject.pace.runs });
    const { first, last } = await timed.losses();
    timed.dispose?.();
    report({ steps: PLANAR.steps, ms, firstLoss: first, lastLoss: last });
  },

  async inference(subject, report) {
    const inference = subject.inference?.bind(subject) ?? missing('inference');
    const { x } = loadFashionMnist('t10k', Math.max(...INFERENCE_BATCHES));
    for (const batch of INFERENCE_BATCHES) {
      const timed = await inference(x, batch);
      const ms = await medianMs(timed, { ...DEFAULT_MEASURE, iterations: subject.pace.runs });
      timed.dispose?.();
      report({ batch, latencyMs: ms, samplesPerSec: (batch * 1000) / ms });
    }
  },

  async cnn(subject, report) {
    const cnn = subject.cnn?.bind(subject) ?? missing('cnn');
    const { cnnSamples, cnnEpochs } = subject.pace;
    // The images' 784 bytes are row-major 28x28, which is [28][28][1] in NHWC.
    const { x, labels } = loadFashionMnist('train', cnnSamples);
    const training = await cnn(x, labels);
    const { ms, firstLoss, lastLoss } = await medianEpochMs(training, cnnEpochs);
    training.dispose?.();
    report({ batch: CNN.batch, samples: cnnSamples, epochs: cnnEpochs, samplesPerSec: (cnnSamples * 1000) / ms, firstLoss, lastLoss });
  },
};

/** Runs one case on one subject, reporting each measurement as it completes. */
export function runCase(name: CaseName, subject: Subject, report: (measurement: Measurement) => void): Promise<void> {
  return drivers[name](subject, report);
}
