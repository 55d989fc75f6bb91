/**
 * The parity matrix: wasm and native train like the ts reference across every optimizer (each
 * with non-default hyperparameters), every loss with every output activation it takes, every
 * hidden activation (leakyRelu with alpha 0.2), every layer kind and every training control
 * (weight decay, clipNorm, each schedule, early stopping). Each case is a few shuffled minibatch
 * steps; afterwards every parameter buffer, the history, the predictions and the evaluation
 * are compared with ts.
 *
 * Not a cartesian product: every value of every axis appears, and every pairing that interacts
 * (loss x output activation, optimizer x weight decay, optimizer state x schedule) has a case.
 * test/layers/parity.test.ts covers the layer kinds on awkward shapes and
 * test/training/pytorch.test.ts the controls against PyTorch; here the point is that every
 * setting reaches the Rust model and means there what it means in ts.
 *
 * A setting that never reached Rust (or reached it in another's slot) would only be caught if
 * it changed the result: so for each case, each of its settings is also "slipped" on ts (a
 * hyperparameter set to its default or the rate halved, the betas swapped, an alpha at its
 * default, clipping, the schedule or the weight restoring dropped) and the slipped run must
 * land at least SLIP_MARGIN times the tolerance away from the reference.
 */

import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../ts/backends/backend.js';
import * as ferronet from '../../ts/index.js';
import {
  Network,
  Random,
  Trainer,
  type BackendName,
  type EarlyStoppingOptions,
  type LayerConfig,
  type OptimizerConfig,
  type TrainerOptions,
} from '../../ts/index.js';
import { resolveOptimizer } from '../../ts/optimizers/index.js';
import { trainParityRun } from '../../web/parity.js';
import { COMPILED_BACKENDS, expectClose } from '../helpers.js';

/** What a case's targets are: regression values, 0/1 labels, one-hot rows or class indices. */
type Targets = 'regression' | 'unitInterval' | 'binary' | 'oneHot' | 'indices';

interface MatrixCase {
  name: string;
  inputShape: number[];
  layers: LayerConfig[];
  trainer: TrainerOptions;
  targets: Targets;
  epochs: number;
  /** Early stopping, on valLoss over the validation set that run() draws after the training set. */
  earlyStopping?: EarlyStoppingOptions;
}

const SAMPLES = 24;
const VALIDATION_SAMPLES = 12;
const BATCH_SIZE = 8;

/**
 * Float32 after a few steps: the backends differ from ts only in rounding and summation order,
 * which moves weights and predictions by at most 4e-6 in this measure (the batch-norm cases;
 * 1e-6 or less elsewhere) and losses by at most 6e-7 relative. The smallest slip moves its case
 * by 1.4e-2, 460 times the tolerance.
 */
const WEIGHT_TOLERANCE = 3e-5;
/** Weights near 0 are compared absolutely: 3e-5 * 0.05 = 1.5e-6. */
const WEIGHT_FLOOR = 0.05;
const LOSS_TOLERANCE = 1e-5;
const SLIP_MARGIN = 20;

const ADAM: OptimizerConfig = { name: 'adam', learningRate: 0.02, beta1: 0.8, beta2: 0.95, epsilon: 1e-3 };
const ADAMW: OptimizerConfig = { name: 'adamw', learningRate: 0.02, beta1: 0.85, beta2: 0.9, epsilon: 1e-4, weightDecay: 0.3 };
const RMSPROP: OptimizerConfig = { name: 'rmsprop', learningRate: 0.01, rho: 0.7, epsilon: 1e-3 };
const MOMENTUM: OptimizerConfig = { name: 'momentum', learningRate: 0.05, momentum: 0.7 };
const SGD: OptimizerConfig = { name: 'sgd', learningRate: 0.2 };

/** A dense network on 5 features: hidden 7 units, then the output layer. */
function dense(hidden: LayerConfig, output: LayerConfig, trainer: TrainerOptions, targets: Targets, name: string): MatrixCase {
  return { name, inputShape: [5], layers: [hidden, output], trainer, targets, epochs: 2 };
}

const CASES: MatrixCase[] = [
  // Every loss with every output activation it takes; the hidden activations and the
  // optimizers (with and without coupled weight decay) go round.
  dense({ units: 7, activation: 'relu' }, { units: 3 }, { loss: 'meanSquaredError', optimizer: { ...SGD, weightDecay: 0.05 } }, 'regression', 'mse, linear output, relu hidden, sgd with weight decay'),
  dense({ units: 7, activation: 'leakyRelu', alpha: 0.2 }, { units: 3, activation: 'relu' }, { loss: 'meanSquaredError', optimizer: MOMENTUM }, 'regression', 'mse, relu output, leakyRelu hidden, momentum'),
  dense({ units: 7, activation: 'tanh' }, { units: 3, activation: 'leakyRelu', alpha: 0.2 }, { loss: 'meanSquaredError', optimizer: ADAM }, 'regression', 'mse, leakyRelu output, tanh hidden, adam'),
  dense({ units: 7, activation: 'sigmoid' }, { units: 3, activation: 'tanh' }, { loss: 'meanSquaredError', optimizer: ADAMW }, 'regression', 'mse, tanh output, sigmoid hidden, adamw'),
  dense({ units: 7, activation: 'softmax' }, { units: 3, activation: 'sigmoid' }, { loss: 'meanSquaredError', optimizer: RMSPROP }, 'unitInterval', 'mse, sigmoid output, softmax hidden, rmsprop'),
  dense({ units: 7 }, { units: 3, activation: 'softmax' }, { loss: 'meanSquaredError', optimizer: { ...MOMENTUM, weightDecay: 0.05 } }, 'oneHot', 'mse, softmax output, linear hidden, momentum with weight decay'),
  dense({ units: 7, activation: 'relu' }, { units: 2, activation: 'sigmoid' }, { loss: 'binaryCrossEntropy', optimizer: { ...ADAM, weightDecay: 0.05 } }, 'binary', 'binaryCrossEntropy, two sigmoid outputs, adam with coupled weight decay'),
  dense({ units: 7, activation: 'leakyRelu', alpha: 0.2 }, { units: 3, activation: 'softmax' }, { loss: 'categoricalCrossEntropy', optimizer: { ...RMSPROP, weightDecay: 0.05 } }, 'oneHot', 'categoricalCrossEntropy one-hot, leakyRelu hidden, rmsprop with weight decay'),
  dense({ units: 7, activation: 'tanh' }, { units: 3, activation: 'softmax' }, { loss: 'categoricalCrossEntropy', optimizer: ADAMW }, 'indices', 'categoricalCrossEntropy class indices, tanh hidden, adamw'),
  // Layer kinds with the settings test/layers/parity.test.ts leaves at their defaults.
  {
    name: "conv2d leakyRelu 'same', max pooling, flatten, linear output; mse, rmsprop with weight decay, clipNorm",
    inputShape: [6, 6, 2],
    layers: [
      { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'leakyRelu', alpha: 0.2 },
      { type: 'maxPool2d', poolSize: 2 },
      { type: 'flatten' },
      { units: 2 },
    ],
    trainer: { loss: 'meanSquaredError', optimizer: { ...RMSPROP, weightDecay: 0.05 }, clipNorm: 0.5 },
    targets: 'regression',
    epochs: 2,
  },
  {
    name: "conv2d sigmoid 'valid' stride 2, batch norm, average pooling, leakyRelu activation layer, dropout; adamw, cosine schedule",
    inputShape: [9, 9, 1],
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3, strides: 2, activation: 'sigmoid' },
      { type: 'batchNorm', momentum: 0.8 },
      { type: 'avgPool2d', poolSize: 2, padding: 'same' },
      { type: 'activation', activation: 'leakyRelu', alpha: 0.2 },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.25 },
      { units: 3, activation: 'softmax' },
    ],
    trainer: { loss: 'categoricalCrossEntropy', optimizer: ADAMW, schedule: { name: 'cosine', epochs: 3, minLearningRate: 0.002 } },
    targets: 'indices',
    epochs: 4,
  },
  {
    name: 'dense, softmax activation layer, batch norm, dropout, tanh output; mse, adam, clipNorm',
    inputShape: [5],
    layers: [
      { units: 6 },
      { type: 'activation', activation: 'softmax' },
      { type: 'batchNorm', epsilon: 0.01 },
      { type: 'dropout', rate: 0.4 },
      { units: 2, activation: 'tanh' },
    ],
    trainer: { loss: 'meanSquaredError', optimizer: ADAM, clipNorm: 0.05 },
    targets: 'regression',
    epochs: 3,
  },
  // Schedules change the rate in Rust between epochs (four here) and must keep the optimizer state.
  ...[
    dense({ units: 7, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }, { optimizer: SGD, schedule: { name: 'step', stepEpochs: 2, gamma: 0.3 } }, 'binary', 'step schedule, sgd'),
    dense({ units: 7, activation: 'relu' }, { units: 3, activation: 'softmax' }, { optimizer: MOMENTUM, schedule: { name: 'exponential', gamma: 0.5 } }, 'oneHot', 'exponential schedule, momentum'),
    dense(
      { units: 7, activation: 'tanh' },
      { units: 3 },
      // No epoch can improve by 10, so the rate halves after every epoch past the first.
      { loss: 'meanSquaredError', optimizer: ADAM, schedule: { name: 'reduceOnPlateau', patience: 1, factor: 0.5, minDelta: 10 } },
      'regression',
      'reduceOnPlateau schedule, adam',
    ),
    dense({ units: 7, activation: 'sigmoid' }, { units: 3, activation: 'softmax' }, { optimizer: RMSPROP, schedule: (epoch, base) => base * (1 + epoch) }, 'indices', 'schedule function, rmsprop'),
  ].map((testCase) => ({ ...testCase, epochs: 4 })),
  // A rate that doubles every epoch makes valLoss fall for four epochs and then rise: early
  // stopping ends the fit two epochs after the best one and restores its weights through setWeights.
  {
    ...dense(
      { units: 7, activation: 'tanh' },
      { units: 2 },
      { loss: 'meanSquaredError', optimizer: { name: 'sgd', learningRate: 0.05 }, schedule: (epoch, base) => base * 2 ** epoch },
      'regression',
      'early stopping on valLoss, restoring the best weights',
    ),
    epochs: 8,
    earlyStopping: { patience: 2, restoreBestWeights: true },
  },
];

/** Everything a run produced that a backend could get wrong. */
interface RunResult {
  buffers: Float32Array[];
  loss: number[];
  valLoss: number[];
  learningRate: number[];
  epochs: number;
  stoppedEpoch: number | null;
  bestEpoch: number | null;
  predictions: Float32Array;
  evaluation: { loss: number; accuracy: number };
}

interface DataSet {
  x: Float32Array;
  y: Float32Array | Uint8Array;
}

function dataFor(testCase: MatrixCase, inputs: number, outputs: number, samples: number, random: Random): DataSet {
  const x = Float32Array.from({ length: samples * inputs }, () => 2 * random.uniform() - 1);
  const classes = Uint8Array.from({ length: samples }, () => random.below(outputs));
  const oneHot = Float32Array.from({ length: samples * outputs }, (_, i) => (classes[Math.floor(i / outputs)] === i % outputs ? 1 : 0));
  const y = {
    regression: () => Float32Array.from({ length: samples * outputs }, () => 2 * random.uniform() - 1),
    unitInterval: () => Float32Array.from({ length: samples * outputs }, () => random.uniform()),
    binary: () => Float32Array.from({ length: samples * outputs }, () => random.below(2)),
    oneHot: () => oneHot,
    indices: () => classes,
  }[testCase.targets]();
  return { x, y };
}

async function run(testCase: MatrixCase, backend: BackendName): Promise<RunResult> {
  const net = await Network.create({ inputShape: testCase.inputShape, layers: testCase.layers, seed: 11, backend });
  try {
    const random = new Random(23);
    const train = dataFor(testCase, net.inputSize, net.outputSize, SAMPLES, random);
    const validation = dataFor(testCase, net.inputSize, net.outputSize, VALIDATION_SAMPLES, random);
    const trainer = new Trainer(net, { batchSize: BATCH_SIZE, seed: 3, ...testCase.trainer });
    const fitOptions = testCase.earlyStopping === undefined ? {} : { validationData: validation, earlyStopping: testCase.earlyStopping };
    const history = await trainer.fit(train.x, train.y, { epochs: testCase.epochs, ...fitOptions });
    return {
      buffers: net.getWeights().flatMap((entry) => Object.values(entry)),
      loss: history.loss,
      valLoss: history.valLoss,
      learningRate: history.learningRate,
      epochs: history.epochs,
      stoppedEpoch: history.stoppedEpoch,
      bestEpoch: history.bestEpoch,
      predictions: net.predict(validation.x),
      evaluation: net.evaluate(validation.x, validation.y, { loss: trainer.loss }),
    };
  } finally {
    net.dispose();
  }
}

/** The largest |got - expected| / max(|expected|, floor) over every buffer (the measure expectClose bounds). */
function distance(got: readonly ArrayLike<number>[], expected: readonly ArrayLike<number>[], floor: number): number {
  let largest = 0;
  expected.forEach((buffer, b) => {
    const other = got[b] as ArrayLike<number>;
    for (let i = 0; i < buffer.length; i++) {
      const e = buffer[i] as number;
      largest = Math.max(largest, Math.abs((other[i] as number) - e) / Math.max(Math.abs(e), floor));
    }
  });
  return largest;
}

/** The case with its optimizer changed by `change`. */
function withOptimizer(testCase: MatrixCase, change: (optimizer: Record<string, unknown>) => void): MatrixCase {
  const optimizer = { ...(testCase.trainer.optimizer as OptimizerConfig) } as Record<string, unknown>;
  change(optimizer);
  return { ...testCase, trainer: { ...testCase.trainer, optimizer: optimizer as unknown as OptimizerConfig } };
}

/**
 * Each setting of the case changed the way a lost or misplaced field would change it: every
 * optimizer hyperparameter back to its default (weight decay to none), the betas swapped, each
 * leakyRelu alpha back to the default 0.01, clipping, the schedule or the weight restoring dropped.
 */
function slipsOf(testCase: MatrixCase): [string, MatrixCase][] {
  const slips: [string, MatrixCase][] = [];
  const optimizer = testCase.trainer.optimizer as OptimizerConfig & Record<string, unknown>;
  // The rate is halved rather than defaulted: a schedule's minimum may be above the default.
  const slipped: Record<string, number> = {
    ...(resolveOptimizer(optimizer.name) as unknown as Record<string, number>),
    learningRate: (optimizer.learningRate as number) / 2,
    weightDecay: 0,
  };
  for (const key of Object.keys(optimizer)) {
    if (key === 'name') continue;
    const fallback = slipped[key] as number;
    expect(optimizer[key], `${key} must differ from what its slip sets`).not.toBe(fallback);
    slips.push([`optimizer.${key} = ${fallback}`, withOptimizer(testCase, (o) => (o[key] = fallback))]);
  }
  if ('beta1' in optimizer) {
    slips.push([
      'beta1 and beta2 swapped',
      withOptimizer(testCase, (o) => {
        [o.beta1, o.beta2] = [o.beta2, o.beta1];
      }),
    ]);
  }
  testCase.layers.forEach((layer, i) => {
    if ('alpha' in layer) {
      const layers = testCase.layers.map((other, j) => (j === i ? { ...other, alpha: 0.01 } : other)) as LayerConfig[];
      slips.push([`layers[${i}].alpha = 0.01`, { ...testCase, layers }]);
    }
  });
  for (const control of ['clipNorm', 'schedule'] as const) {
    if (testCase.trainer[control] === undefined) continue;
    const trainer = Object.fromEntries(Object.entries(testCase.trainer).filter(([key]) => key !== control)) as TrainerOptions;
    slips.push([`no ${control}`, { ...testCase, trainer }]);
  }
  if (testCase.earlyStopping?.restoreBestWeights === true) {
    slips.push(['restoreBestWeights false', { ...testCase, earlyStopping: { ...testCase.earlyStopping, restoreBestWeights: false } }]);
  }
  return slips;
}

const references = new Map<MatrixCase, Promise<RunResult>>();
/** The ts run of a case, run once. */
function reference(testCase: MatrixCase): Promise<RunResult> {
  let result = references.get(testCase);
  if (result === undefined) {
    result = run(testCase, 'ts');
    references.set(testCase, result);
  }
  return result;
}

describe.each(CASES)('$name', (testCase) => {
  it.each(COMPILED_BACKENDS)('%s matches ts', async (backend) => {
    const [expected, got] = [await reference(testCase), await run(testCase, backend)];
    expect(got.buffers.length).toBe(expected.buffers.length);
    got.buffers.forEach((buffer, i) => {
      expectClose(buffer, expected.buffers[i] as Float32Array, WEIGHT_TOLERANCE, WEIGHT_FLOOR);
    });
    expectClose(got.loss, expected.loss, LOSS_TOLERANCE);
    expectClose(got.valLoss, expected.valLoss, LOSS_TOLERANCE);
    expect(got.learningRate).toEqual(expected.learningRate);
    expect([got.epochs, got.stoppedEpoch, got.bestEpoch]).toEqual([expected.epochs, expected.stoppedEpoch, expected.bestEpoch]);
    expectClose(got.predictions, expected.predictions, WEIGHT_TOLERANCE, WEIGHT_FLOOR);
    expectClose([got.evaluation.loss], [expected.evaluation.loss], LOSS_TOLERANCE);
    expect(got.evaluation.accuracy).toBe(expected.evaluation.accuracy);
  });

  it('moves far outside the tolerance when any one of its settings slips', async () => {
    const expected = await reference(testCase);
    const slips = slipsOf(testCase);
    expect(slips.length).toBeGreaterThan(0);
    for (const [slip, slipped] of slips) {
      const got = await run(slipped, 'ts');
      expect(distance(got.buffers, expected.buffers, WEIGHT_FLOOR), slip).toBeGreaterThan(SLIP_MARGIN * WEIGHT_TOLERANCE);
    }
  });
});

describe('cases that must do what they claim', () => {
  const byName = (start: string): MatrixCase => CASES.find((c) => c.name.startsWith(start)) as MatrixCase;

  it('early stopping stops after a best epoch in the middle', async () => {
    const result = await reference(byName('early stopping'));
    expect(result.bestEpoch).toBeGreaterThan(0);
    expect(result.stoppedEpoch).toBe((result.bestEpoch as number) + 2);
    expect(result.epochs).toBeLessThan(8);
  });

  it('the plateau schedule halves the rate after every epoch past the first', async () => {
    const result = await reference(byName('reduceOnPlateau'));
    expect(result.learningRate).toEqual([0.02, 0.02, 0.01, 0.005]);
  });

  it.each(['ts', ...COMPILED_BACKENDS] as BackendName[])('class indices train exactly as their one-hot rows on %s', async (backend) => {
    const indices = byName('categoricalCrossEntropy class indices');
    const [fromIndices, fromOneHot] = [await run(indices, backend), await run({ ...indices, targets: 'oneHot' }, backend)];
    expect(fromIndices).toEqual(fromOneHot);
  });
});

/**
 * The fixed run the browser test also trains in Chromium (web/parity.ts holds its one
 * definition): 320 planar samples in shuffled batches of 32 for 10 epochs, exactly 100 Adam
 * steps, long enough for float32 rounding to accumulate.
 */
describe('the browser parity run', () => {
  const trainHundredSteps = (backend: BackendName): Promise<number[][]> => trainParityRun(ferronet, backend);
  let hundredStepReference: Promise<number[][]> | undefined;

  it.each(COMPILED_BACKENDS)('%s matches ts after 100 shuffled adam minibatch steps', async (backend) => {
    hundredStepReference ??= trainHundredSteps('ts');
    const [expected, got] = [await hundredStepReference, await trainHundredSteps(backend)];
    got.forEach((buffer, i) => {
      expectClose(buffer, expected[i] as number[], 1e-4, 1e-2);
    });
  });

  it.each(BACKEND_NAMES)('%s gives bit-identical weights for the same seed, run twice', async (backend) => {
    const [first, second] = [await trainHundredSteps(backend), await trainHundredSteps(backend)];
    expect(second).toEqual(first);
  });
});

it('starts every backend from the same weights for the same seed', async () => {
  const initial = await Promise.all(
    BACKEND_NAMES.map(async (backend) => {
      const net = await Network.create({ inputSize: 3, layers: [{ units: 5, activation: 'relu' }, { units: 2, activation: 'softmax' }], seed: 42, backend });
      const weights = net.getWeights();
      net.dispose();
      return weights;
    }),
  );
  expect(initial[1]).toEqual(initial[0]);
  expect(initial[2]).toEqual(initial[0]);
});
