/**
 * TensorFlow.js layers models in and out (ts/interop/tfjs.ts), against TensorFlow.js itself
 * (@tensorflow/tfjs on its cpu backend):
 * - models that tfjs builds and saves, covering every layer class and activation ferronet reads,
 *   load through Network.fromTfjs and Network.loadTfjs (two shards, one in a subfolder) and
 *   predict within 1e-5 of tfjs's own model.predict, on every backend;
 * - ferronet's networks, through toTfjs and tf.loadLayersModel, predict within 1e-5 of
 *   net.predict, and come back through fromTfjs with the same layers and bit-identical weights;
 * - bad files are ModelFileErrors that say what is wrong.
 *
 * Every weight is random (biases and moving statistics too), so a transposed kernel, a lost
 * bias, a missed moving statistic or a wrong default (LeakyReLU's 0.3) moves predictions by
 * far more than 1e-5. Outputs are O(1): the tolerance is 1e-5 * max(1, |expected|).
 */

import * as tf from '@tensorflow/tfjs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ModelFileError, Network, type BackendName, type LayerConfig, type LayerWeights } from '../../ts/index.js';
import { readTfjs } from '../../ts/interop/tfjs.js';
import { Random } from '../../ts/random.js';
import { expectClose, uniformArray } from '../helpers.js';

const BACKENDS = ['ts', 'wasm', 'native'] as const satisfies readonly BackendName[];
const TOLERANCE = 1e-5;
const SAMPLES = 4;

const directory = await mkdtemp(join(tmpdir(), 'ferronet-tfjs-'));
beforeAll(async () => {
  await tf.setBackend('cpu');
});
afterAll(() => rm(directory, { recursive: true, force: true }));

/** A model.json as parsed JSON, for tests to take apart. */
type ModelJson = Record<string, unknown> & { weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[] };

/** What tfjs's model.save gives, as a model.json (as tfjs's file and download handlers write it) and the weight bytes. */
async function saveTfjs(model: tf.LayersModel): Promise<{ modelJson: ModelJson; weightData: ArrayBuffer }> {
  let saved: tf.io.ModelArtifacts | null = null;
  await model.save(
    tf.io.withSaveHandler((artifacts) => {
      saved = artifacts;
      return Promise.resolve({ modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } });
    }),
  );
  const { modelTopology, format, generatedBy, convertedBy, weightSpecs, weightData } = saved as unknown as tf.io.ModelArtifacts;
  if (!(weightData instanceof ArrayBuffer) || weightSpecs === undefined) throw new Error('expected tfjs to save one ArrayBuffer of weights with their specs');
  const modelJson = { modelTopology, format, generatedBy, convertedBy, weightsManifest: [{ paths: ['weights.bin'], weights: weightSpecs }] };
  // Through JSON text, as a file gives it.
  return { modelJson: JSON.parse(JSON.stringify(modelJson)) as ModelJson, weightData };
}

/** Every weight of `model` drawn from `random`: uniform in [-1, 1], moving variances in [0.5, 2]. */
function randomizeTfjs(model: tf.LayersModel, random: Random): void {
  for (const layer of model.layers) {
    const weights = layer.weights.map((weight) => {
      const variance = weight.originalName.endsWith('moving_variance');
      const size = weight.shape.reduce((product: number, extent) => product * (extent as number), 1);
      return tf.tensor(uniformArray(random, size, variance ? 0.5 : -1, variance ? 2 : 1), weight.shape as number[]);
    });
    layer.setWeights(weights);
    tf.dispose(weights);
  }
}

/** Every buffer of `net` drawn from `random`, as {@link randomizeTfjs} draws them. */
function randomizeNetwork(net: Network, random: Random): void {
  const weights = net.getWeights().map(
    (entry): LayerWeights =>
      Object.fromEntries(
        Object.entries(entry).map(([name, values]) => {
          const variance = name === 'movingVariance';
          return [name, uniformArray(random, values.length, variance ? 0.5 : -1, variance ? 2 : 1)];
        }),
      ),
  );
  net.setWeights(weights);
}

function tfjsPredict(model: tf.LayersModel, x: Float32Array, inputShape: readonly number[]): Float32Array {
  return tf.tidy(() => (model.predict(tf.tensor(x, [SAMPLES, ...inputShape])) as tf.Tensor).dataSync() as Float32Array);
}

function expectPredictions(got: Float32Array, expected: Float32Array): void {
  expect(got.length).toBeGreaterThan(0);
  expectClose(got, expected, TOLERANCE, 1);
}

/** The bits of a buffer, for bit-exact comparisons (+0 and -0 differ, as do NaN payloads). */
function bits(values: Float32Array | undefined): Uint32Array {
  if (values === undefined) throw new Error('expected a buffer');
  return new Uint32Array(values.buffer, values.byteOffset, values.length);
}

function expectSameWeights(got: Network, expected: Network): void {
  const gotWeights = got.getWeights();
  const expectedWeights = expected.getWeights();
  expect(gotWeights.map((entry) => Object.keys(entry))).toEqual(expectedWeights.map((entry) => Object.keys(entry)));
  expectedWeights.forEach((entry, l) => {
    for (const [name, values] of Object.entries(entry)) expect(bits(gotWeights[l]?.[name as keyof LayerWeights]), `layer ${l} ${name}`).toEqual(bits(values));
  });
}

/** Writes a model.json and its weights split into two shards (one in a subfolder), as the Python converter shards them (anywhere in a weight). */
async function writeTwoShards(folder: string, modelJson: ModelJson, weightData: ArrayBuffer): Promise<string> {
  await mkdir(join(folder, 'shards'), { recursive: true });
  const bytes = new Uint8Array(weightData);
  const split = Math.floor(bytes.length / 2) + 1; // odd: the second shard starts inside a float
  const paths = ['group1-shard1of2.bin', 'shards/group1-shard2of2.bin'];
  await writeFile(join(folder, paths[0] as string), bytes.subarray(0, split));
  await writeFile(join(folder, paths[1] as string), bytes.subarray(split));
  const weights = modelJson.weightsManifest.flatMap((group) => group.weights);
  await writeFile(join(folder, 'model.json'), JSON.stringify({ ...modelJson, weightsManifest: [{ paths, weights }] }));
  return join(folder, 'model.json');
}

/** tfjs models covering every class and activation ferronet reads, with the ferronet layer types they become. */
const TFJS_CASES: { name: string; inputShape: number[]; build: () => tf.Sequential; types: string[] }[] = [
  {
    name: 'Dense with each activation, with and without bias',
    inputShape: [5],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [5], units: 6, activation: 'relu' }),
          tf.layers.dense({ units: 5, activation: 'tanh' }),
          tf.layers.dense({ units: 4, activation: 'sigmoid', useBias: false }),
          tf.layers.dense({ units: 4, activation: 'linear' }),
          tf.layers.dense({ units: 3, activation: 'softmax' }),
        ],
      }),
    types: ['dense', 'dense', 'dense', 'dense', 'dense'],
  },
  {
    name: "Conv2D 'same' and 'valid', strided, non-square kernels, then Flatten and Dense",
    inputShape: [7, 6, 2],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.inputLayer({ inputShape: [7, 6, 2] }),
          tf.layers.conv2d({ filters: 3, kernelSize: [3, 2], strides: [2, 1], padding: 'same', activation: 'relu' }),
          tf.layers.conv2d({ filters: 2, kernelSize: [2, 3], strides: 2, padding: 'valid', activation: 'tanh', useBias: false }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 3 }),
        ],
      }),
    types: ['conv2d', 'conv2d', 'flatten', 'dense'],
  },
  {
    name: "MaxPooling2D and AveragePooling2D, 'same' and 'valid'",
    inputShape: [7, 7, 2],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [7, 7, 2], filters: 3, kernelSize: 3, padding: 'same', activation: 'sigmoid' }),
          tf.layers.averagePooling2d({ poolSize: 3, strides: 2, padding: 'same' }),
          tf.layers.maxPooling2d({ poolSize: [3, 2], strides: [2, 1], padding: 'same' }),
          tf.layers.averagePooling2d({ poolSize: 2, padding: 'valid' }),
          tf.layers.maxPooling2d({ poolSize: [1, 2], padding: 'valid' }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 2, activation: 'softmax' }),
        ],
      }),
    types: ['conv2d', 'avgPool2d', 'maxPool2d', 'avgPool2d', 'maxPool2d', 'flatten', 'dense'],
  },
  {
    name: 'BatchNormalization after Conv2D and after Dense (momentum, epsilon, without center, without scale)',
    inputShape: [5, 5, 2],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [5, 5, 2], filters: 4, kernelSize: 3 }),
          tf.layers.batchNormalization(),
          tf.layers.activation({ activation: 'relu' }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 6 }),
          tf.layers.batchNormalization({ momentum: 0.9, epsilon: 0.01, center: false }),
          tf.layers.dense({ units: 3 }),
          tf.layers.batchNormalization({ scale: false }),
        ],
      }),
    types: ['conv2d', 'batchNorm', 'activation', 'flatten', 'dense', 'batchNorm', 'dense', 'batchNorm'],
  },
  {
    name: 'Dropout, Activation and LeakyReLU (its alpha, and Keras\'s default 0.3)',
    inputShape: [6],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.dense({ inputShape: [6], units: 8 }),
          tf.layers.leakyReLU({ alpha: 0.2 }),
          tf.layers.dropout({ rate: 0.25 }),
          tf.layers.dense({ units: 5 }),
          tf.layers.leakyReLU(),
          tf.layers.activation({ activation: 'tanh' }),
          tf.layers.dense({ units: 3 }),
          tf.layers.activation({ activation: 'softmax' }),
        ],
      }),
    types: ['dense', 'activation', 'dropout', 'dense', 'activation', 'activation', 'dense', 'activation'],
  },
  {
    name: 'LeakyReLU after Conv2D, Dropout on an image',
    inputShape: [4, 4, 1],
    build: () =>
      tf.sequential({
        layers: [
          tf.layers.conv2d({ inputShape: [4, 4, 1], filters: 2, kernelSize: 2, padding: 'same' }),
          tf.layers.leakyReLU({ alpha: 0.1 }),
          tf.layers.dropout({ rate: 0.5 }),
          tf.layers.flatten(),
          tf.layers.dense({ units: 2, activation: 'sigmoid' }),
        ],
      }),
    types: ['conv2d', 'activation', 'dropout', 'flatten', 'dense'],
  },
];

describe('models built and saved by TensorFlow.js', () => {
  describe.each(TFJS_CASES.map((c, i) => [c.name, c, i] as const))('%s', (_, c, caseIndex) => {
    let saved: { modelJson: ModelJson; weightData: ArrayBuffer };
    let expected: Float32Array;
    let x: Float32Array;
    let modelJsonPath: string;
    beforeAll(async () => {
      const random = new Random(100 + caseIndex);
      const model = c.build();
      randomizeTfjs(model, random);
      x = uniformArray(random, SAMPLES * c.inputShape.reduce((a, b) => a * b, 1), -2, 2);
      expected = tfjsPredict(model, x, c.inputShape);
      saved = await saveTfjs(model);
      model.dispose();
      modelJsonPath = await writeTwoShards(join(directory, `tfjs-${caseIndex}`), saved.modelJson, saved.weightData);
    });

    it.each(BACKENDS)('predict like tfjs on the %s backend, from memory and from files', async (backend) => {
      const fromMemory = await Network.fromTfjs(saved.modelJson, saved.weightData, { backend });
      expect(fromMemory.inputShape).toEqual(c.inputShape);
      expect(fromMemory.layers.map((layer) => layer.type)).toEqual(c.types);
      expectPredictions(fromMemory.predict(x), expected);
      const fromFiles = await Network.loadTfjs(modelJsonPath, { backend });
      expectSameWeights(fromFiles, fromMemory);
      expectPredictions(fromFiles.predict(x), expected);
      fromMemory.dispose();
      fromFiles.dispose();
    });
  });

  it("keeps a LeakyReLU as an activation layer with its alpha, Keras's 0.3 when the file has none", async () => {
    const { modelJson, weightData } = await saveTfjs(TFJS_CASES[4]?.build() as tf.Sequential);
    const leaky = (modelJson.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers.filter(
      (layer) => layer.class_name === 'LeakyReLU',
    );
    for (const layer of leaky) delete layer.config.alpha;
    const net = await Network.fromTfjs(modelJson, weightData, { backend: 'ts' });
    expect(net.layers.filter((layer) => layer.type === 'activation' && layer.activation === 'leakyRelu').map((layer) => 'alpha' in layer && layer.alpha)).toEqual([0.3, 0.3]);
    net.dispose();
  });

  it('reads model.json as the Python converter wraps it (model_config) and a Uint8Array of weights', async () => {
    const { modelJson, weightData } = await saveTfjs(TFJS_CASES[0]?.build() as tf.Sequential);
    const wrapped = { ...modelJson, modelTopology: { keras_version: '2.15.0', backend: 'tensorflow', model_config: modelJson.modelTopology } };
    const plain = await Network.fromTfjs(modelJson, weightData, { backend: 'ts' });
    const converted = await Network.fromTfjs(wrapped, new Uint8Array(weightData), { backend: 'ts' });
    expect(converted.layers).toEqual(plain.layers);
    expectSameWeights(converted, plain);
    plain.dispose();
    converted.dispose();
  });
});

/** ferronet networks covering every layer kind and activation. */
const FERRONET_CASES: { name: string; inputShape: number[]; layers: LayerConfig[] }[] = [
  {
    name: 'dense with each activation, leakyRelu included',
    inputShape: [5],
    layers: [
      { units: 6, activation: 'relu' },
      { units: 5, activation: 'tanh', useBias: false },
      { units: 5, activation: 'leakyRelu', alpha: 0.05 },
      { units: 4, activation: 'sigmoid' },
      { units: 4 },
      { units: 3, activation: 'softmax' },
    ],
  },
  {
    name: "conv2d 'same' and 'valid', strided, non-square kernels, leakyRelu",
    inputShape: [7, 6, 2],
    layers: [
      { type: 'conv2d', filters: 3, kernelSize: [3, 2], strides: [2, 1], padding: 'same', activation: 'leakyRelu' },
      { type: 'conv2d', filters: 2, kernelSize: [2, 3], strides: 2, activation: 'tanh', useBias: false },
      { type: 'flatten' },
      { units: 3 },
    ],
  },
  {
    name: "maxPool2d and avgPool2d, 'same' and 'valid'",
    inputShape: [7, 7, 2],
    layers: [
      { type: 'conv2d', filters: 3, kernelSize: 3, padding: 'same', activation: 'sigmoid' },
      { type: 'avgPool2d', poolSize: 3, strides: 2, padding: 'same' },
      { type: 'maxPool2d', poolSize: [3, 2], strides: [2, 1], padding: 'same' },
      { type: 'avgPool2d', poolSize: 2 },
      { type: 'maxPool2d', poolSize: [1, 2] },
      { type: 'flatten' },
      { units: 2, activation: 'softmax' },
    ],
  },
  {
    name: 'batchNorm after conv2d and after dense, with its momentum and epsilon',
    inputShape: [5, 5, 2],
    layers: [
      { type: 'conv2d', filters: 4, kernelSize: 3 },
      { type: 'batchNorm', momentum: 0.9, epsilon: 0.01 },
      { type: 'activation', activation: 'relu' },
      { type: 'flatten' },
      { units: 6 },
      { type: 'batchNorm', momentum: 0.8 },
      { units: 3, activation: 'softmax' },
    ],
  },
  {
    name: 'dropout and activation layers, leakyRelu after a linear dense',
    inputShape: [6],
    layers: [
      { units: 8 },
      { type: 'activation', activation: 'leakyRelu', alpha: 0.2 },
      { type: 'dropout', rate: 0.3 },
      { units: 4 },
      { type: 'activation', activation: 'tanh' },
      { type: 'activation', activation: 'linear' },
      { units: 3 },
      { type: 'activation', activation: 'softmax' },
    ],
  },
];

describe('ferronet networks in TensorFlow.js and back', () => {
  describe.each(FERRONET_CASES.map((c, i) => [c.name, c, i] as const))('%s', (_, c, caseIndex) => {
    it.each(BACKENDS)('on the %s backend: tfjs predicts the same, and the round trip is exact', async (backend) => {
      const random = new Random(200 + caseIndex);
      const net = await Network.create({ inputShape: c.inputShape, layers: c.layers, backend, seed: caseIndex });
      randomizeNetwork(net, random);
      net.metadata = { classes: ['a', 'b', 'c'], scaling: { mean: [0.5, -1.25], std: null }, case: caseIndex };
      const x = uniformArray(random, SAMPLES * net.inputSize, -2, 2);
      const expected = net.predict(x);

      const { modelJson, weightData } = net.toTfjs();
      const asFile = JSON.parse(JSON.stringify(modelJson)) as ModelJson;
      const model = await tf.loadLayersModel(tf.io.fromMemory({ modelTopology: asFile.modelTopology as object, weightSpecs: asFile.weightsManifest[0]?.weights, weightData }));
      expectPredictions(tfjsPredict(model, x, c.inputShape), expected);
      model.dispose();

      const back = await Network.fromTfjs(asFile, weightData, { backend });
      expect(back.layers).toEqual(net.layers);
      expectSameWeights(back, net);
      expect(back.metadata).toEqual(net.metadata);
      expect(back.predict(x)).toEqual(expected);
      net.dispose();
      back.dispose();
    });
  });

  it('writes one float32 shard with unique layer and weight names', async () => {
    const net = await Network.create({ inputShape: [5, 5, 2], layers: FERRONET_CASES[3]?.layers as LayerConfig[], backend: 'ts' });
    const { modelJson, weightData } = net.toTfjs();
    expect(modelJson.format).toBe('layers-model');
    expect(modelJson.weightsManifest).toHaveLength(1);
    const [{ paths, weights }] = modelJson.weightsManifest as [{ paths: string[]; weights: tf.io.WeightsManifestEntry[] }];
    expect(paths).toEqual(['weights.bin']);
    expect(weights.every((weight) => weight.dtype === 'float32')).toBe(true);
    expect(new Set(weights.map((weight) => weight.name)).size).toBe(weights.length);
    const layerNames = modelJson.modelTopology.config.layers.map((layer) => layer.config.name);
    expect(new Set(layerNames).size).toBe(layerNames.length);
    const floats = weights.reduce((sum, weight) => sum + weight.shape.reduce((a, b) => a * b, 1), 0);
    expect(weightData.byteLength).toBe(4 * floats);
    net.dispose();
  });

  it('loads in tfjs from model.json as tfjs reads files, with the metadata as userDefinedMetadata', async () => {
    const net = await Network.create({ inputShape: [6], layers: FERRONET_CASES[4]?.layers as LayerConfig[], backend: 'ts' });
    net.metadata = { labels: ['x', 'y', 'z'] };
    const { modelJson, weightData } = net.toTfjs();
    const asFile = JSON.parse(JSON.stringify(modelJson)) as tf.io.ModelJSON;
    const artifacts = await tf.io.getModelArtifactsForJSON(asFile, (manifest) => Promise.resolve([manifest.flatMap((group) => group.weights), weightData]));
    const model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
    expect(model.getUserDefinedMetadata()).toEqual({ labels: ['x', 'y', 'z'] });
    model.dispose();
    net.dispose();
  });

  it('comes back from the folder the CLI writes (model.json beside weights.bin)', async () => {
    const net = await Network.create({ inputShape: [7, 6, 2], layers: FERRONET_CASES[1]?.layers as LayerConfig[], backend: 'ts', seed: 3 });
    const { modelJson, weightData } = net.toTfjs();
    const folder = join(directory, 'exported');
    await mkdir(folder, { recursive: true });
    await writeFile(join(folder, 'model.json'), JSON.stringify(modelJson));
    await writeFile(join(folder, 'weights.bin'), new Uint8Array(weightData));
    const back = await Network.loadTfjs(join(folder, 'model.json'), { backend: 'ts' });
    expect(back.layers).toEqual(net.layers);
    expectSameWeights(back, net);
    net.dispose();
    back.dispose();
  });

  it('gives copies: changing the artifacts or the loaded metadata changes nothing else', async () => {
    const net = await Network.create({ inputShape: [2], layers: [{ units: 1 }], backend: 'ts' });
    net.metadata = { note: 'kept' };
    const { modelJson, weightData } = net.toTfjs();
    modelJson.userDefinedMetadata.note = 'changed';
    expect(net.metadata).toEqual({ note: 'kept' });
    const back = await Network.fromTfjs(modelJson, weightData, { backend: 'ts' });
    modelJson.userDefinedMetadata.note = 'changed again';
    expect(back.metadata).toEqual({ note: 'changed' });
    net.dispose();
    back.dispose();
  });

  it('refuses a flatten of a flat input, which tfjs cannot load, naming the layer', async () => {
    const net = await Network.create({ inputShape: [4], layers: [{ type: 'flatten' }, { units: 2 }], backend: 'ts' });
    expect(() => net.toTfjs()).toThrow(new RangeError('toTfjs: layers[0] flattens a flat [4] input, which TensorFlow.js cannot load (its Flatten needs 2 or more axes); the layer changes nothing, so remove it'));
    net.dispose();
  });
});

describe('bad files', () => {
  let base: { modelJson: ModelJson; weightData: ArrayBuffer };
  let conv: { modelJson: ModelJson; weightData: ArrayBuffer };
  beforeAll(async () => {
    base = await saveTfjs(
      tf.sequential({
        layers: [tf.layers.dense({ inputShape: [3], units: 4, activation: 'relu', name: 'hidden' }), tf.layers.dense({ units: 2, name: 'out' })],
      }),
    );
    conv = await saveTfjs(
      tf.sequential({
        layers: [tf.layers.conv2d({ inputShape: [4, 4, 2], filters: 2, kernelSize: 2, name: 'conv' }), tf.layers.batchNormalization({ name: 'norm' }), tf.layers.flatten({ name: 'flat' })],
      }),
    );
  });

  /** The weights of hidden (kernel [3, 4], bias [4]) and out (kernel [4, 2], bias [2]), in that order. */
  const BASE_BYTES = 4 * (12 + 4 + 8 + 2);

  function layersOf(modelJson: ModelJson): { class_name: string; config: Record<string, unknown> }[] {
    return (modelJson.modelTopology as { config: { layers: { class_name: string; config: Record<string, unknown> }[] } }).config.layers;
  }

  function specsOf(modelJson: ModelJson): tf.io.WeightsManifestEntry[] {
    return modelJson.weightsManifest[0]?.weights as tf.io.WeightsManifestEntry[];
  }

  /** Asserts that `loading` fails with a ModelFileError whose message is (or matches) `message`. */
  async function expectModelFileError(loading: Promise<unknown>, message: string | RegExp): Promise<void> {
    const error: unknown = await loading.then(
      () => null,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ModelFileError);
    const text = (error as Error).message;
    if (typeof message === 'string') expect(text).toBe(message);
    else expect(text).toMatch(message);
  }

  function expectRefused(modelJson: unknown, weightData: ArrayBuffer | Uint8Array, message: string | RegExp): Promise<void> {
    return expectModelFileError(Network.fromTfjs(modelJson, weightData, { backend: 'ts' }), message);
  }

  /** `buffer` with `count` zero floats after it. */
  function withExtraFloats(buffer: ArrayBuffer, count: number): Uint8Array {
    const bytes = new Uint8Array(buffer.byteLength + 4 * count);
    bytes.set(new Uint8Array(buffer));
    return bytes;
  }

  it('starts from a model that loads', async () => {
    expect(base.weightData.byteLength).toBe(BASE_BYTES);
    expect(specsOf(base.modelJson).map((spec) => spec.name)).toEqual(['hidden/kernel', 'hidden/bias', 'out/kernel', 'out/bias']);
    const net = await Network.fromTfjs(base.modelJson, base.weightData, { backend: 'ts' });
    expect(net.layers.map((layer) => layer.type)).toEqual(['dense', 'dense']);
    net.dispose();
    (await Network.fromTfjs(conv.modelJson, conv.weightData, { backend: 'ts' })).dispose();
  });

  it('refuses a model.json that is not an object, or not JSON', async () => {
    await expectRefused(JSON.stringify(base.modelJson), base.weightData, /^modelJson: expected the model\.json object \(its parsed JSON, with modelTopology and weightsManifest\), got "/);
    await expectRefused(null, base.weightData, 'modelJson: expected the model.json object (its parsed JSON, with modelTopology and weightsManifest), got null');
    await expectModelFileError(
      readTfjs('models/model.json', () => Promise.resolve(new TextEncoder().encode('<html>not found</html>'))),
      /^models\/model\.json: not JSON \(.*\); expected a TensorFlow\.js model\.json$/,
    );
    await expectModelFileError(readTfjs('models/model.json', () => Promise.resolve(Uint8Array.of(0xff, 0xfe))), /^models\/model\.json: not JSON \(/);
    await expectRefused({ ...base.modelJson, weightsManifest: undefined }, base.weightData, 'modelJson: weightsManifest: expected an array of { paths, weights }, got undefined');
    await expectRefused({ ...base.modelJson, format: 'graph-model' }, base.weightData, /^modelJson: format: expected "layers-model", got "graph-model" \(a "graph-model" is for tf\.loadGraphModel/);
  });

  it('refuses weight data of another type with a TypeError naming the argument', async () => {
    await expect(Network.fromTfjs(base.modelJson, [1, 2, 3] as unknown as ArrayBuffer)).rejects.toThrow(
      new TypeError('weightData: expected an ArrayBuffer or a Uint8Array (the weight shards, concatenated in manifest order), got an Array of length 3'),
    );
  });

  it('refuses a functional model', async () => {
    const input = tf.input({ shape: [3] });
    const output = tf.layers.dense({ units: 2 }).apply(input) as tf.SymbolicTensor;
    const functional = await saveTfjs(tf.model({ inputs: input, outputs: output }));
    await expectRefused(functional.modelJson, functional.weightData, 'modelJson: modelTopology.class_name: expected "Sequential" (ferronet reads Sequential models), got "Model", a functional model (tf.model)');
  });

  it.each([
    ['LSTM', () => tf.layers.lstm({ units: 2, inputShape: [3, 2], name: 'memory' })],
    ['Conv1D', () => tf.layers.conv1d({ filters: 2, kernelSize: 2, inputShape: [5, 2], name: 'memory' })],
  ] as const)('refuses a %s layer, naming it and what ferronet reads', async (className, layer) => {
    const saved = await saveTfjs(tf.sequential({ layers: [layer()] }));
    await expectRefused(
      saved.modelJson,
      saved.weightData,
      `modelJson: layer "memory" (${className}): ferronet has no ${className} layer; it reads InputLayer, Dense, Conv2D, MaxPooling2D, AveragePooling2D, BatchNormalization, Flatten, Dropout, Activation, LeakyReLU`,
    );
  });

  it.each(['elu', 'selu', 'relu6', 'swish', 'softplus'] as const)('refuses the activation %s, naming those ferronet has', async (activation) => {
    const saved = await saveTfjs(tf.sequential({ layers: [tf.layers.dense({ inputShape: [3], units: 2, activation, name: 'd' })] }));
    await expectRefused(
      saved.modelJson,
      saved.weightData,
      `modelJson: layer "d" (Dense): activation "${activation}" is not one ferronet has (linear, relu, tanh, sigmoid, softmax; leaky ReLU as a LeakyReLU layer)`,
    );
  });

  it('refuses Dense on an image, which Keras applies to the last axis', async () => {
    const saved = await saveTfjs(tf.sequential({ layers: [tf.layers.dense({ inputShape: [2, 2, 3], units: 2, name: 'd' })] }));
    await expectRefused(saved.modelJson, saved.weightData, "modelJson: layer \"d\" (Dense): Keras applies Dense to the last axis of its [2, 2, 3] input; ferronet's dense takes flat inputs: put a Flatten before it");
  });

  it('refuses inputs that are neither flat nor images, and a model without an input shape', async () => {
    const saved = await saveTfjs(tf.sequential({ layers: [tf.layers.flatten({ inputShape: [3, 2], name: 'f' })] }));
    await expectRefused(saved.modelJson, saved.weightData, /^modelJson: layer "f" \(Flatten\): batch_input_shape\[1:\]: expected \[features\] or \[height, width, channels\]/);
    const modelJson = structuredClone(base.modelJson);
    delete (layersOf(modelJson)[0] as { config: Record<string, unknown> }).config.batch_input_shape;
    await expectRefused(modelJson, base.weightData, 'modelJson: layer "hidden" (Dense): no input shape: expected an InputLayer first, or batch_input_shape on the first layer');
  });

  it.each([
    ['data_format channels_first', 0, { data_format: 'channels_first' }, `modelJson: layer "conv" (Conv2D): data_format "channels_first"; ferronet's images are channels_last ([height, width, channels])`],
    ['a dilated convolution', 0, { dilation_rate: [2, 2] }, "modelJson: layer \"conv\" (Conv2D): dilation_rate [2,2]; ferronet's convolutions are not dilated (1 only)"],
    ['batch norm over another axis', 1, { axis: 1 }, 'modelJson: layer "norm" (BatchNormalization): axis 1; ferronet normalizes over the last axis only (-1 or 3 here)'],
    ['a float16 layer', 2, { dtype: 'float16' }, 'modelJson: layer "flat" (Flatten): dtype "float16"; ferronet computes in float32'],
    ['an unknown padding', 0, { padding: 'causal' }, `modelJson: layer "conv" (Conv2D): padding: expected one of 'valid', 'same', got "causal"`],
    ['two layers of one name', 2, { name: 'conv' }, 'modelJson: layer "conv" (Flatten): a second layer named "conv"'],
  ] as const)('refuses %s', async (_, index, change, message) => {
    const modelJson = structuredClone(conv.modelJson);
    Object.assign((layersOf(modelJson)[index] as { config: Record<string, unknown> }).config, change);
    await expectRefused(modelJson, conv.weightData, message);
  });

  it('refuses truncated or overlong weight data', async () => {
    await expectRefused(base.modelJson, base.weightData.slice(0, BASE_BYTES - 1), `modelJson: truncated weight data: ${BASE_BYTES - 1} bytes, where the weights manifest's weights take ${BASE_BYTES}`);
    await expectRefused(base.modelJson, withExtraFloats(base.weightData, 1), `modelJson: weight data too long: ${BASE_BYTES + 4} bytes, where the weights manifest's weights take ${BASE_BYTES}`);
  });

  it('refuses extra and missing weights', async () => {
    const extra = structuredClone(base.modelJson);
    specsOf(extra).push({ name: 'out/extra', shape: [1], dtype: 'float32' });
    await expectRefused(extra, withExtraFloats(base.weightData, 1), 'modelJson: weightsManifest: weight "out/extra" belongs to none of the layers\' weights');
    const missing = structuredClone(base.modelJson);
    specsOf(missing).pop();
    await expectRefused(missing, base.weightData.slice(0, BASE_BYTES - 8), 'modelJson: layer "out" (Dense): the weights manifest has no weight "out/bias"');
    const twice = structuredClone(base.modelJson);
    specsOf(twice).push({ name: 'out/bias', shape: [2], dtype: 'float32' });
    await expectRefused(twice, withExtraFloats(base.weightData, 2), 'modelJson: weightsManifest: two weights named "out/bias"');
  });

  it('refuses weights of another dtype, quantized weights and non-finite weights', async () => {
    const int = structuredClone(base.modelJson);
    (specsOf(int)[0] as tf.io.WeightsManifestEntry).dtype = 'int32';
    await expectRefused(int, base.weightData, 'modelJson: weight "hidden/kernel": dtype "int32"; ferronet reads float32 weights');
    const quantized = structuredClone(base.modelJson);
    (specsOf(quantized)[0] as tf.io.WeightsManifestEntry).quantization = { dtype: 'uint8', scale: 0.01, min: -1 };
    await expectRefused(quantized, base.weightData, 'modelJson: weight "hidden/kernel": quantized (to "uint8"); ferronet reads float32 weights: save the model without quantization');
    const nan = new Uint8Array(base.weightData.slice(0));
    new DataView(nan.buffer).setFloat32(4 * 5, Number.NaN, true);
    await expectRefused(base.modelJson, nan, /^modelJson: layers\[0\]\.weights: expected finite values, got NaN/);
  });

  it('refuses a weight whose shape does not match its layer', async () => {
    const transposed = structuredClone(base.modelJson);
    (specsOf(transposed)[0] as tf.io.WeightsManifestEntry).shape = [4, 3];
    await expectRefused(transposed, base.weightData, 'modelJson: weight "hidden/kernel": shape [4, 3], where layer "hidden" (Dense) needs [3, 4]');
    const negative = structuredClone(base.modelJson);
    (specsOf(negative)[0] as tf.io.WeightsManifestEntry).shape = [-3, -4];
    await expectRefused(negative, base.weightData, 'modelJson: weight "hidden/kernel": shape: expected an array of non-negative integers, got [-3,-4]');
  });

  it.each(['../secret.bin', '/etc/passwd', 'https://example.com/weights.bin', 'C:/weights.bin', 'shards\\..\\..\\weights.bin', 'shards/../../weights.bin', ''])(
    'refuses the shard path %j before reading anything but model.json',
    async (shard) => {
      const modelJson = { ...base.modelJson, weightsManifest: [{ paths: ['weights.bin', shard], weights: specsOf(base.modelJson) }] };
      const read: string[] = [];
      const readFile = (path: string): Promise<Uint8Array> => {
        read.push(path);
        return Promise.resolve(path.endsWith('model.json') ? new TextEncoder().encode(JSON.stringify(modelJson)) : new Uint8Array(base.weightData));
      };
      await expectModelFileError(
        readTfjs('models/model.json', readFile),
        `models/model.json: weightsManifest[0].paths[1]: expected a file inside model.json's folder, relative to it with '/' between folders (no '..', absolute path, drive, URL or backslash, which Windows reads as a separator), got ${JSON.stringify(shard)}`,
      );
      expect(read).toEqual(['models/model.json']);
    },
  );

  it("reads shards relative to model.json's folder, Windows separators included", async () => {
    const read: string[] = [];
    const readFile = (path: string): Promise<Uint8Array> => {
      read.push(path);
      return Promise.resolve(path.endsWith('model.json') ? new TextEncoder().encode(JSON.stringify(base.modelJson)) : new Uint8Array(base.weightData));
    };
    await readTfjs('C:\\models\\model.json', readFile);
    await readTfjs('model.json', readFile);
    expect(read).toEqual(['C:\\models\\model.json', 'C:\\models\\weights.bin', 'model.json', 'weights.bin']);
  });
});
