/**
 * Network.toOnnx checked by independent readers: ONNX's checker (full_check, which runs shape
 * inference against the declared input and output) and onnxruntime's CPU session, through
 * test/interop/run_onnx.py, once for every network here. The networks cover every layer kind
 * and activation, with non-trivial parameters (random biases and batch-norm statistics, not the
 * zeros and ones they start at), and the geometry that tells ONNX's conventions from ferronet's:
 * 'same' windows whose padding is uneven (the larger half after), 'valid' windows that leave
 * inputs over, average pooling that must not count padding, max pooling over negative inputs
 * (zero padding would win), softmax over channels while the data is channels first, flatten of
 * NCHW data, and image outputs.
 *
 * Tolerance: onnxruntime's outputs within 1e-5 * max(|expected|, 1) of the ts backend's
 * `predict` (1e-5 absolute for outputs below 1, relative above), for batches of 1 and 5 from
 * the one model (its batch dimension is `N`). Both compute in float32, so they differ by a few
 * float32 roundings; any mistake in layout, padding or parameters moves outputs by 1e-2 or more.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Network, type LayerWeights, type NetworkOptions } from '../../ts/index.js';
import { Random } from '../../ts/random.js';
import { VERSION } from '../../ts/version.js';
import { expectClose, uniformArray } from '../helpers.js';
import { missingPython, PYTHON } from './python.js';

const RUN_ONNX = fileURLToPath(new URL('run_onnx.py', import.meta.url));
const TOLERANCE = 1e-5;
const BATCHES = [1, 5];

interface Case {
  name: string;
  options: NetworkOptions;
  /** The range the inputs are drawn from; default [-1, 1]. */
  inputs?: [number, number];
}

const CASES: Case[] = [
  {
    name: 'dense layers with every activation',
    options: {
      inputSize: 6,
      layers: [
        { units: 8, activation: 'relu' },
        { units: 8, activation: 'leakyRelu', alpha: 0.2 },
        { units: 7, activation: 'tanh' },
        { units: 7, activation: 'linear', useBias: false },
        { units: 6, activation: 'sigmoid' },
        { units: 4, activation: 'softmax' },
      ],
    },
  },
  {
    name: 'batch norm, dropout and activation layers on flat data',
    options: {
      inputSize: 5,
      layers: [
        { units: 6 },
        { type: 'batchNorm', epsilon: 0.01 },
        { type: 'activation', activation: 'leakyRelu', alpha: 0.3 },
        { type: 'dropout', rate: 0.5 },
        { units: 4 },
        { type: 'activation', activation: 'softmax' },
      ],
    },
  },
  {
    // conv [3, 2] 'same' pads rows 1 + 1 and columns 0 + 1; the pool pads likewise; the 2x2
    // 'valid' conv with strides 2 leaves the fifth row over.
    name: 'conv same and valid, kernel [3, 2], strides 2, max pooling, batch norm after conv',
    options: {
      inputShape: [9, 8, 3],
      layers: [
        { type: 'conv2d', filters: 4, kernelSize: [3, 2], padding: 'same', activation: 'relu' },
        { type: 'batchNorm' },
        { type: 'maxPool2d', poolSize: 3, strides: 2, padding: 'same' },
        { type: 'conv2d', filters: 5, kernelSize: 2, strides: 2, padding: 'valid', activation: 'tanh' },
        { type: 'flatten' },
        { units: 3, activation: 'softmax' },
      ],
    },
  },
  {
    // The first average pool pads rows and columns 0 + 1: its edge windows have 2 real elements of 4.
    name: 'average pooling same and valid, softmax over channels, batch norm after flatten',
    options: {
      inputShape: [7, 7, 2],
      layers: [
        { type: 'conv2d', filters: 3, kernelSize: 3, strides: 2, padding: 'same', activation: 'leakyRelu', alpha: 0.1 },
        { type: 'avgPool2d', poolSize: 2, strides: 1, padding: 'same' },
        { type: 'activation', activation: 'softmax' },
        { type: 'avgPool2d', poolSize: 2, padding: 'valid' },
        { type: 'flatten' },
        { type: 'batchNorm' },
        { type: 'dropout', rate: 0.25 },
        { units: 2, activation: 'sigmoid' },
      ],
    },
  },
  {
    // Every input is negative, so a window counting its padding as 0 would return 0.
    name: 'max pooling of negative images ignores padding, image output',
    options: { inputShape: [5, 5, 2], layers: [{ type: 'maxPool2d', poolSize: 3, strides: 2, padding: 'same' }, { type: 'batchNorm' }] },
    inputs: [-2, -0.5],
  },
  {
    name: 'softmax and batch norm on an image before flatten, no convolution',
    options: {
      inputShape: [4, 3, 2],
      layers: [{ type: 'activation', activation: 'softmax' }, { type: 'batchNorm' }, { type: 'flatten' }, { units: 3, activation: 'relu' }],
    },
  },
  {
    name: 'conv output with softmax over the filters',
    options: { inputShape: [6, 5, 1], layers: [{ type: 'conv2d', filters: 3, kernelSize: 3, padding: 'valid', activation: 'softmax' }] },
  },
  {
    name: 'dropout alone is the identity',
    options: { inputSize: 3, layers: [{ type: 'dropout', rate: 0.5 }] },
  },
];

/** Each buffer's values besides initialized weights: biases and batch-norm parameters away from their 0 and 1 starts. */
const RANGES: Record<string, [number, number]> = {
  bias: [-0.5, 0.5],
  gamma: [0.5, 1.5],
  beta: [-0.5, 0.5],
  movingMean: [-0.5, 0.5],
  movingVariance: [0.2, 2],
};

/** `net`'s weights with every buffer but conv and dense weights (already random) drawn from {@link RANGES}. */
function variedWeights(net: Network, random: Random): LayerWeights[] {
  return net.getWeights().map((entry) =>
    Object.fromEntries(
      Object.entries(entry).map(([name, values]) => {
        const range = RANGES[name];
        return [name, range ? uniformArray(random, values.length, ...range) : values];
      }),
    ),
  );
}

/** What run_onnx.py reports for one model. */
interface OnnxRun {
  error?: string;
  outputs: number[][];
  outputShapes: number[][];
  inputDims: (number | string)[];
  outputDims: (number | string)[];
  opset: number[];
  irVersion: number;
  producer: [string, string];
  opTypes: string[];
}

interface Exported {
  net: Network;
  bytes: Uint8Array;
  inputs: Float32Array[];
}

const missing = missingPython(['numpy', 'onnx', 'onnxruntime']);

describe.skipIf(missing !== null)(`ONNX export run by onnxruntime${missing === null ? '' : ` (skipped: ${missing})`}`, () => {
  const exported = new Map<string, Exported>();
  let runs: Record<string, OnnxRun | undefined> = {};
  let directory = '';

  beforeAll(async () => {
    directory = await mkdtemp(join(tmpdir(), 'ferronet-onnx-'));
    const random = new Random(13);
    const models = [];
    for (const [index, { name, options, inputs: range = [-1, 1] }] of CASES.entries()) {
      const net = await Network.create({ ...options, backend: 'ts', seed: index + 1 });
      net.setWeights(variedWeights(net, random));
      const bytes = await net.toOnnx();
      const path = join(directory, `model-${index}.onnx`);
      await writeFile(path, bytes);
      const inputs = BATCHES.map((rows) => uniformArray(random, rows * net.inputSize, ...range));
      exported.set(name, { net, bytes, inputs });
      models.push({ name, path, inputs: inputs.map((x, b) => ({ shape: [BATCHES[b], ...net.inputShape], values: Array.from(x) })) });
    }
    const manifest = join(directory, 'manifest.json');
    await writeFile(manifest, JSON.stringify({ models }));
    const { stdout } = await promisify(execFile)(PYTHON, [RUN_ONNX, manifest], { maxBuffer: 64 * 2 ** 20 });
    runs = JSON.parse(stdout) as Record<string, OnnxRun>;
  }, 120_000);

  afterAll(async () => {
    for (const { net } of exported.values()) net.dispose();
    if (directory) await rm(directory, { recursive: true, force: true });
  });

  it.each(CASES.map(({ name }) => name))('%s: the checker passes, predictions within 1e-5 for batches of 1 and 5', (name) => {
    const run = runs[name];
    const { net, inputs } = exported.get(name) as Exported;
    expect(run?.error).toBeUndefined();
    if (!run) throw new Error(`run_onnx.py reported nothing for ${name}`);
    expect(run.inputDims).toEqual(['N', ...net.inputShape]);
    expect(run.outputDims).toEqual(['N', ...net.outputShape]);
    expect(run.outputShapes).toEqual(BATCHES.map((rows) => [rows, ...net.outputShape]));
    expect(run.opTypes).not.toContain('Dropout');
    inputs.forEach((x, b) => {
      expectClose(run.outputs[b] as number[], net.predict(x), TOLERANCE, 1);
    });
  });

  it('declares opset 13, IR version 7 and ferronet as the producer, in standalone bytes', () => {
    for (const { name } of CASES) {
      expect(runs[name]).toMatchObject({ opset: [13], irVersion: 7, producer: ['ferronet', VERSION] });
      const { bytes } = exported.get(name) as Exported;
      // Its own buffer, as toBytes gives: a reader of bytes.buffer sees this model and nothing else.
      expect([bytes.byteOffset, bytes.buffer.byteLength]).toEqual([0, bytes.length]);
    }
  });

  it('transposes to channels first only around the layers that need it', () => {
    expect(runs['dense layers with every activation']?.opTypes).toEqual(['Gemm', 'Relu', 'Gemm', 'LeakyRelu', 'Gemm', 'Tanh', 'Gemm', 'Gemm', 'Sigmoid', 'Gemm', 'Softmax']);
    expect(runs['conv same and valid, kernel [3, 2], strides 2, max pooling, batch norm after conv']?.opTypes).toEqual([
      'Transpose',
      'Conv',
      'Relu',
      'BatchNormalization',
      'MaxPool',
      'Conv',
      'Tanh',
      'Transpose',
      'Flatten',
      'Gemm',
      'Softmax',
    ]);
    expect(runs['max pooling of negative images ignores padding, image output']?.opTypes).toEqual(['Transpose', 'MaxPool', 'BatchNormalization', 'Transpose']);
    expect(runs['dropout alone is the identity']?.opTypes).toEqual(['Identity']);
  });
});
