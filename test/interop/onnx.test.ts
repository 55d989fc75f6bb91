/**
 * Network.toOnnx checked by independent readers: ONNX's checker (full_check, which runs shape
 * inference against the declared input and output) and onnxruntime's CPU session, through
 * test/interop/run_onnx.py, once for every network of test/interop/networks.ts (every layer
 * kind and activation, and the geometry that tells ONNX's conventions from ferronet's).
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
import { Network } from '../../ts/index.js';
import { Random } from '../../ts/random.js';
import { VERSION } from '../../ts/version.js';
import { expectClose, uniformArray } from '../helpers.js';
import { CASES, variedWeights } from './networks.js';
import { missingPython, PYTHON } from './python.js';

const RUN_ONNX = fileURLToPath(new URL('run_onnx.py', import.meta.url));
const TOLERANCE = 1e-5;
const BATCHES = [1, 5];

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
