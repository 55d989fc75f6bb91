/**
 * Layer configuration at the public boundary (ts/layers): resolution and defaults of every
 * kind, window geometry and output shapes, parameter counts and the summary table, weight
 * initialization, and the errors bad configurations throw before anything runs.
 */

import { describe, expect, it } from 'vitest';
import { resolveLayers, windowGeometry } from '../../ts/layers/index.js';
import { Network, Random, Trainer, type LayerConfig, type LayerWeights, type NetworkOptions, type Padding } from '../../ts/index.js';

/** The network of issue 11: two conv blocks, then a dense head. */
const EXAMPLE: LayerConfig[] = [
  { type: 'conv2d', filters: 32, kernelSize: 3, padding: 'same', activation: 'relu' },
  { type: 'maxPool2d', poolSize: 2 },
  { type: 'batchNorm' },
  { type: 'conv2d', filters: 64, kernelSize: 3, padding: 'same', activation: 'relu' },
  { type: 'maxPool2d', poolSize: 2 },
  { type: 'flatten' },
  { type: 'dropout', rate: 0.25 },
  { type: 'dense', units: 128, activation: 'relu' },
  { units: 10, activation: 'softmax' },
];

const create = (options: Partial<NetworkOptions>): Promise<Network> => Network.create({ inputShape: [28, 28, 1], layers: EXAMPLE, backend: 'ts', ...options });

/** Deep-frozen, so that any attempt to change a user's config throws. */
function frozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    Object.values(value).forEach(frozen);
    Object.freeze(value);
  }
  return value;
}

function standardDeviation(values: Float32Array): number {
  const mean = values.reduce((sum, v) => sum + v, 0) / values.length;
  return Math.sqrt(values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / values.length);
}

describe('resolution', () => {
  it('fills in every default of every kind, with shapes', () => {
    const layers = resolveLayers(
      [28, 28, 1],
      [
        ...EXAMPLE.slice(0, 2),
        { type: 'avgPool2d', poolSize: [3, 2], strides: 1, padding: 'same' },
        ...EXAMPLE.slice(2, 8),
        { type: 'activation', activation: 'leakyRelu' },
        { units: 10, activation: 'softmax', useBias: false },
      ],
    );
    expect(layers).toEqual([
      { type: 'conv2d', inputShape: [28, 28, 1], outputShape: [28, 28, 32], filters: 32, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', alpha: 0, useBias: true },
      { type: 'maxPool2d', inputShape: [28, 28, 32], outputShape: [14, 14, 32], poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
      { type: 'avgPool2d', inputShape: [14, 14, 32], outputShape: [14, 14, 32], poolSize: [3, 2], strides: [1, 1], padding: 'same' },
      { type: 'batchNorm', inputShape: [14, 14, 32], outputShape: [14, 14, 32], momentum: 0.99, epsilon: 1e-3 },
      { type: 'conv2d', inputShape: [14, 14, 32], outputShape: [14, 14, 64], filters: 64, kernelSize: [3, 3], strides: [1, 1], padding: 'same', activation: 'relu', alpha: 0, useBias: true },
      { type: 'maxPool2d', inputShape: [14, 14, 64], outputShape: [7, 7, 64], poolSize: [2, 2], strides: [2, 2], padding: 'valid' },
      { type: 'flatten', inputShape: [7, 7, 64], outputShape: [3136] },
      { type: 'dropout', inputShape: [3136], outputShape: [3136], rate: 0.25 },
      { type: 'dense', inputShape: [3136], outputShape: [128], inputs: 3136, units: 128, activation: 'relu', alpha: 0, useBias: true },
      { type: 'activation', inputShape: [128], outputShape: [128], activation: 'leakyRelu', alpha: 0.01 },
      { type: 'dense', inputShape: [128], outputShape: [10], inputs: 128, units: 10, activation: 'softmax', alpha: 0, useBias: false },
    ]);
  });

  it('defaults a conv2d to stride 1, valid padding, linear, with bias; dense to linear with bias', () => {
    const [conv, denseLayer] = resolveLayers([5, 6, 2], [{ type: 'conv2d', filters: 3, kernelSize: [2, 3] }, { type: 'flatten' }, { units: 4 }]).filter((_, i) => i !== 1);
    expect(conv).toEqual({ type: 'conv2d', inputShape: [5, 6, 2], outputShape: [4, 4, 3], filters: 3, kernelSize: [2, 3], strides: [1, 1], padding: 'valid', activation: 'linear', alpha: 0, useBias: true });
    expect(denseLayer).toEqual({ type: 'dense', inputShape: [48], outputShape: [4], inputs: 48, units: 4, activation: 'linear', alpha: 0, useBias: true });
  });

  it.each<[number, number, number, Padding, number, number]>([
    // in, k, stride, padding -> out, before
    [7, 3, 1, 'valid', 5, 0],
    [7, 3, 2, 'valid', 3, 0],
    [8, 3, 2, 'valid', 3, 0],
    [4, 2, 3, 'valid', 1, 0],
    [3, 3, 1, 'valid', 1, 0],
    [2, 3, 1, 'valid', 0, 0],
    [7, 3, 1, 'same', 7, 1],
    [7, 3, 2, 'same', 4, 1], // total (4 - 1) * 2 + 3 - 7 = 2
    [8, 3, 2, 'same', 4, 0], // total 1: the smaller half (0) before
    [5, 2, 2, 'same', 3, 0], // total 1
    [6, 5, 1, 'same', 6, 2], // total 4
    [10, 4, 3, 'same', 4, 1], // total 3: 1 before, 2 after
    [9, 5, 2, 'same', 5, 2], // total 4
    [5, 1, 1, 'same', 5, 0],
    [3, 1, 4, 'same', 1, 0], // total max(0 + 1 - 3, 0) = 0
    [2, 5, 1, 'same', 2, 2], // total 4 on an input smaller than the window
  ])('window: in %i, k %i, stride %i, %s -> out %i, %i before', (extent, k, stride, padding, out, before) => {
    expect(windowGeometry(extent, k, stride, padding)).toEqual({ out, before });
  });

  it('gives conv2d and pooling output shapes on odd sizes and strides', () => {
    const shapes = (inputShape: number[], layer: LayerConfig): number[] => (resolveLayers(inputShape, [layer])[0] as { outputShape: number[] }).outputShape;
    expect(shapes([9, 7, 3], { type: 'conv2d', filters: 4, kernelSize: 5, strides: 2, padding: 'same' })).toEqual([5, 4, 4]);
    expect(shapes([9, 7, 3], { type: 'conv2d', filters: 4, kernelSize: 5, strides: 2 })).toEqual([3, 2, 4]);
    expect(shapes([9, 7, 3], { type: 'conv2d', filters: 2, kernelSize: [1, 3], strides: [3, 1] })).toEqual([3, 5, 2]);
    expect(shapes([7, 5, 2], { type: 'maxPool2d', poolSize: 2 })).toEqual([3, 2, 2]);
    expect(shapes([7, 5, 2], { type: 'maxPool2d', poolSize: 2, padding: 'same' })).toEqual([4, 3, 2]);
    expect(shapes([7, 5, 2], { type: 'avgPool2d', poolSize: 3, strides: 2 })).toEqual([3, 2, 2]);
    expect(shapes([7, 5, 2], { type: 'avgPool2d', poolSize: [3, 1], strides: [1, 2], padding: 'same' })).toEqual([7, 3, 2]);
    expect(shapes([7, 5, 2], { type: 'flatten' })).toEqual([70]);
    expect(shapes([6], { type: 'flatten' })).toEqual([6]);
    expect(shapes([7, 5, 2], { type: 'batchNorm', momentum: 0.9, epsilon: 1e-5 })).toEqual([7, 5, 2]);
    expect(shapes([6], { type: 'dropout', rate: 0 })).toEqual([6]);
  });
});

describe('a network of every kind', () => {
  it("counts each layer's parameters and prints a Keras-style summary", async () => {
    const net = await create({ seed: 1 });
    expect(net.inputShape).toEqual([28, 28, 1]);
    expect(net.inputSize).toBe(784);
    expect(net.outputShape).toEqual([10]);
    expect(net.outputSize).toBe(10);
    expect(net.summary()).toBe(
      [
        'Layer (type)            Output Shape   Param #',
        '==============================================',
        'layers[0] (conv2d)      [28, 28, 32]       320', // 3 * 3 * 1 * 32 + 32
        'layers[1] (maxPool2d)   [14, 14, 32]         0',
        'layers[2] (batchNorm)   [14, 14, 32]       128', // 4 * 32, half of it moving statistics
        'layers[3] (conv2d)      [14, 14, 64]    18,496', // 3 * 3 * 32 * 64 + 64
        'layers[4] (maxPool2d)   [7, 7, 64]           0',
        'layers[5] (flatten)     [3136]               0',
        'layers[6] (dropout)     [3136]               0',
        'layers[7] (dense)       [128]          401,536', // 3136 * 128 + 128
        'layers[8] (dense)       [10]             1,290', // 128 * 10 + 10
        '==============================================',
        'Total params: 421,770',
        'Trainable params: 421,706',
        'Non-trainable params: 64',
      ].join('\n'),
    );
    expect(String(net)).toBe(
      'Network(28x28x1 -> conv2d 32 3x3 same relu -> maxPool2d 2x2 -> batchNorm -> conv2d 64 3x3 same relu -> maxPool2d 2x2 -> flatten -> dropout 0.25 -> 128 relu -> 10 softmax, ts)',
    );
    const weights = net.getWeights();
    expect(weights.map((entry) => Object.entries(entry).map(([name, values]) => [name, values.length]))).toEqual([
      [['weights', 288], ['bias', 32]],
      [],
      [['gamma', 32], ['beta', 32], ['movingMean', 32], ['movingVariance', 32]],
      [['weights', 18432], ['bias', 64]],
      [],
      [],
      [],
      [['weights', 401408], ['bias', 128]],
      [['weights', 1280], ['bias', 10]],
    ]);
    net.dispose();
  });

  it('has no bias buffer with useBias: false', async () => {
    const net = await Network.create({
      inputShape: [4, 4, 2],
      layers: [{ type: 'conv2d', filters: 3, kernelSize: 3, useBias: false }, { type: 'flatten' }, { units: 2, useBias: false }],
      backend: 'ts',
    });
    expect(net.getWeights().map((entry) => Object.keys(entry))).toEqual([['weights'], [], ['weights']]);
    expect(net.summary()).toMatch(/\nTotal params: 78\n/); // 3 * 3 * 3 * 2 + 12 * 2
    expect(String(net)).toBe('Network(4x4x2 -> conv2d 3 3x3 linear (no bias) -> flatten -> 2 linear (no bias), ts)');
    net.dispose();
  });

  it('takes inputSize as inputShape [n]', async () => {
    const net = await Network.create({ inputSize: 3, layers: [{ units: 2 }], backend: 'ts' });
    expect(net.inputShape).toEqual([3]);
    expect(net.layers).toEqual([{ type: 'dense', inputShape: [3], outputShape: [2], inputs: 3, units: 2, activation: 'linear', alpha: 0, useBias: true }]);
    expect(Object.isFrozen(net.layers[0]?.inputShape)).toBe(true);
    net.dispose();
  });

  it('follows the output activation for the default loss', async () => {
    const classifier = await create({});
    expect(new Trainer(classifier).loss).toBe('categoricalCrossEntropy');
    const regression = await Network.create({ inputShape: [4], layers: [{ units: 2, activation: 'sigmoid' }, { type: 'dropout', rate: 0.5 }], backend: 'ts' });
    expect(new Trainer(regression).loss).toBe('meanSquaredError'); // the last layer is a dropout: linear output
    expect(() => new Trainer(regression, { loss: 'binaryCrossEntropy' })).toThrow(/^loss: 'binaryCrossEntropy' needs a 'sigmoid' output layer, got 'linear'$/);
    const activated = await Network.create({ inputShape: [4], layers: [{ units: 1 }, { type: 'activation', activation: 'sigmoid' }], backend: 'ts' });
    expect(new Trainer(activated).loss).toBe('binaryCrossEntropy');
    for (const net of [classifier, regression, activated]) net.dispose();
  });

  it('names the input shape when x does not match it', async () => {
    const net = await create({});
    expect(() => net.predict(new Float32Array(700))).toThrow(
      /^x: expected a Float32Array \[samples\]\[28\]\[28\]\[1\] \(row-major\), a length that is a multiple of 784, got a Float32Array of length 700$/,
    );
    const x = new Float32Array(2 * 784);
    x[784 + 28 * 3 + 5] = NaN;
    expect(() => net.predict(x)).toThrow(/^x: expected finite values, got NaN at x\[1\]\[3\]\[5\]\[0\]$/);
    net.dispose();
  });
});

describe('initialization', () => {
  /** One conv2d of 64 filters 5x5 over 16 channels: fanIn 400, fanOut 1600, 25,600 weights. */
  const convWeights = async (init: 'auto' | 'he', activation: 'relu' | 'tanh'): Promise<LayerWeights[]> => {
    const net = await Network.create({ inputShape: [5, 5, 16], layers: [{ type: 'conv2d', filters: 64, kernelSize: 5, activation }, { type: 'batchNorm' }], init, seed: 3, backend: 'ts' });
    const weights = net.getWeights();
    net.dispose();
    return weights;
  };

  it('draws He weights for conv2d with fanIn = kh * kw * inChannels', async () => {
    const [conv] = await convWeights('auto', 'relu');
    // sqrt(2 / 400) = 0.0707; fanIn = kh * kw (25) would give 0.28, fanOut (1600) 0.035, the channels alone (16) 0.35.
    expect(Math.abs(standardDeviation(conv?.weights as Float32Array) / Math.sqrt(2 / 400) - 1)).toBeLessThan(0.03);
    expect(conv?.bias).toEqual(new Float32Array(64));
  });

  it('draws Glorot weights for conv2d with fanOut = kh * kw * filters', async () => {
    const [conv] = await convWeights('auto', 'tanh');
    const limit = Math.sqrt(6 / (400 + 1600));
    const weights = conv?.weights as Float32Array;
    expect(Math.abs(standardDeviation(weights) / (limit / Math.sqrt(3)) - 1)).toBeLessThan(0.03);
    const largest = weights.reduce((max, v) => Math.max(max, Math.abs(v)), 0);
    expect(largest).toBeLessThanOrEqual(limit);
    expect(largest).toBeGreaterThan(0.999 * limit);
  });

  it('starts batch norm at gamma 1, beta 0, moving mean 0, moving variance 1', async () => {
    const [, norm] = await convWeights('he', 'relu');
    expect(norm).toEqual({ gamma: new Float32Array(64).fill(1), beta: new Float32Array(64), movingMean: new Float32Array(64), movingVariance: new Float32Array(64).fill(1) });
  });

  it.each(['auto', 'he', 'glorot', 'normal0.01'] as const)('gives dense networks the weights they always had (%s)', async (init) => {
    const layers: LayerConfig[] = [{ units: 7, activation: 'relu' }, { units: 5, activation: 'leakyRelu' }, { units: 3, activation: 'tanh' }, { units: 2, activation: 'softmax' }];
    const net = await Network.create({ inputSize: 6, layers, init, seed: 11, backend: 'ts' });
    // The draws of the dense-only initialization that the fixtures were made with, layer by layer.
    const random = new Random(11);
    let inputs = 6;
    const expected = layers.map((layer) => {
      const { units, activation } = layer as { units: number; activation: string };
      const weights = new Float32Array(units * inputs);
      const scheme = init === 'auto' ? (activation === 'relu' || activation === 'leakyRelu' ? 'he' : 'glorot') : init;
      for (let i = 0; i < weights.length; i++) {
        if (scheme === 'he') weights[i] = random.normal() * Math.sqrt(2 / inputs);
        else if (scheme === 'glorot') weights[i] = (2 * random.uniform() - 1) * Math.sqrt(6 / (inputs + units));
        else weights[i] = random.normal() * 0.01;
      }
      inputs = units;
      return { weights, bias: new Float32Array(units) };
    });
    expect(net.getWeights()).toEqual(expected);
    net.dispose();
  });
});

describe('bad configurations throw before anything runs', () => {
  type Case = [label: string, options: Partial<NetworkOptions>, type: typeof TypeError | typeof RangeError, message: RegExp];
  const conv = (fields: Record<string, unknown>): LayerConfig => ({ type: 'conv2d', filters: 2, kernelSize: 3, ...fields });
  const CASES: Case[] = [
    ['a kernel larger than the input', { inputShape: [4, 5, 1], layers: [conv({ kernelSize: [5, 5] })] }, RangeError, /^layers\[0\]\.kernelSize: expected at most \[4, 5\], the input's height and width \('valid' padding adds none; or use padding: 'same'\), got \[5, 5\]$/],
    ['a kernel larger than a later input', { inputShape: [8, 8, 1], layers: [conv({}), { type: 'maxPool2d', poolSize: 2 }, conv({ kernelSize: 4 })] }, RangeError, /^layers\[2\]\.kernelSize: expected at most \[3, 3\], .* got \[4, 4\]$/],
    ['pooling to zero size', { inputShape: [8, 8, 1], layers: [conv({ padding: 'same' }), { type: 'maxPool2d', poolSize: 4 }, { type: 'avgPool2d', poolSize: [1, 3] }] }, RangeError, /^layers\[2\]\.poolSize: expected at most \[2, 2\], the input's height and width \(with 'valid' padding a larger window pools to zero size; or use padding: 'same'\), got \[1, 3\]$/],
    ['dropout rate 1', { inputShape: [4], layers: [{ units: 3 }, { type: 'dropout', rate: 1 }] }, RangeError, /^layers\[1\]\.rate: expected a number in \[0, 1\), got 1$/],
    ['dropout rate missing', { inputShape: [4], layers: [{ type: 'dropout' } as LayerConfig] }, TypeError, /^layers\[0\]\.rate: expected a number in \[0, 1\), got undefined$/],
    ['dense on an image without flatten', { layers: [...EXAMPLE.slice(0, 3), { units: 10 }] }, RangeError, /^layers\[3\]: dense needs a flat input \[features\], got \[14, 14, 32\]; add \{ type: "flatten" \} before it$/],
    ['conv2d on a flat input', { inputShape: [784], layers: [conv({})] }, RangeError, /^layers\[0\]: conv2d needs an image input \[height, width, channels\], got \[784\]/],
    ['pooling after flatten', { layers: [{ type: 'flatten' }, { type: 'maxPool2d', poolSize: 2 }] }, RangeError, /^layers\[1\]: maxPool2d needs an image input \[height, width, channels\], got \[784\]/],
    ['an unknown type', { layers: [{ type: 'lstm', units: 3 } as unknown as LayerConfig] }, RangeError, /^layers\[0\]\.type: expected one of 'dense', 'conv2d', 'maxPool2d', 'avgPool2d', 'batchNorm', 'dropout', 'flatten', 'activation', got "lstm"$/],
    ['a type that is not a string', { layers: [{ type: 2 } as unknown as LayerConfig] }, TypeError, /^layers\[0\]\.type: expected one of .* got 2$/],
    ['an unknown conv2d key', { layers: [conv({ kernel: 3 })] }, RangeError, /^layers\[0\]\.kernel: expected one of filters, kernelSize, strides, padding, activation, alpha, useBias, type, got "kernel"$/],
    ['a key flatten does not take', { layers: [{ type: 'flatten', rate: 0.5 } as LayerConfig] }, RangeError, /^layers\[0\]\.rate: expected one of type, got "rate"$/],
    ['a dense key on a pooling layer', { layers: [{ type: 'maxPool2d', poolSize: 2, units: 3 } as LayerConfig] }, RangeError, /^layers\[0\]\.units: expected one of poolSize, strides, padding, type, got "units"$/],
    ['filters missing', { layers: [conv({ filters: undefined })] }, TypeError, /^layers\[0\]\.filters: expected a positive integer, got undefined$/],
    ['kernelSize 0', { layers: [conv({ kernelSize: 0 })] }, RangeError, /^layers\[0\]\.kernelSize: expected a positive integer, got 0$/],
    ['kernelSize of one extent', { layers: [conv({ kernelSize: [3] })] }, RangeError, /^layers\[0\]\.kernelSize: expected a positive integer or \[height, width\], got an Array of length 1$/],
    ['kernelSize fractional', { layers: [conv({ kernelSize: [3, 2.5] })] }, RangeError, /^layers\[0\]\.kernelSize\[1\]: expected a positive integer, got 2\.5$/],
    ['kernelSize a string', { layers: [conv({ kernelSize: '3' })] }, TypeError, /^layers\[0\]\.kernelSize: expected a positive integer or \[height, width\], got "3"$/],
    ['strides 0', { layers: [conv({ strides: [1, 0] })] }, RangeError, /^layers\[0\]\.strides\[1\]: expected a positive integer, got 0$/],
    ['an unknown padding', { layers: [conv({ padding: 'full' })] }, RangeError, /^layers\[0\]\.padding: expected one of 'valid', 'same', got "full"$/],
    ['useBias not a boolean', { layers: [conv({ useBias: 'no' })] }, TypeError, /^layers\[0\]\.useBias: expected a boolean, got "no"$/],
    ['alpha on a relu conv2d', { layers: [conv({ activation: 'relu', alpha: 0.1 })] }, RangeError, /^layers\[0\]\.alpha: expected no alpha unless activation is 'leakyRelu', got 0\.1$/],
    ['an activation layer without activation', { layers: [{ type: 'activation' } as LayerConfig] }, TypeError, /^layers\[0\]\.activation: expected one of 'linear', .* got undefined$/],
    ['batch norm momentum above 1', { layers: [{ type: 'batchNorm', momentum: 1.5 }] }, RangeError, /^layers\[0\]\.momentum: expected a number in \[0, 1\], got 1\.5$/],
    ['batch norm epsilon 0', { layers: [{ type: 'batchNorm', epsilon: 0 }] }, RangeError, /^layers\[0\]\.epsilon: expected a positive finite number, got 0$/],
    ['conv2d weights beyond the per-layer limit', { inputShape: [1, 1, 2 ** 20], layers: [conv({ kernelSize: 1, filters: 512 })] }, RangeError, /^layers\[0\]\.filters: expected at most 256 filters of 1x1x1048576 \(268435456 weights per layer\), got 512$/],
    ['an output beyond the per-sample limit', { inputShape: [4096, 4096, 1], layers: [conv({ filters: 32, padding: 'same' })] }, RangeError, /^layers\[0\]: expected an output of at most 268435456 values per sample, got \[4096, 4096, 32\] \(536870912 values\)$/],
    ['inputShape of two extents', { inputShape: [28, 28] }, RangeError, /^inputShape: expected \[features\] or \[height, width, channels\] of positive integers, got an Array of length 2$/],
    ['inputShape with a 0', { inputShape: [28, 0, 1] }, RangeError, /^inputShape\[1\]: expected a positive integer, got 0$/],
    ['inputShape a number', { inputShape: 784 as never }, TypeError, /^inputShape: expected \[features\] or \[height, width, channels\] of positive integers, got 784$/],
    ['inputShape beyond the per-sample limit', { inputShape: [2 ** 15, 2 ** 14, 2], layers: [{ type: 'flatten' }] }, RangeError, /^inputShape: expected at most 268435456 values per sample, got \[32768, 16384, 2\] \(1073741824 values\)$/],
    ['inputShape and inputSize', { inputSize: 784 }, TypeError, /^options: expected inputShape or inputSize, not both, got inputShape \[28, 28, 1\] and inputSize 784$/],
    ['neither inputShape nor inputSize', { inputShape: undefined } as unknown as Partial<NetworkOptions>, TypeError, /^options: expected inputShape \(\[features\] or \[height, width, channels\]\) or inputSize, got neither$/],
  ];

  it.each(CASES)('%s', async (_, options, type, message) => {
    const config = frozen<NetworkOptions>({ inputShape: [28, 28, 1], layers: EXAMPLE, backend: 'ts', ...options });
    const before = JSON.stringify(config);
    const outcome = await Network.create(config).then(
      () => 'no error',
      (error: unknown) => error,
    );
    expect(outcome).toBeInstanceOf(type);
    expect((outcome as Error).message).toMatch(message);
    expect(JSON.stringify(config)).toBe(before);
  });

  it('leaves a network as it was after a rejected setWeights', async () => {
    // The example's kinds on a small image: conv2d 32, max pooling, batch norm, conv2d 8, ...
    const layers = EXAMPLE.map((layer, l) => (l === 3 ? { ...layer, filters: 8 } : layer));
    const net = await create({ inputShape: [8, 8, 1], layers, seed: 2 });
    const before = net.getWeights();
    const patched = (l: number, entry: LayerWeights): LayerWeights[] => before.map((original, i) => (i === l ? entry : original));
    const norm = before[2] as Required<Pick<LayerWeights, 'gamma' | 'beta' | 'movingMean' | 'movingVariance'>>;
    const attempts: [LayerWeights[], RegExp][] = [
      [patched(2, { ...norm, movingVariance: norm.movingVariance.map((v, i) => (i === 5 ? -0.5 : v)) }), /^weights\[2\]\.movingVariance: expected values of at least 0 \(a variance\), got -0\.5 at weights\[2\]\.movingVariance\[5\]$/],
      [patched(2, { ...norm, gamma: new Float32Array(31) }), /^weights\[2\]\.gamma: expected a Float32Array of length 32 \(\[32\] = \[channels\]\), got a Float32Array of length 31$/],
      [patched(2, { gamma: norm.gamma, beta: norm.beta, movingMean: norm.movingMean }), /^weights\[2\]\.movingVariance: expected a Float32Array of length 32 .* got undefined$/],
      [patched(1, { weights: new Float32Array(1) }), /^weights\[1\]\.weights: expected no weights \(a maxPool2d layer has no parameters\), got a Float32Array of length 1$/],
      [patched(0, { ...before[0], gamma: new Float32Array(32) }), /^weights\[0\]\.gamma: expected no gamma \(a conv2d layer has weights, bias\), got a Float32Array of length 32$/],
      [patched(3, { ...before[3], weights: new Float32Array(8 * 3 * 3 * 32).fill(Infinity) }), /^weights\[3\]\.weights: expected finite values, got Infinity at weights\[3\]\.weights\[0\]\[0\]\[0\]\[0\]$/],
      [patched(0, { ...before[0], weights: new Float32Array(100) }), /^weights\[0\]\.weights: expected a Float32Array of length 288 \(\[32\]\[3\]\[3\]\[1\] = \[filters\]\[kh\]\[kw\]\[inChannels\]\), got a Float32Array of length 100$/],
      [before.slice(1), /^weights: expected an array of 9 entries: \{ weights, bias \}, \{\}, \{ gamma, beta, movingMean, movingVariance \}, .* \(one per layer\), got an Array of length 8$/],
    ];
    for (const [weights, message] of attempts) {
      expect(() => net.setWeights(weights)).toThrow(message);
      expect(net.getWeights()).toEqual(before);
    }
    net.setWeights(patched(2, { ...norm, movingVariance: new Float32Array(32) }));
    expect(net.getWeights()[2]?.movingVariance).toEqual(new Float32Array(32));
    net.dispose();
  });
});

describe('dropout masks', () => {
  /**
   * One sample of 64 ones through dropout(0.5) and a dense layer of weight 1, no bias, under
   * mean squared error against 0: the batch loss is (2 * kept)^2. The learning rate is so small
   * that the weights stay 1 in float32, so each fit's loss shows its mask alone.
   */
  const maskNetwork = (): Promise<Network> =>
    Network.create({ inputShape: [64], layers: [{ type: 'dropout', rate: 0.5 }, { units: 1, useBias: false }], backend: 'ts' }).then((net) => {
      net.setWeights([{}, { weights: new Float32Array(64).fill(1) }]);
      return net;
    });
  const fitLoss = async (trainer: Trainer): Promise<number> => (await trainer.fit(new Float32Array(64).fill(1), Float32Array.of(0), { epochs: 1 })).loss[0] as number;
  const expectedLoss = (random: Random): number => {
    let kept = 0;
    for (let i = 0; i < 64; i++) if (random.uniform() >= 0.5) kept += 1;
    return (2 * kept) ** 2;
  };

  it("come from the trainer's own generator, continued across fits and unaffected by other trainers", async () => {
    const net = await maskNetwork();
    const options = { loss: 'meanSquaredError', optimizer: { name: 'sgd', learningRate: 1e-30 }, batchSize: 1 } as const;
    const [first, second] = [new Trainer(net, { ...options, seed: 5 }), new Trainer(net, { ...options, seed: 6 })];
    const [streamOfFirst, streamOfSecond] = [new Random((5 ^ 0x6a09e667) >>> 0), new Random((6 ^ 0x6a09e667) >>> 0)];
    const losses = [await fitLoss(first), await fitLoss(second), await fitLoss(first), await fitLoss(second)];
    expect(losses).toEqual([expectedLoss(streamOfFirst), expectedLoss(streamOfSecond), expectedLoss(streamOfFirst), expectedLoss(streamOfSecond)]);
    expect(new Set(losses).size).toBeGreaterThan(1);
    expect(net.predict(new Float32Array(64).fill(1))).toEqual(Float32Array.of(64)); // the identity in inference
    net.dispose();
  });
});
