/**
 * Safetensors in PyTorch's names and layouts (ts/interop/safetensors.ts):
 * - round trips ferronet -> safetensors -> ferronet give bit-identical weights, the same layers
 *   and metadata, on every backend;
 * - the file as PyTorch sees it, read here straight from its bytes: the names, shapes and
 *   metadata the format promises, conv kernels `[out][in][kh][kw]`, and the parameters after a
 *   flatten in channels-first order, element by element;
 * - an independent reader, test/interop/numpy_forward.py (the `safetensors` package and numpy,
 *   nothing of ferronet), runs each network of test/interop/networks.ts from the file and
 *   matches `predict` within 1e-5 * max(1, |expected|): a float32 rounding apart, where any
 *   mistake of layout or padding moves outputs by 1e-2 or more;
 * - damaged and mismatched files are ModelFileErrors that say what is wrong, through both
 *   compiled readers.
 */

import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { ModelFileError, Network, type BackendName } from '../../ts/index.js';
import { Random } from '../../ts/random.js';
import { VERSION } from '../../ts/version.js';
import { backend, expectClose, uniformArray } from '../helpers.js';
import { CASES, variedWeights } from './networks.js';
import { missingPython, PYTHON } from './python.js';

const BACKENDS = ['ts', 'wasm', 'native'] as const satisfies readonly BackendName[];
const NUMPY_FORWARD = fileURLToPath(new URL('numpy_forward.py', import.meta.url));
const TOLERANCE = 1e-5;
const ROWS = 5;

const directory = await mkdtemp(join(tmpdir(), 'ferronet-safetensors-'));
afterAll(() => rm(directory, { recursive: true, force: true }));

/** One tensor of a file, as the format lays it out. */
interface FileTensor {
  name: string;
  dtype: string;
  shape: number[];
  data: Uint8Array;
}

/** A safetensors file taken apart by hand: the test's own reading of the format. */
function parseFile(bytes: Uint8Array): { headerLength: number; metadata: Record<string, string>; tensors: FileTensor[] } {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLength = Number(view.getBigUint64(0, true));
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLength))) as Record<string, unknown>;
  const { __metadata__: metadata, ...entries } = header;
  const tensors = Object.entries(entries as Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>)
    .sort(([, a], [, b]) => a.data_offsets[0] - b.data_offsets[0])
    .map(([name, { dtype, shape, data_offsets: [start, end] }]) => ({ name, dtype, shape, data: bytes.slice(8 + headerLength + start, 8 + headerLength + end) }));
  return { headerLength, metadata: metadata as Record<string, string>, tensors };
}

/** A safetensors file of `tensors` in order, with `metadata` when given. */
function buildFile(metadata: Record<string, string> | null, tensors: readonly FileTensor[]): Uint8Array {
  const header: Record<string, unknown> = metadata === null ? {} : { __metadata__: metadata };
  let offset = 0;
  for (const { name, dtype, shape, data } of tensors) {
    header[name] = { dtype, shape, data_offsets: [offset, offset + data.length] };
    offset += data.length;
  }
  const json = new TextEncoder().encode(JSON.stringify(header));
  const bytes = new Uint8Array(8 + json.length + offset);
  new DataView(bytes.buffer).setBigUint64(0, BigInt(json.length), true);
  bytes.set(json, 8);
  let at = 8 + json.length;
  for (const { data } of tensors) {
    bytes.set(data, at);
    at += data.length;
  }
  return bytes;
}

function floats(data: Uint8Array): Float32Array {
  return new Float32Array(data.slice().buffer);
}

/** Each case's network on ts with varied weights, and its file. */
const random = new Random(17);
const exported = await Promise.all(
  CASES.map(async ({ name, options, inputs = [-1, 1] }, index) => {
    const net = await Network.create({ ...options, backend: 'ts', seed: index + 1 });
    net.setWeights(variedWeights(net, random));
    net.metadata = { case: name, nested: { list: [1, 2.5, 'three'], flag: true } };
    return { name, net, bytes: net.toSafetensors(), x: uniformArray(random, ROWS * net.inputSize, ...inputs) };
  }),
);
afterAll(() => {
  for (const { net } of exported) net.dispose();
});

function exportOf(name: string): (typeof exported)[number] {
  const found = exported.find((entry) => entry.name === name);
  if (!found) throw new Error(`no case ${name}`);
  return found;
}

describe('ferronet -> safetensors -> ferronet', () => {
  it.each(CASES.map(({ name }) => name))('%s: exact weights, layers and metadata on every backend', async (name) => {
    const { net, bytes, x } = exportOf(name);
    for (const backendName of BACKENDS) {
      const back = await Network.fromSafetensors(bytes, { backend: backendName });
      expect(back.backend).toBe(backendName);
      expect(back.layers).toEqual(net.layers);
      expect(back.inputShape).toEqual(net.inputShape);
      expect(back.getWeights()).toEqual(net.getWeights());
      expect(back.metadata).toEqual(net.metadata);
      if (backendName === 'ts') expect(back.predict(x)).toEqual(net.predict(x));
      back.dispose();
    }
  });

  it('loads from a path with Network.loadSafetensors', async () => {
    const { net, bytes } = exportOf('dense layers with every activation');
    const path = join(directory, 'dense.safetensors');
    await writeFile(path, bytes);
    const back = await Network.loadSafetensors(path, { backend: 'ts' });
    expect(back.getWeights()).toEqual(net.getWeights());
    back.dispose();
  });
});

describe('the file as PyTorch reads it', () => {
  it('names every buffer layers.{i}.weight/bias (batch norm: running_mean, running_var) in PyTorch shapes, F32, 8-byte aligned data', () => {
    const { bytes } = exportOf('conv same and valid, kernel [3, 2], strides 2, max pooling, batch norm after conv');
    const { headerLength, tensors } = parseFile(bytes);
    expect(headerLength % 8).toBe(0);
    expect(tensors.map(({ name, dtype, shape }) => [name, dtype, shape])).toEqual([
      ['layers.0.weight', 'F32', [4, 3, 3, 2]],
      ['layers.0.bias', 'F32', [4]],
      ['layers.1.weight', 'F32', [4]],
      ['layers.1.bias', 'F32', [4]],
      ['layers.1.running_mean', 'F32', [4]],
      ['layers.1.running_var', 'F32', [4]],
      ['layers.3.weight', 'F32', [5, 4, 2, 2]],
      ['layers.3.bias', 'F32', [5]],
      ['layers.5.weight', 'F32', [3, 2 * 2 * 5]],
      ['layers.5.bias', 'F32', [3]],
    ]);
  });

  it('holds the architecture, the ferronet version and the metadata in __metadata__', () => {
    const { net, bytes } = exportOf('batch norm, dropout and activation layers on flat data');
    const { metadata } = parseFile(bytes);
    expect(metadata.format).toBe('ferronet');
    expect(metadata.ferronet).toBe(VERSION);
    expect(JSON.parse(metadata.inputShape as string)).toEqual([5]);
    expect(JSON.parse(metadata.layers as string)).toEqual([
      { type: 'dense', units: 6, activation: 'linear', useBias: true },
      { type: 'batchNorm', momentum: 0.99, epsilon: 0.01 },
      { type: 'activation', activation: 'leakyRelu', alpha: 0.3 },
      { type: 'dropout', rate: 0.5 },
      { type: 'dense', units: 4, activation: 'linear', useBias: true },
      { type: 'activation', activation: 'softmax' },
    ]);
    expect(JSON.parse(metadata.metadata as string)).toEqual(net.metadata);
  });

  it("stores conv kernels [out][in][kh][kw] and dense weights [out][in] as they are", () => {
    const { net, bytes } = exportOf('conv same and valid, kernel [3, 2], strides 2, max pooling, batch norm after conv');
    const { tensors } = parseFile(bytes);
    const conv = net.getWeights()[0]?.weights as Float32Array; // [4][3][2][3]: filters, kh, kw, in
    const file = floats(tensors[0]?.data as Uint8Array); // [4][3][3][2]: filters, in, kh, kw
    for (let o = 0; o < 4; o++) {
      for (let i = 0; i < 3; i++) {
        for (let y = 0; y < 3; y++) {
          for (let x = 0; x < 2; x++) expect(file[((o * 3 + i) * 3 + y) * 2 + x]).toBe(conv[((o * 3 + y) * 2 + x) * 3 + i]);
        }
      }
    }
    const dense = exportOf('dense layers with every activation');
    expect(floats(parseFile(dense.bytes).tensors[0]?.data as Uint8Array)).toEqual(dense.net.getWeights()[0]?.weights);
  });

  it('stores the parameters after a flatten in channels-first order: batch norm, then the first dense layer only', () => {
    // avgPool 'valid' leaves [2, 2, 3]: ferronet's feature (y, x, c) is (y * 2 + x) * 3 + c, PyTorch's c * 4 + y * 2 + x.
    const { net, bytes } = exportOf('average pooling same and valid, softmax over channels, batch norm after flatten');
    const byName = new Map(parseFile(bytes).tensors.map((tensor) => [tensor.name, floats(tensor.data)]));
    const weights = net.getWeights();
    const batchNorm = weights[5] as Record<string, Float32Array>;
    const dense = weights[7]?.weights as Float32Array; // [2][12]
    for (let y = 0; y < 2; y++) {
      for (let x = 0; x < 2; x++) {
        for (let c = 0; c < 3; c++) {
          const ours = (y * 2 + x) * 3 + c;
          const theirs = c * 4 + y * 2 + x;
          expect(byName.get('layers.5.weight')?.[theirs]).toBe(batchNorm.gamma?.[ours]);
          expect(byName.get('layers.5.running_var')?.[theirs]).toBe(batchNorm.movingVariance?.[ours]);
          for (let unit = 0; unit < 2; unit++) expect(byName.get('layers.7.weight')?.[unit * 12 + theirs]).toBe(dense[unit * 12 + ours]);
        }
      }
    }
    // A dense layer after the first one sees units, not pixels: stored as it is.
    const flat = exportOf('softmax and batch norm on an image before flatten, no convolution');
    expect(parseFile(flat.bytes).tensors.find(({ name }) => name === 'layers.1.running_mean')?.data).toEqual(
      new Uint8Array((flat.net.getWeights()[1]?.movingMean as Float32Array).slice().buffer),
    );
  });
});

const missing = missingPython(['numpy', 'safetensors']);

describe.skipIf(missing !== null)(`numpy's forward pass over the file${missing === null ? '' : ` (skipped: ${missing})`}`, () => {
  it.each(CASES.map(({ name }) => name))('%s: within 1e-5 of predict', async (name) => {
    const index = CASES.findIndex((entry) => entry.name === name);
    const { net, bytes, x } = exportOf(name);
    const model = join(directory, `numpy-${index}.safetensors`);
    const input = join(directory, `numpy-${index}.f32`);
    await writeFile(model, bytes);
    await writeFile(input, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
    const manifest = join(directory, `numpy-${index}.json`);
    await writeFile(manifest, JSON.stringify([{ name, model, input, rows: ROWS }]));
    const { stdout } = await promisify(execFile)(PYTHON, [NUMPY_FORWARD, manifest], { maxBuffer: 16 * 2 ** 20 });
    const run = JSON.parse(stdout.trim()) as { name: string; error?: string; output: number[]; shape: number[] };
    expect(run.error).toBeUndefined();
    expect(run.shape).toEqual([ROWS, ...net.outputShape]);
    expectClose(run.output, net.predict(x), TOLERANCE, 1);
  });
});

describe('bad files', () => {
  const good = exportOf('batch norm, dropout and activation layers on flat data').bytes;
  const { metadata, tensors } = parseFile(good);

  /** The good file's tensors with `edit` applied to the one named `name`. */
  function editTensor(name: string, edit: (tensor: FileTensor) => FileTensor): FileTensor[] {
    return tensors.map((tensor) => (tensor.name === name ? edit(tensor) : tensor));
  }

  async function rejection(bytes: Uint8Array): Promise<Error> {
    const error = await Network.fromSafetensors(bytes, { backend: 'ts' }).then(
      () => null,
      (thrown: unknown) => thrown,
    );
    expect(error).toBeInstanceOf(ModelFileError);
    return error as Error;
  }

  const longHeader = good.slice();
  new DataView(longHeader.buffer).setBigUint64(0, 2n ** 40n, true);
  const pastTheEnd = good.slice();
  new DataView(pastTheEnd.buffer).setBigUint64(0, BigInt(good.length), true);
  const asFloat64 = (tensor: FileTensor): FileTensor => ({ ...tensor, dtype: 'F64', data: new Uint8Array(Float64Array.from(floats(tensor.data)).buffer) });
  const cases: [string, Uint8Array, RegExp][] = [
    ['empty', new Uint8Array(), /^bytes: not a safetensors file: header too small$/],
    ['truncated by one byte', good.subarray(0, good.length - 1), /not fully covered/],
    ['a header length of 2^40', longHeader, /header too large/],
    ['a header longer than the file', pastTheEnd, /invalid header length/],
    ['a header that is not JSON', buildFile(null, []).fill(0x7b, 8), /invalid JSON in header/],
    ['float64 weights', buildFile(metadata, editTensor('layers.0.weight', asFloat64)), /tensor "layers\.0\.weight": dtype F64, expected F32/],
    ['a transposed dense weight', buildFile(metadata, editTensor('layers.0.weight', (tensor) => ({ ...tensor, shape: [5, 6] }))), /tensor "layers\.0\.weight": shape \[5, 6\], where layers\[0\] \(dense\) needs \[6, 5\]/],
    ['a missing bias', buildFile(metadata, tensors.filter(({ name }) => name !== 'layers.0.bias')), /layers\[0\] \(dense\): no tensor "layers\.0\.bias" in the file/],
    ['an extra tensor', buildFile(metadata, [...tensors, { name: 'layers.9.weight', dtype: 'F32', shape: [1], data: new Uint8Array(4) }]), /tensor "layers\.9\.weight" belongs to none of the layers' parameters/],
    ['no __metadata__ (a plain PyTorch state dict)', buildFile(null, tensors), /no ferronet architecture in __metadata__/],
    ['layers that are not JSON', buildFile({ ...metadata, layers: '[{' }, tensors), /__metadata__\.layers is not JSON/],
    ['an unknown layer type', buildFile({ ...metadata, layers: '[{"type":"lstm","units":6}]' }, tensors), /layers\[0\]\.type/],
    ['layers that do not match the tensors', buildFile({ ...metadata, layers: metadata.layers?.replace('"units":6', '"units":7') as string }, tensors), /needs \[7, 5\]/],
    ['metadata that is not an object', buildFile({ ...metadata, metadata: '[1]' }, tensors), /metadata/],
  ];

  it.each(cases)('%s: a ModelFileError that says so', async (_, bytes, message) => {
    const error = await rejection(bytes);
    expect(error.message).toMatch(/^bytes: /);
    expect(error.message).toMatch(message);
  });

  it('says which file when loading from a path', async () => {
    const path = join(directory, 'truncated.safetensors');
    await writeFile(path, good.subarray(0, 100));
    await expect(Network.loadSafetensors(path)).rejects.toThrow(new RegExp(`^${path.replace(/[.]/g, '\\.')}: not a safetensors file`));
  });

  it('both compiled readers refuse a damaged file with the same reason, and keep working', async () => {
    for (const name of ['wasm', 'native'] as const) {
      const { safetensorsIndex } = await backend(name);
      expect(() => safetensorsIndex?.(good.subarray(0, good.length - 1))).toThrow('not a safetensors file: incomplete metadata, file not fully covered');
      expect(JSON.parse(safetensorsIndex?.(good) ?? 'null')).toMatchObject({ metadata: { format: 'ferronet' } });
    }
  });

  it("ignores PyTorch's num_batches_tracked, which state_dict() holds", async () => {
    const tracked = { name: 'layers.1.num_batches_tracked', dtype: 'I64', shape: [], data: new Uint8Array(8) };
    const back = await Network.fromSafetensors(buildFile(metadata, [...tensors, tracked]), { backend: 'ts' });
    expect(back.getWeights()).toEqual(exportOf('batch norm, dropout and activation layers on flat data').net.getWeights());
    back.dispose();
  });

  it('refuses what is not a Uint8Array with a TypeError', async () => {
    await expect(Network.fromSafetensors([1, 2] as unknown as Uint8Array)).rejects.toThrow(TypeError);
    await expect(Network.fromSafetensors([1, 2] as unknown as Uint8Array)).rejects.toThrow(/bytes: expected a Uint8Array \(a safetensors file\)/);
  });
});
