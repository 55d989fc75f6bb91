/** Saving and loading networks: exact round trips on every backend, and clear refusals of bad files. */

import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { crc32 as zlibCrc32 } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../ts/backends/backend.js';
import { crc32 } from '../../ts/io/crc32.js';
import { MODEL_FILE_VERSION } from '../../ts/io/model-file.js';
import { ModelFileError, Network, planarDataset, Random, Trainer, type JsonObject, type LayerConfig } from '../../ts/index.js';
import { VERSION } from '../../ts/version.js';
import { uniformArray } from '../helpers.js';

const { x, y } = planarDataset();
const directory = await mkdtemp(join(tmpdir(), 'ferronet-model-file-'));
afterAll(() => rm(directory, { recursive: true, force: true }));

async function trainedNetwork(backend: (typeof BACKEND_NAMES)[number] = 'ts'): Promise<Network> {
  const net = await Network.create({
    inputSize: 2,
    layers: [{ units: 5, activation: 'leakyRelu', alpha: 0.2 }, { units: 3, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }],
    seed: 7,
    backend,
  });
  await new Trainer(net, { optimizer: { name: 'adam', learningRate: 0.02 }, batchSize: 100 }).fit(x, y, { epochs: 3 });
  return net;
}

/** Rewrites the checksum so that a deliberate edit is seen as intact. */
function withChecksum(bytes: Uint8Array): Uint8Array {
  const copy = bytes.slice();
  new DataView(copy.buffer).setUint32(copy.length - 4, crc32(copy.subarray(0, copy.length - 4)), true);
  return copy;
}

it('computes the CRC-32 of gzip and PNG', () => {
  expect(crc32(new TextEncoder().encode('123456789'))).toBe(0xcbf43926);
  expect(crc32(new Uint8Array())).toBe(0);
  const bytes = new Uint8Array(uniformArray(new Random(3), 1000).buffer);
  expect(crc32(bytes)).toBe(zlibCrc32(bytes));
});

it('writes the version package.json declares', async () => {
  const packageJson = JSON.parse(await readFile(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  expect(VERSION).toBe(packageJson.version);
});

describe.each(BACKEND_NAMES)('%s backend', (backend) => {
  it('round-trips through bytes and files with identical predictions, training record and metadata', async () => {
    const net = await trainedNetwork(backend);
    net.metadata = { classes: ['outside', 'petal'], scale: { mean: [0.5, -1], std: [2, 3] }, note: 'Ünïcode ✓', empty: null };
    const path = join(directory, `${backend}.fnet`);
    await net.save(path);
    expect(await readdir(directory)).not.toContain(`${backend}.fnet.${process.pid}.partial`);
    for (const loaded of [await Network.fromBytes(net.toBytes(), { backend }), await Network.load(path, { backend })]) {
      expect(loaded.backend).toBe(backend);
      expect(loaded.layers).toEqual(net.layers);
      expect(loaded.seed).toBe(7);
      expect(loaded.getWeights()).toEqual(net.getWeights());
      expect(loaded.predict(x)).toEqual(net.predict(x));
      expect(loaded.evaluate(x, y)).toEqual(net.evaluate(x, y));
      expect(loaded.metadata).toEqual(net.metadata);
      expect(loaded.training).toEqual(net.training);
      loaded.dispose();
    }
    expect(net.training).toEqual({
      loss: 'binaryCrossEntropy',
      optimizer: { name: 'adam', learningRate: 0.02, momentum: 0, beta1: 0.9, beta2: 0.999, epsilon: 1e-7, rho: 0, weightDecay: 0 },
      batchSize: 100,
      epochs: 3,
    });
    net.dispose();
  });
});

it('loads a model saved on one backend onto another', async () => {
  const net = await trainedNetwork('native');
  const onWasm = await Network.fromBytes(net.toBytes(), { backend: 'wasm' });
  expect(onWasm.getWeights()).toEqual(net.getWeights());
  const expected = net.predict(x);
  onWasm.predict(x).forEach((p, i) => expect(p).toBeCloseTo(expected[i] as number, 5));
});

it('counts epochs across saving and further training', async () => {
  const net = await trainedNetwork();
  const loaded = await Network.fromBytes(net.toBytes());
  expect(loaded.training?.epochs).toBe(3);
  await new Trainer(loaded, { optimizer: 'sgd', batchSize: 400 }).fit(x, y, { epochs: 2 });
  expect(loaded.training).toMatchObject({ epochs: 5, batchSize: 400, optimizer: { name: 'sgd' } });
  const untrained = await Network.create({ inputSize: 2, layers: [{ units: 1 }] });
  expect(untrained.training).toBeNull();
  expect((await Network.fromBytes(untrained.toBytes())).training).toBeNull();
});

it('lays out the file as docs/model-format.md says', async () => {
  const net = await Network.create({ inputSize: 3, layers: [{ units: 2, activation: 'relu' }], seed: 4 });
  net.setWeights([{ weights: Float32Array.of(1, 2, 3, 4, 5, 6), bias: Float32Array.of(-0.5, 0.25) }]);
  const bytes = net.toBytes();
  const view = new DataView(bytes.buffer);
  expect(Array.from(bytes.subarray(0, 8))).toEqual([0x89, 0x46, 0x4e, 0x54, 0x0d, 0x0a, 0x1a, 0x0a]);
  expect(view.getUint32(8, true)).toBe(MODEL_FILE_VERSION);
  const headerLength = view.getUint32(12, true);
  expect(headerLength % 4).toBe(0);
  expect(view.getUint32(16, true)).toBe(8);
  expect(JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + headerLength)))).toEqual({
    ferronet: VERSION,
    inputShape: [3],
    layers: [{ type: 'dense', units: 2, activation: 'relu', useBias: true }],
    seed: 4,
    training: null,
    metadata: {},
  });
  const weights = Array.from({ length: 8 }, (_, i) => view.getFloat32(20 + headerLength + 4 * i, true));
  expect(weights).toEqual([1, 2, 3, 4, 5, 6, -0.5, 0.25]);
  expect(bytes.length).toBe(20 + headerLength + 32 + 4);
  expect(view.getUint32(bytes.length - 4, true)).toBe(zlibCrc32(bytes.subarray(0, bytes.length - 4)));
});

/** The example network of every layer kind, on small images. */
const CNN_LAYERS: LayerConfig[] = [
  { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' },
  { type: 'maxPool2d', poolSize: 2 },
  { type: 'batchNorm', momentum: 0.9 },
  { type: 'conv2d', filters: 3, kernelSize: [2, 3], strides: [1, 2], activation: 'leakyRelu', alpha: 0.2, useBias: false },
  { type: 'avgPool2d', poolSize: 2, strides: 1, padding: 'same' },
  { type: 'activation', activation: 'tanh' },
  { type: 'flatten' },
  { type: 'dropout', rate: 0.25 },
  { type: 'dense', units: 6, activation: 'relu' },
  { units: 3, activation: 'softmax' },
];

async function trainedCnn(): Promise<{ net: Network; x: Float32Array; labels: Uint8Array }> {
  const random = new Random(8);
  const x = uniformArray(random, 12 * 8 * 8 * 2, 0, 1);
  const labels = Uint8Array.from({ length: 12 }, () => random.below(3));
  const net = await Network.create({ inputShape: [8, 8, 2], layers: CNN_LAYERS, seed: 5, backend: 'ts' });
  await new Trainer(net, { batchSize: 4 }).fit(x, labels, { epochs: 2 });
  return { net, x, labels };
}

it('round-trips a network of every layer kind through format version 2', async () => {
  const { net, x, labels } = await trainedCnn();
  const bytes = net.toBytes();
  expect(new DataView(bytes.buffer).getUint32(8, true)).toBe(2);
  const headerLength = new DataView(bytes.buffer).getUint32(12, true);
  const header = JSON.parse(new TextDecoder().decode(bytes.subarray(20, 20 + headerLength))) as { inputShape: number[]; layers: unknown[] };
  expect(header.inputShape).toEqual([8, 8, 2]);
  expect(header.layers[3]).toEqual({ type: 'conv2d', filters: 3, kernelSize: [2, 3], strides: [1, 2], padding: 'valid', activation: 'leakyRelu', alpha: 0.2, useBias: false });
  expect(header.layers[2]).toEqual({ type: 'batchNorm', momentum: 0.9, epsilon: 1e-3 });
  const loaded = await Network.fromBytes(bytes, { backend: 'ts' });
  expect(loaded.inputShape).toEqual([8, 8, 2]);
  expect(loaded.layers).toEqual(net.layers);
  expect(loaded.summary()).toBe(net.summary());
  const weights = net.getWeights();
  expect(weights[2]?.movingVariance?.some((variance) => variance !== 1)).toBe(true); // training moved the statistics
  expect(loaded.getWeights()).toEqual(weights);
  expect(loaded.predict(x)).toEqual(net.predict(x));
  expect(loaded.evaluate(x, labels)).toEqual(net.evaluate(x, labels));
  expect(loaded.training).toEqual(net.training);
  loaded.dispose();
  net.dispose();
});

/** A model file as format version 1 wrote them: `inputSize` and untyped dense layers. */
function versionOneFile(header: object, parameters: number[]): Uint8Array {
  const json = new TextEncoder().encode(JSON.stringify(header));
  const headerLength = Math.ceil(json.length / 4) * 4;
  const bytes = new Uint8Array(20 + headerLength + 4 * parameters.length + 4);
  const view = new DataView(bytes.buffer);
  bytes.set([0x89, 0x46, 0x4e, 0x54, 0x0d, 0x0a, 0x1a, 0x0a]);
  view.setUint32(8, 1, true);
  view.setUint32(12, headerLength, true);
  view.setUint32(16, parameters.length, true);
  bytes.set(json, 20);
  bytes.fill(0x20, 20 + json.length, 20 + headerLength);
  parameters.forEach((value, i) => {
    view.setFloat32(20 + headerLength + 4 * i, value, true);
  });
  view.setUint32(bytes.length - 4, zlibCrc32(bytes.subarray(0, bytes.length - 4)), true);
  return bytes;
}

it('still reads format version 1', async () => {
  const training = { loss: 'meanSquaredError', optimizer: { name: 'sgd', learningRate: 0.5 }, batchSize: 2, epochs: 4 };
  const header = { ferronet: '0.1.0', inputSize: 3, layers: [{ units: 2, activation: 'leakyRelu', alpha: 0.5 }, { units: 1 }], seed: 4, training, metadata: { note: 'v1' } };
  const loaded = await Network.fromBytes(versionOneFile(header, [1, -2, 3, -4, 5, -6, 0.5, -0.5, 2, 1, 0.25]), { backend: 'ts' });
  expect(loaded.inputShape).toEqual([3]);
  expect(loaded.layers).toEqual([
    { type: 'dense', inputShape: [3], outputShape: [2], inputs: 3, units: 2, activation: 'leakyRelu', alpha: 0.5, useBias: true },
    { type: 'dense', inputShape: [2], outputShape: [1], inputs: 2, units: 1, activation: 'linear', alpha: 0, useBias: true },
  ]);
  expect(loaded.getWeights()).toEqual([
    { weights: Float32Array.of(1, -2, 3, -4, 5, -6), bias: Float32Array.of(0.5, -0.5) },
    { weights: Float32Array.of(2, 1), bias: Float32Array.of(0.25) },
  ]);
  expect(loaded.seed).toBe(4);
  expect(loaded.metadata).toEqual({ note: 'v1' });
  expect(loaded.training).toMatchObject({ loss: 'meanSquaredError', batchSize: 2, epochs: 4, optimizer: { name: 'sgd', learningRate: 0.5 } });
  // [1, 1, 1]: hidden [1 - 2 + 3 + 0.5, -4 + 5 - 6 - 0.5] = [2.5, -5.5] -> leaky [2.5, -2.75]; output 5 - 2.75 + 0.25.
  expect(loaded.predict(Float32Array.of(1, 1, 1))).toEqual(Float32Array.of(2.5));
  // Saving writes version 2, which reads back the same network.
  const again = await Network.fromBytes(loaded.toBytes(), { backend: 'ts' });
  expect(again.layers).toEqual(loaded.layers);
  expect(again.getWeights()).toEqual(loaded.getWeights());
  loaded.dispose();
  again.dispose();
});

describe('refuses bad files with a clear error, never garbage weights', () => {
  const good = (async () => (await trainedNetwork()).toBytes())();

  it('truncated', async () => {
    const bytes = await good;
    for (const length of [0, 5, 12, 100, bytes.length - 1]) {
      await expect(Network.fromBytes(bytes.subarray(0, length))).rejects.toThrow(/^bytes: truncated: \d+ bytes, /);
    }
    const path = join(directory, 'truncated.fnet');
    await writeFile(path, bytes.subarray(0, bytes.length - 10));
    await expect(Network.load(path)).rejects.toThrow(new ModelFileError(`${path}: truncated: ${bytes.length - 10} bytes, the file says it has ${bytes.length}`));
  });

  it('corrupted', async () => {
    const bytes = await good;
    for (const at of [30, bytes.length - 20, bytes.length - 2]) {
      const damaged = bytes.slice();
      damaged[at] = (damaged[at] as number) ^ 0x10;
      await expect(Network.fromBytes(damaged)).rejects.toThrow('bytes: corrupted: the checksum does not match the contents');
    }
    const longer = new Uint8Array(bytes.length + 4);
    longer.set(bytes);
    await expect(Network.fromBytes(longer)).rejects.toThrow(`bytes: corrupted: ${bytes.length + 4} bytes, the file says it has ${bytes.length}`);
  });

  it('wrong magic', async () => {
    const png = Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0);
    await expect(Network.fromBytes(png)).rejects.toThrow(
      'bytes: not a ferronet model (it starts with 89 50 4e 47 0d 0a 1a 0a, a model starts with 89 46 4e 54 0d 0a 1a 0a)',
    );
    const crlf = (await good).slice();
    crlf[6] = 0x0a; // what a text-mode transfer does to "\r\n"
    await expect(Network.fromBytes(crlf)).rejects.toThrow(/^bytes: not a ferronet model/);
  });

  it('future version', async () => {
    const future = (await good).slice();
    new DataView(future.buffer).setUint32(8, MODEL_FILE_VERSION + 1, true);
    await expect(Network.fromBytes(withChecksum(future))).rejects.toThrow(
      `bytes: written in model format version ${MODEL_FILE_VERSION + 1}, newer than this ferronet (${VERSION}) reads (${MODEL_FILE_VERSION}); upgrade ferronet`,
    );
    await expect(Network.fromBytes(future)).rejects.toThrow('bytes: corrupted: the checksum does not match the contents');
  });

  it('a header that disagrees with the weights or is invalid', async () => {
    const bytes = await good;
    const headerLength = new DataView(bytes.buffer).getUint32(12, true);
    const header = new TextDecoder().decode(bytes.subarray(20, 20 + headerLength));
    const edit = (from: string, to: string): Uint8Array => {
      const edited = bytes.slice();
      const replaced = header.replace(from, to);
      expect(replaced.length).toBe(header.length);
      edited.set(new TextEncoder().encode(replaced), 20);
      return withChecksum(edited);
    };
    await expect(Network.fromBytes(edit('"units":5', '"units":4'))).rejects.toThrow('bytes: its layers need 31 parameters, the file holds 37');
    await expect(Network.fromBytes(edit('"units":5', '"units":0'))).rejects.toThrow(
      'bytes: invalid header: layers[0].units: expected a positive integer, got 0',
    );
    await expect(Network.fromBytes(edit('"tanh"', '"gelu"'))).rejects.toThrow(/^bytes: invalid header: layers\[1\]\.activation: expected one of/);
    await expect(Network.fromBytes(edit('{"ferronet"', '["ferronet"'))).rejects.toThrow(/^bytes: its header is not JSON/);
  });

  it('an unknown or corrupted layer type, and impossible parameters', async () => {
    const { net } = await trainedCnn();
    const bytes = net.toBytes();
    const headerLength = new DataView(bytes.buffer).getUint32(12, true);
    const header = new TextDecoder().decode(bytes.subarray(20, 20 + headerLength));
    const edit = (from: string, to: string): Uint8Array => {
      const edited = bytes.slice();
      const replaced = header.replace(from, to);
      expect(replaced).not.toBe(header);
      edited.set(new TextEncoder().encode(replaced.padEnd(header.length)), 20);
      return withChecksum(edited);
    };
    const refusal = (promise: Promise<Network>): Promise<unknown> => promise.catch((error: unknown) => error);
    const unknown = await refusal(Network.fromBytes(edit('"type":"batchNorm"', '"type":"groupNorm"')));
    expect(unknown).toBeInstanceOf(ModelFileError);
    expect((unknown as Error).message).toMatch(/^bytes: invalid header: layers\[2\]\.type: expected one of 'dense', 'conv2d', .* got "groupNorm"$/);
    const missing = await refusal(Network.fromBytes(edit('"type":"flatten"', '"tape":"flatten"')));
    expect(missing).toBeInstanceOf(ModelFileError);
    // Without its type the layer reads as a dense one, whose keys these are not.
    expect((missing as Error).message).toMatch(/^bytes: invalid header: layers\[6\]\.tape: expected one of units, activation, alpha, useBias, type, got "tape"$/);
    const swapped = await refusal(Network.fromBytes(edit('"type":"maxPool2d"', '"type":"avgPool2d"')));
    expect(swapped).toBeInstanceOf(Network); // a valid architecture with the same parameters loads: the checksum guards the rest
    (swapped as Network).dispose();
    const broken = await refusal(Network.fromBytes(edit('"inputShape":[8,8,2]', '"inputShape":[8,8]')));
    expect(broken).toBeInstanceOf(ModelFileError);
    expect((broken as Error).message).toMatch(/^bytes: invalid header: inputShape: expected \[features\] or \[height, width, channels\]/);

    // A negative moving variance behind an intact checksum: batch norm's movingVariance is the 5th buffer (conv weights, bias, gamma, beta, movingMean).
    const offset = 20 + headerLength + 4 * (4 * 3 * 3 * 2 + 4 + 3 * 4);
    const negative = bytes.slice();
    new DataView(negative.buffer).setFloat32(offset + 4, -1, true);
    const refused = await refusal(Network.fromBytes(withChecksum(negative)));
    expect(refused).toBeInstanceOf(ModelFileError);
    expect((refused as Error).message).toBe('bytes: invalid parameters: layers[2].movingVariance: expected values of at least 0 (a variance), got -1 at layers[2].movingVariance[1]');
    net.dispose();
  });

  it('non-bytes and metadata JSON cannot hold', async () => {
    await expect(Network.fromBytes([1, 2, 3] as never)).rejects.toThrow(new TypeError('bytes: expected a Uint8Array, got an Array of length 3'));
    await expect(Network.load(join(directory, 'missing.fnet'))).rejects.toThrow(/ENOENT/);
    const net = await Network.create({ inputSize: 2, layers: [{ units: 1 }] });
    net.metadata = { scale: { mean: [1, NaN] } };
    expect(() => net.toBytes()).toThrow(new TypeError('metadata.scale.mean[1]: expected a JSON value, got NaN'));
    net.metadata = { when: new Date(0) } as unknown as JsonObject;
    expect(() => net.toBytes()).toThrow(new TypeError('metadata.when: expected a JSON value, got a Date'));
    net.metadata = [] as unknown as JsonObject;
    expect(() => net.toBytes()).toThrow(new TypeError('metadata: expected a JSON object, got an Array of length 0'));
  });
});
