/**
 * The `.fnet` model file: a network's architecture, how it was trained and its weights in one
 * small versioned binary. docs/model-format.md describes the layout for readers in other
 * languages. This module imports nothing from Node, so browsers read and write the same bytes.
 */

import { checkInputShape, checkParameter, layerConfig, parameterShapes, resolveLayers, type ResolvedLayer } from '../layers/index.js';
import { LOSSES } from '../losses/index.js';
import type { TrainingRecord } from '../network.js';
import { optimizerConfig, resolveOptimizer } from '../optimizers/index.js';
import { checkOneOf, checkPositiveInteger, checkSize, clip, describe, fail, reject } from '../validation.js';
import { VERSION } from '../version.js';
import { crc32 } from './crc32.js';

/** A value that JSON represents exactly: what {@link Network.metadata} may hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
/** A JSON object. */
export interface JsonObject {
  [key: string]: JsonValue;
}

/** Thrown when bytes are not a model this ferronet can read; the message says which check failed. */
export class ModelFileError extends RangeError {
  constructor(message: string) {
    super(message);
    this.name = 'ModelFileError';
  }
}

/**
 * The format version this ferronet writes: 2, whose header gives `inputShape` and typed layers.
 * It reads version 1 (`inputSize` and dense layers) too; a newer one is refused, never guessed at.
 */
export const MODEL_FILE_VERSION = 2;

/** `\x89FNT\r\n\x1a\n`: like PNG's, it catches text-mode transfers (CR/LF changes) and non-ferronet files. */
const MAGIC = Uint8Array.of(0x89, 0x46, 0x4e, 0x54, 0x0d, 0x0a, 0x1a, 0x0a);
/** Magic (8), format version (4), header length (4), parameter count (4). */
const PRELUDE_BYTES = 20;
const CHECKSUM_BYTES = 4;

/** What a model file says besides its weights. */
export interface ModelHeader {
  /** The ferronet version that wrote the file. */
  ferronet: string;
  /** The shape of one input sample (version 1 files give `inputSize`, read as `[inputSize]`). */
  inputShape: number[];
  /** The layers with every default filled in (the file stores them as `Network.create` takes them). */
  layers: ResolvedLayer[];
  /** The seed of the network's initial weights. */
  seed: number;
  /** How the weights were trained, or null if they never were. */
  training: TrainingRecord | null;
  /** The network's {@link Network.metadata}. */
  metadata: JsonObject;
  /**
   * A trainer's state when the file is a checkpoint (`trainer.toBytes()`), else null. The
   * Trainer reads and checks it; this module only keeps it JSON and sizes the optimizer state.
   */
  checkpoint: CheckpointHeader | null;
}

/** What a checkpoint's header says about the optimizer state that follows the parameters. */
export interface CheckpointHeader extends JsonObject {
  /** The length of each optimizer state buffer, in order. */
  optimizerState: number[];
}

/** The network's parts that a file holds: parameters in model order (layer by layer, each layer's buffers in `parameterShapes` order). */
export interface ModelContents {
  /** Architecture, training record and metadata. */
  header: ModelHeader;
  /** Every layer's parameter buffers, in order (dense: weights `[units][inputs]`, then bias `[units]`). */
  parameters: Float32Array[];
  /** A checkpoint's optimizer state buffers (their lengths are in `header.checkpoint`); empty otherwise. */
  optimizerState: Float32Array[];
}

/** Encodes a model; throws a TypeError naming the path of any metadata value JSON cannot hold. */
export function encodeModelFile({ header, parameters, optimizerState }: ModelContents): Uint8Array {
  checkJsonObject('metadata', header.metadata);
  const json = JSON.stringify({
    ferronet: header.ferronet,
    inputShape: header.inputShape,
    layers: header.layers.map(layerConfig),
    seed: header.seed,
    training: header.training && { ...header.training, optimizer: optimizerConfig(header.training.optimizer) },
    metadata: header.metadata,
    ...(header.checkpoint && { checkpoint: header.checkpoint }),
  });
  const jsonBytes = new TextEncoder().encode(json);
  // Spaces pad the header (JSON ignores them) so the weights start 4-byte aligned.
  const headerLength = jsonBytes.length + ((4 - (jsonBytes.length % 4)) % 4);
  const floats = [...parameters, ...optimizerState];
  const count = floats.reduce((sum, values) => sum + values.length, 0);
  const bytes = new Uint8Array(PRELUDE_BYTES + headerLength + 4 * count + CHECKSUM_BYTES);
  const view = new DataView(bytes.buffer);
  bytes.set(MAGIC, 0);
  view.setUint32(8, MODEL_FILE_VERSION, true);
  view.setUint32(12, headerLength, true);
  view.setUint32(16, count, true);
  bytes.set(jsonBytes, PRELUDE_BYTES);
  bytes.fill(0x20, PRELUDE_BYTES + jsonBytes.length, PRELUDE_BYTES + headerLength);
  let offset = PRELUDE_BYTES + headerLength;
  for (const values of floats) {
    for (const value of values) {
      view.setFloat32(offset, value, true);
      offset += 4;
    }
  }
  view.setUint32(offset, crc32(bytes.subarray(0, offset)), true);
  return bytes;
}

/**
 * Decodes and checks a model file. `source` names the bytes in error messages (a path, or
 * `bytes`). Every failure is a {@link ModelFileError} saying what is wrong; weights are only
 * returned from a file whose checksum, header and sizes all agree.
 */
export function decodeModelFile(bytes: Uint8Array, source: string): ModelContents {
  const failWith = (problem: string): never => {
    throw new ModelFileError(`${source}: ${problem}`);
  };
  const magicPart = bytes.subarray(0, MAGIC.length);
  if (!magicPart.every((byte, i) => byte === MAGIC[i])) {
    failWith(`not a ferronet model (it starts with ${hex(magicPart)}, a model starts with ${hex(MAGIC)})`);
  }
  if (bytes.length < PRELUDE_BYTES + CHECKSUM_BYTES) {
    failWith(`truncated: ${bytes.length} bytes, less than the ${PRELUDE_BYTES + CHECKSUM_BYTES} of an empty model`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const version = view.getUint32(8, true);
  const checksumOk = (): boolean => view.getUint32(bytes.length - CHECKSUM_BYTES, true) === crc32(bytes.subarray(0, bytes.length - CHECKSUM_BYTES));
  if (version < 1 || version > MODEL_FILE_VERSION) {
    // Every version ends with the checksum, so a damaged version field is told apart from a newer file.
    if (!checksumOk()) failWith('corrupted: the checksum does not match the contents');
    failWith(
      version > MODEL_FILE_VERSION
        ? `written in model format version ${version}, newer than this ferronet (${VERSION}) reads (${MODEL_FILE_VERSION}); upgrade ferronet`
        : `model format version ${version} does not exist (this ferronet reads versions 1 to ${MODEL_FILE_VERSION})`,
    );
  }
  const headerLength = view.getUint32(12, true);
  const count = view.getUint32(16, true);
  const expected = PRELUDE_BYTES + headerLength + 4 * count + CHECKSUM_BYTES;
  if (bytes.length < expected) failWith(`truncated: ${bytes.length} bytes, the file says it has ${expected}`);
  if (bytes.length > expected) failWith(`corrupted: ${bytes.length} bytes, the file says it has ${expected}`);
  if (!checksumOk()) failWith('corrupted: the checksum does not match the contents');

  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(PRELUDE_BYTES, PRELUDE_BYTES + headerLength)));
  } catch (error) {
    failWith(`its header is not JSON (${error instanceof Error ? error.message : String(error)})`);
  }
  let header: ModelHeader;
  try {
    header = checkHeader(parsed, version);
  } catch (error) {
    if (!(error instanceof TypeError || error instanceof RangeError)) throw error;
    return failWith(`invalid header: ${error.message}`);
  }
  const buffers = header.layers.flatMap((layer, l) => parameterShapes(layer).map((shape) => ({ shape, argument: `layers[${l}].${shape.name}` })));
  const stateLengths = header.checkpoint?.optimizerState ?? [];
  const needed = buffers.reduce((sum, { shape }) => sum + shape.length, 0);
  const stateFloats = stateLengths.reduce((sum, length) => sum + length, 0);
  if (needed + stateFloats !== count) {
    failWith(`its layers need ${needed} parameters${stateLengths.length > 0 ? ` and its optimizer state ${stateFloats} floats` : ''}, the file holds ${count}`);
  }
  let offset = PRELUDE_BYTES + headerLength;
  const parameters = buffers.map(({ shape, argument }) => {
    const values = new Float32Array(shape.length);
    for (let i = 0; i < values.length; i++, offset += 4) values[i] = view.getFloat32(offset, true);
    try {
      checkParameter(argument, shape, values);
    } catch (error) {
      if (!(error instanceof RangeError)) throw error;
      failWith(`invalid parameters: ${error.message}`);
    }
    return values;
  });
  const optimizerState = stateLengths.map((length, index) => {
    const values = new Float32Array(length);
    for (let i = 0; i < length; i++, offset += 4) values[i] = view.getFloat32(offset, true);
    const at = values.findIndex((value) => !Number.isFinite(value));
    if (at >= 0) failWith(`invalid optimizer state: buffer ${index} holds ${values[at]} at [${at}]`);
    return values;
  });
  return { header, parameters, optimizerState };
}

/** The header's fields, checked; version 1 gives `inputSize` where version 2 gives `inputShape`. */
function checkHeader(value: unknown, version: number): ModelHeader {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new TypeError(`expected a JSON object, got ${describe(value)}`);
  const { ferronet, inputShape, inputSize, layers, seed, training, metadata, checkpoint = null } = value as Record<string, unknown>;
  if (typeof ferronet !== 'string') throw new TypeError(`ferronet: expected the version string that wrote the file, got ${describe(ferronet)}`);
  let shape: number[];
  if (version === 1) {
    checkPositiveInteger('inputSize', inputSize);
    shape = [inputSize];
  } else {
    shape = checkInputShape('inputShape', inputShape);
  }
  const resolved = resolveLayers(shape, layers);
  if (!Number.isSafeInteger(seed)) throw new RangeError(`seed: expected an integer, got ${describe(seed)}`);
  checkJsonObject('metadata', metadata);
  return { ferronet, inputShape: shape, layers: resolved, seed: seed as number, training: checkTraining(training), metadata, checkpoint: checkCheckpoint(checkpoint) };
}

/** A checkpoint's header is JSON whose optimizer state lengths size the floats after the parameters. */
function checkCheckpoint(value: unknown): CheckpointHeader | null {
  if (value === null) return null;
  checkJsonObject('checkpoint', value);
  const lengths = value.optimizerState;
  if (!Array.isArray(lengths)) throw new TypeError(`checkpoint.optimizerState: expected an array of buffer lengths, got ${describe(lengths)}`);
  lengths.forEach((length, i) => {
    checkSize(`checkpoint.optimizerState[${i}]`, length);
  });
  return value as CheckpointHeader;
}

function checkTraining(value: unknown): TrainingRecord | null {
  if (value === null) return null;
  if (typeof value !== 'object' || Array.isArray(value)) throw new TypeError(`training: expected an object or null, got ${describe(value)}`);
  const { loss, optimizer, batchSize, epochs } = value as Record<string, unknown>;
  checkOneOf('training.loss', loss, LOSSES);
  checkPositiveInteger('training.batchSize', batchSize);
  checkSize('training.epochs', epochs);
  return { loss, optimizer: resolveOptimizer(optimizer), batchSize, epochs };
}

/** Throws a TypeError naming `path`, or the first value under it, unless it is an object that JSON holds exactly (importers check metadata with it too). */
export function checkJsonObject(path: string, value: unknown): asserts value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) fail('type', path, 'a JSON object', value);
  checkJson(path, value);
}

/**
 * How deep metadata may nest: far beyond any real use, and well within the stack (a file's
 * thousands of nested arrays, or an object that contains itself, would otherwise overflow it).
 */
const MAX_JSON_DEPTH = 100;

/** Throws a TypeError naming the first value under `path` that JSON would change or drop. */
function checkJson(path: string, value: unknown, depth = 0): void {
  if (depth > MAX_JSON_DEPTH) reject('range', clip(path), `JSON nested at most ${MAX_JSON_DEPTH} levels deep (an object that contains itself never ends)`, 'deeper');
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail('type', path, 'a JSON value', value);
    return;
  }
  if (Array.isArray(value)) {
    value.forEach((item, i) => {
      checkJson(`${path}[${i}]`, item, depth + 1);
    });
    return;
  }
  const prototype: unknown = typeof value === 'object' ? Object.getPrototypeOf(value) : undefined;
  if (prototype !== Object.prototype && prototype !== null) fail('type', path, 'a JSON value', value);
  // Keys are someone's text: clipped, so a path of several stays readable (and the message short).
  for (const [key, item] of Object.entries(value as object)) checkJson(`${path}.${clip(key)}`, item, depth + 1);
}

function hex(bytes: Uint8Array): string {
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, '0')).join(' ') || 'nothing';
}
