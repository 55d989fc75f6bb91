/**
 * Backpropagation through every layer kind on the ts backend against central finite
 * differences of the training loss, for parameter gradients and input gradients.
 *
 * How the gradients are read, through the BackendModel interface alone:
 * - The loss is the training-mode loss `trainBatches` records for one batch (dropout active,
 *   batch statistics), with every parameter buffer (moving statistics included) and the
 *   dropout generator's state set to the same values before each evaluation, and SGD at a
 *   learning rate of 0 so that nothing moves.
 * - The backpropagated gradient comes from one SGD step: `g = (before - after) / lr`. The rate
 *   is 2^20, a power of two so `lr * g` is exact, and large so the update dwarfs the parameter
 *   and the float32 rounding of `p - lr * g` is relative to `g` (not to `p`).
 * - A layer's input gradient is read through a probe placed in front of it whose output is its
 *   own weights, each once: a dense layer without bias fed the identity matrix (row n of the
 *   batch is the one-hot e_n, so output row n is column n of W), or, for image inputs, one
 *   sample through a conv2d without bias whose kernel is the tested layer's [h, w], over a
 *   [2h-1, 2w-1, 1] image that is 1 at (h-1, w-1) and 0 elsewhere (output (y, x, f) is weight
 *   (f, h-1-y, w-1-x), the only tap that lands on the 1). Products with 1 and sums with 0 are
 *   exact, so the probe's weight gradient is the tested layer's input gradient, element for
 *   element, and finite differences over the probe's weights are finite differences over the
 *   tested layer's input.
 *
 * The forward pass runs in float32 and the loss is summed in float64, so the differences are
 * fourth-order central ones, `(8 (L(p+h) - L(p-h)) - (L(p+2h) - L(p-2h))) / 12h`, whose
 * truncation error is O(h^4): that allows a step of 0.04, large enough to keep float32's noise
 * in the loss small (the perturbed values are rounded to float32, an error of about 3e-6 of
 * the step). Parameters are distinct values at least 1/n apart and from 0 (n values per
 * buffer); where kinks follow the probe (max pooling, ReLU), the step shrinks to a quarter of
 * that gap, so no perturbation reorders a window or crosses a kink. The comparison allows
 * 1e-3 of each element, or of 5% of the buffer's largest element for elements nearer 0. The
 * largest error observed is a tenth of that, while a sign flip, a missing term of the
 * batch-norm backward, an input gradient written instead of summed, a batch row left out or
 * an average-pool share over the whole window are off by percents or more (each fails here).
 */

import { describe, expect, it } from 'vitest';
import { loadBackend } from '../../ts/backends/index.js';
import type { BackendModel } from '../../ts/backends/backend.js';
import { parameterShapes, resolveLayers } from '../../ts/layers/index.js';
import type { ResolvedLayer } from '../../ts/layers/types.js';
import type { LossName } from '../../ts/losses/index.js';
import { resolveOptimizer, type OptimizerSettings } from '../../ts/optimizers/index.js';
import { Random } from '../../ts/random.js';
import { largestMagnitude } from '../helpers.js';

const TOLERANCE = 1e-3;
/** Elements below this fraction of their buffer's largest are compared against that fraction of it. */
const NEAR_ZERO = 0.05;
const ANALYTIC_LEARNING_RATE = 2 ** 20;
/** The finite-difference step where no kink limits it. */
const STEP = 4e-2;
const ACTIVATIONS = ['linear', 'relu', 'leakyRelu', 'tanh', 'sigmoid', 'softmax'] as const;

/** The first layers of a case and the batch they read. */
interface Front {
  inputShape: number[];
  rows: number;
  x: Float32Array;
  /** The probe, when the case checks its second layer's input gradient. */
  layers: unknown[];
}

/** A dense probe for a flat input of `features` and a batch of `rows` (see the header). */
function flatProbe(rows: number, features: number): Front {
  const x = new Float32Array(rows * rows);
  for (let n = 0; n < rows; n++) x[n * rows + n] = 1;
  return { inputShape: [rows], rows, x, layers: [{ type: 'dense', units: features, useBias: false }] };
}

/** A conv2d probe for one `[height, width, channels]` sample (see the header). */
function imageProbe(height: number, width: number, channels: number): Front {
  const x = new Float32Array((2 * height - 1) * (2 * width - 1));
  x[(height - 1) * (2 * width - 1) + (width - 1)] = 1;
  return { inputShape: [2 * height - 1, 2 * width - 1, 1], rows: 1, x, layers: [{ type: 'conv2d', filters: channels, kernelSize: [height, width], useBias: false }] };
}

/** A batch of `rows` random samples of `inputShape` and no probe: for parameter gradients summed over several rows. */
function randomBatch(inputShape: number[], rows: number, random: Random): Front {
  const x = Float32Array.from({ length: rows * inputShape.reduce((a, b) => a * b, 1) }, () => 2 * random.uniform() - 1);
  return { inputShape, rows, x, layers: [] };
}

/** `n` distinct values of magnitudes `scale * (1, 2, ..., n) / n` with random signs, in a random order. */
function spacedValues(n: number, random: Random, scale = 1): Float32Array {
  return random.shuffle(Float32Array.from({ length: n }, (_, i) => ((random.below(2) === 0 ? -scale : scale) * (i + 1)) / n));
}

function targetsFor(loss: LossName, rows: number, outputs: number, random: Random): Float32Array {
  const y = new Float32Array(rows * outputs);
  for (let r = 0; r < rows; r++) {
    if (loss === 'categoricalCrossEntropy') y[r * outputs + random.below(outputs)] = 1;
    else for (let j = 0; j < outputs; j++) y[r * outputs + j] = loss === 'binaryCrossEntropy' ? random.below(2) : 2 * random.uniform() - 1;
  }
  return y;
}

/** Plain SGD, without weight decay; `learningRate` may be 0, which the public validation refuses. */
function sgd(learningRate: number): OptimizerSettings {
  return { ...resolveOptimizer('sgd'), learningRate };
}

interface Options {
  loss?: LossName;
  /** The dropout generator's state, set before every evaluation. */
  dropoutState?: Uint32Array;
  /**
   * The layers after the probe have kinks (max pooling, ReLU): the step is at most a quarter of
   * the gap between the perturbed buffer's values (and from 0), so no perturbation, up to two
   * steps, crosses one.
   */
  kinked?: boolean;
}

/** One batch through a model, read as the header describes. */
class Harness {
  readonly #model: BackendModel;
  readonly #loss: LossName;
  readonly #dropoutState: Uint32Array;
  readonly #run: () => number;

  constructor(model: BackendModel, front: Front, outputs: number, options: Options, random: Random) {
    this.#model = model;
    this.#loss = options.loss ?? 'meanSquaredError';
    this.#dropoutState = options.dropoutState ?? Uint32Array.of(1, 2, 3, 4);
    const y = targetsFor(this.#loss, front.rows, outputs, random);
    const data = model.bindData(front.x, y, front.rows);
    const indices = Uint32Array.from({ length: front.rows }, (_, i) => i);
    this.#run = () => {
      const losses = new Float64Array(1);
      const outcome = model.trainBatches(data, indices, Uint32Array.of(front.rows), losses, new Uint32Array(1));
      expect(outcome).toEqual({ batches: 1, diverged: false });
      return losses[0] as number;
    };
  }

  /** The training loss at `parameters` (every buffer). */
  lossAt(parameters: readonly Float32Array[]): number {
    this.#prepare(parameters, 0);
    return this.#run();
  }

  /** The backpropagated gradients at `parameters` of the buffers `trained` lists, by index. */
  gradientsAt(parameters: readonly Float32Array[], trained: readonly number[]): Map<number, Float64Array> {
    this.#prepare(parameters, ANALYTIC_LEARNING_RATE);
    this.#run();
    return new Map(trained.map((index) => [index, Float64Array.from(this.#model.parameter(index), (after, i) => ((parameters[index] as Float32Array)[i] as number) - after).map((d) => d / ANALYTIC_LEARNING_RATE)]));
  }

  #prepare(parameters: readonly Float32Array[], learningRate: number): void {
    parameters.forEach((values, index) => {
      this.#model.setParameter(index, values);
    });
    this.#model.setRandomState(this.#dropoutState);
    this.#model.configureTraining({ loss: this.#loss, optimizer: sgd(learningRate), clipNorm: null });
  }
}

/** Values for every parameter buffer: spaced distinct weights (see the header), batch norm's gamma near 1. */
function startingParameters(layers: readonly ResolvedLayer[], random: Random): { values: Float32Array[]; names: string[]; trained: number[] } {
  const shapes = layers.flatMap((layer, l) => parameterShapes(layer).map((shape) => ({ ...shape, label: `layers[${l}].${shape.name}` })));
  const values = shapes.map(({ name, length }) => {
    switch (name) {
      case 'weights':
        return spacedValues(length, random);
      case 'gamma':
        return spacedValues(length, random, 0.5).map((v) => 1 + v);
      case 'movingVariance':
        return new Float32Array(length).fill(1);
      default:
        return spacedValues(length, random, 0.5);
    }
  });
  const trained = shapes.flatMap(({ trainable }, index) => (trainable ? [index] : []));
  return { values, names: shapes.map(({ label }) => label), trained };
}

/** The smallest gap between two values of `values`, and the smallest magnitude. */
function spacing(values: Float32Array): number {
  const sorted = Float64Array.from(values).sort();
  let gap = Math.min(...Array.from(sorted, Math.abs));
  for (let i = 1; i < sorted.length; i++) gap = Math.min(gap, (sorted[i] as number) - (sorted[i - 1] as number));
  return gap;
}

function expectGradient(label: string, analytic: Float64Array, numeric: Float64Array): void {
  const largest = largestMagnitude(numeric);
  expect(largest, `${label}: the finite differences are all 0, so the check would be empty`).toBeGreaterThan(0);
  numeric.forEach((n, i) => {
    const a = analytic[i] as number;
    const allowed = TOLERANCE * Math.max(Math.abs(n), NEAR_ZERO * largest);
    expect(Math.abs(a - n), `${label}[${i}]: backprop ${a}, finite difference ${n}`).toBeLessThanOrEqual(allowed);
  });
}

/** Checks every trained buffer of `front.layers` followed by `tested` against central differences. */
async function checkGradients(front: Front, tested: unknown[], options: Options = {}): Promise<void> {
  const random = new Random(11);
  const layers = resolveLayers(front.inputShape, [...front.layers, ...tested]);
  const model = (await loadBackend('ts')).createModel(front.inputShape, layers);
  const outputs = (layers.at(-1) as ResolvedLayer).outputShape.reduce((a, b) => a * b, 1);
  const harness = new Harness(model, front, outputs, options, random);
  const { values, names, trained } = startingParameters(layers, random);
  const analytic = harness.gradientsAt(values, trained);
  for (const index of trained) {
    const start = values[index] as Float32Array;
    const step = options.kinked === true ? Math.min(STEP, spacing(start) / 4) : STEP;
    const numeric = Float64Array.from(start, (value, i) => {
      const lossAt = (offset: number): number => harness.lossAt(values.map((buffer, b) => (b === index ? Float32Array.from(buffer, (v, j) => (j === i ? Math.fround(value + offset) : v)) : buffer)));
      // The fourth-order central difference: its error is O(step^4), so the step can be large enough to keep float32 noise small.
      return (8 * (lossAt(step) - lossAt(-step)) - (lossAt(2 * step) - lossAt(-2 * step))) / (12 * step);
    });
    expectGradient(names[index] as string, analytic.get(index) as Float64Array, numeric);
  }
}

describe('conv2d', () => {
  const shapes: [number, number, number][] = [
    [5, 7, 1],
    [5, 7, 3],
  ];
  describe.each(shapes)('on a %ix%ix%i input', (height, width, channels) => {
    it.each([1, 3, 5].flatMap((kernel) => [1, 2].flatMap((stride) => (['same', 'valid'] as const).map((padding) => ({ kernel, stride, padding })))))(
      'kernel $kernel, stride $stride, $padding: input and parameter gradients',
      async ({ kernel, stride, padding }) => {
        await checkGradients(imageProbe(height, width, channels), [{ type: 'conv2d', filters: 2, kernelSize: kernel, strides: stride, padding }]);
      },
    );
  });

  it('a [3, 2] kernel, strides [2, 1], no bias, tanh: input and parameter gradients', async () => {
    await checkGradients(imageProbe(5, 4, 2), [{ type: 'conv2d', filters: 3, kernelSize: [3, 2], strides: [2, 1], padding: 'same', activation: 'tanh', useBias: false }]);
  });

  it('sums the parameter gradients over a batch of 3', async () => {
    await checkGradients(randomBatch([5, 7, 3], 3, new Random(3)), [{ type: 'conv2d', filters: 2, kernelSize: 3, strides: 2, padding: 'same' }]);
  });
});

describe.each(['maxPool2d', 'avgPool2d'] as const)('%s', (type) => {
  const configs = [
    { poolSize: 2, strides: undefined },
    { poolSize: 3, strides: 2 },
    { poolSize: [2, 3], strides: 1 },
  ];
  it.each(configs.flatMap((config) => (['same', 'valid'] as const).map((padding) => ({ ...config, padding }))))(
    'pool $poolSize, strides $strides, $padding: input gradient',
    async ({ poolSize, strides, padding }) => {
      await checkGradients(imageProbe(5, 7, 2), [{ type, poolSize, ...(strides === undefined ? {} : { strides }), padding }], {
        kinked: type === 'maxPool2d',
      });
    },
  );
});

describe('batchNorm (training-mode loss)', () => {
  it('after dense: input gradient and gamma, beta', async () => {
    await checkGradients(flatProbe(6, 4), [{ type: 'batchNorm' }]);
  });

  it('after conv2d: input gradient and gamma, beta', async () => {
    await checkGradients(imageProbe(3, 4, 3), [{ type: 'batchNorm' }]);
  });

  it('feeding a dense layer, with its own momentum and epsilon', async () => {
    await checkGradients(flatProbe(5, 3), [{ type: 'batchNorm', momentum: 0.5, epsilon: 0.1 }, { units: 2, activation: 'tanh' }]);
  });
});

describe('dropout', () => {
  it('with a fixed mask state: input gradient and the next layer\'s parameters', async () => {
    const dropoutState = new Random(5).state();
    await checkGradients(flatProbe(4, 6), [{ type: 'dropout', rate: 0.4 }, { units: 3 }], { dropoutState });
  });

  it('drops the gradient of the dropped elements only', async () => {
    // The probe's weights are the dropout input: their gradients are 0 exactly where the mask dropped.
    const front = flatProbe(8, 8);
    const layers = resolveLayers(front.inputShape, [...front.layers, { type: 'dropout', rate: 0.5 }]);
    const model = (await loadBackend('ts')).createModel(front.inputShape, layers);
    const random = new Random(2);
    const harness = new Harness(model, front, 8, { dropoutState: random.state() }, random);
    const gradient = harness.gradientsAt([spacedValues(64, random)], [0]).get(0) as Float64Array;
    const dropped = gradient.filter((g) => g === 0).length;
    expect(dropped).toBeGreaterThan(10);
    expect(dropped).toBeLessThan(54);
  });
});

describe('flatten', () => {
  it('input gradient and the next layer\'s parameters', async () => {
    await checkGradients(imageProbe(3, 4, 2), [{ type: 'flatten' }, { units: 3, activation: 'sigmoid' }]);
  });
});

describe('activation', () => {
  it.each(ACTIVATIONS)('%s: input gradient', async (activation) => {
    await checkGradients(flatProbe(4, 5), [{ type: 'activation', activation }], { kinked: activation === 'relu' || activation === 'leakyRelu' });
  });

  it.each([
    ['sigmoid', 'binaryCrossEntropy'],
    ['softmax', 'categoricalCrossEntropy'],
  ] as const)('%s as the output with %s (fused): input gradient', async (activation, loss) => {
    await checkGradients(flatProbe(4, activation === 'sigmoid' ? 1 : 5), [{ type: 'activation', activation }], { loss });
  });

  it('softmax over the channels of an image', async () => {
    await checkGradients(imageProbe(3, 2, 4), [{ type: 'activation', activation: 'softmax' }]);
  });
});

describe('dense', () => {
  it.each([true, false])('useBias %s, tanh: input and parameter gradients', async (useBias) => {
    await checkGradients(flatProbe(4, 5), [{ units: 3, activation: 'tanh', useBias }]);
  });

  it('softmax output with categoricalCrossEntropy (fused): input and parameter gradients', async () => {
    await checkGradients(flatProbe(4, 5), [{ units: 3, activation: 'softmax' }], { loss: 'categoricalCrossEntropy' });
  });
});

it('a small CNN, every kind at once over a batch of 3: every parameter gradient', async () => {
  const random = new Random(8);
  await checkGradients(
    randomBatch([6, 5, 2], 3, random),
    [
      // First, on the data: nothing the differences perturb can move a window's maximum.
      { type: 'maxPool2d', poolSize: 2, strides: 1, padding: 'same' },
      { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'tanh' },
      { type: 'batchNorm' },
      { type: 'activation', activation: 'sigmoid' },
      { type: 'avgPool2d', poolSize: 2 },
      { type: 'flatten' },
      { type: 'dropout', rate: 0.3 },
      { units: 3, activation: 'softmax' },
    ],
    { loss: 'categoricalCrossEntropy', dropoutState: random.state() },
  );
});

describe('what finite differences cannot see', () => {
  it("max pooling sends a tied window's gradient to its first maximum in (ky, kx) order", async () => {
    // One [2, 4, 1] image: the left window's maximum 3 sits at (0, 1) and (1, 0), the right window is all 2s.
    const image = Float32Array.of(1, 3, 2, 2, 3, 0, 2, 2);
    const front = imageProbe(2, 4, 1);
    const model = (await loadBackend('ts')).createModel(front.inputShape, resolveLayers(front.inputShape, [...front.layers, { type: 'maxPool2d', poolSize: 2 }]));
    // With one channel the probe's weights are the image reversed (output (y, x) is weight (h-1-y, w-1-x)).
    const weights = image.slice().reverse();
    model.setParameter(0, weights);
    model.configureTraining({ loss: 'meanSquaredError', optimizer: sgd(1), clipNorm: null });
    // Targets 0: the loss gradient is y itself (2 y / 2 outputs), [3, 2], and one step at rate 1 subtracts it exactly.
    model.trainBatches(model.bindData(front.x, new Float32Array(2), 1), Uint32Array.of(0), Uint32Array.of(1), new Float64Array(1), new Uint32Array(1));
    const inputGradient = Float32Array.from(weights, (before, i) => before - (model.parameter(0)[i] as number)).reverse();
    expect(Array.from(inputGradient)).toEqual([0, 3, 2, 0, 0, 0, 0, 0]);
  });

  it("pooling with 'same' padding leaves the padding out: max over real elements, average over their number", async () => {
    // A [1, 4] row, windows of 3 with stride 1: one padding position on each side.
    const x = Float32Array.of(-4, -2, -6, -8);
    const pooled = async (type: 'maxPool2d' | 'avgPool2d'): Promise<number[]> => {
      const model = (await loadBackend('ts')).createModel([1, 4, 1], resolveLayers([1, 4, 1], [{ type, poolSize: [1, 3], strides: 1, padding: 'same' }]));
      return Array.from(model.predict(x, 1));
    };
    expect(await pooled('maxPool2d')).toEqual([-2, -2, -2, -6]);
    expect(await pooled('avgPool2d')).toEqual([-3, -4, Math.fround(-16 / 3), -7]);
  });

  it("conv2d computes docs/layers.md's sum, with TensorFlow's 'same' padding reading as 0", async () => {
    const [height, width, channels, filters, kh, kw, stride] = [5, 7, 3, 2, 3, 2, 2];
    // Rows: ceil(5 / 2) = 3 outputs, padding max(2 * 2 + 3 - 5, 0) = 2, 1 above. Columns: 4 outputs, padding max(3 * 2 + 2 - 7, 0) = 1, none left.
    const [outH, outW, top, left] = [3, 4, 1, 0];
    const random = new Random(4);
    const layers = resolveLayers([height, width, channels], [{ type: 'conv2d', filters, kernelSize: [kh, kw], strides: stride, padding: 'same' }]);
    expect(layers[0]?.outputShape).toEqual([outH, outW, filters]);
    const model = (await loadBackend('ts')).createModel([height, width, channels], layers);
    const weights = spacedValues(filters * kh * kw * channels, random);
    const bias = Float32Array.of(0.25, -0.5);
    model.setParameter(0, weights);
    model.setParameter(1, bias);
    const rows = 2;
    const x = randomBatch([height, width, channels], rows, random).x;
    const expected: number[] = [];
    for (let n = 0; n < rows; n++) {
      for (let oy = 0; oy < outH; oy++) {
        for (let ox = 0; ox < outW; ox++) {
          for (let f = 0; f < filters; f++) {
            let sum = bias[f] as number;
            for (let ky = 0; ky < kh; ky++) {
              for (let kx = 0; kx < kw; kx++) {
                const [iy, ix] = [oy * stride - top + ky, ox * stride - left + kx];
                if (iy < 0 || iy >= height || ix < 0 || ix >= width) continue;
                for (let c = 0; c < channels; c++) sum += (x[((n * height + iy) * width + ix) * channels + c] as number) * (weights[((f * kh + ky) * kw + kx) * channels + c] as number);
              }
            }
            expected.push(Math.fround(sum));
          }
        }
      }
    }
    // gemm sums in float64 too, in another order: the two agree to float32 rounding.
    model.predict(x, rows).forEach((got, i) => {
      expect(got).toBeCloseTo(expected[i] as number, 5);
    });
  });
});
