/**
 * Data sets as the command line meets them (the planar set, IDX images, CSV files) and the
 * {@link DataEncoding} that turns their raw values into network inputs and network outputs back
 * into answers. The encoding is saved in the model's metadata, so `evaluate` and `predict` read
 * new data exactly as training did.
 */

import { constants } from 'node:buffer';
import { readFile, stat } from 'node:fs/promises';
import { basename } from 'node:path';
import { isNumber, numericColumns, parseCsv, type CsvTable } from '../datasets/csv.js';
import { checkLabels, FASHION_MNIST_CLASSES, FASHION_MNIST_DIRECTORY, findLabelsFile, loadFashionMnist, loadIdxImages, readIdxFile } from '../datasets/fashion-mnist.js';
import { planarDataset } from '../datasets/planar.js';
import type { JsonValue } from '../io/model-file.js';
import { outputActivation } from '../layers/index.js';
import type { Network } from '../network.js';
import { Random } from '../random.js';
import { clip, quote } from '../validation.js';
import { UsageError } from './args.js';

// Type aliases rather than interfaces: they fit JsonObject, so an encoding is model metadata as is.

/** A class column: outputs are class probabilities. */
export type ClassTarget = {
  /** Selects classification. */
  task: 'classification';
  /** The CSV column holding the class, or null for data sets without columns. */
  column: string | null;
  /** Class names, by index. */
  classes: string[];
};

/** A numeric column: the network predicts its standardized value. */
export type ValueTarget = {
  /** Selects regression. */
  task: 'regression';
  /** The CSV column holding the value, or null. */
  column: string | null;
  /** The training targets' mean: outputs are `mean + std * output`. */
  mean: number;
  /** The training targets' standard deviation. */
  std: number;
};

/** How raw data becomes inputs (`(raw - mean) / std`) and outputs become answers; the model metadata's `data`. */
export type DataEncoding = {
  /** The data set trained on: `planar`, `fashion-mnist` or `csv`. */
  source: string;
  /** The input columns' names (CSV), or null where inputs are positional (pixels, planar points). */
  features: string[] | null;
  /** Subtracted from each input: one value for all, or one per feature. */
  mean: number | number[];
  /** Then divided: one value for all, or one per feature. */
  std: number | number[];
  /** What the outputs mean. */
  target: ClassTarget | ValueTarget;
};

/** Raw examples as read: features before scaling; targets as class indices or values, if the data has them. */
export interface Examples {
  /** Features as read, `[count][features]`. */
  x: Float32Array;
  /** Number of examples. */
  count: number;
  /** Features per example. */
  features: number;
  /** Class indices (classification) or raw values (regression), or null when the data has no targets. */
  targets: Int32Array | Float32Array | null;
}

/** The inputs the network takes for `examples`. */
export function encodeInputs(encoding: DataEncoding, examples: Examples): Float32Array {
  const { mean, std } = encoding;
  return examples.x.map((value, i) => {
    const feature = i % examples.features;
    return (value - (typeof mean === 'number' ? mean : (mean[feature] as number))) / (typeof std === 'number' ? std : (std[feature] as number));
  });
}

/**
 * The targets the network trains and evaluates on: class indices for a softmax output, 0/1
 * rows for a single sigmoid output, standardized values for regression.
 */
export function encodeTargets(encoding: DataEncoding, targets: Int32Array | Float32Array, network: Network): Int32Array | Float32Array {
  const { target } = encoding;
  if (target.task === 'regression') return targets.map((value) => (value - target.mean) / target.std);
  return network.outputSize === 1 ? Float32Array.from(targets) : targets;
}

/** Class probabilities `[count][classes]` (classification) or values `[count]` (regression) from network outputs. */
export function decodeOutputs(encoding: DataEncoding, outputs: Float32Array, network: Network): Float32Array {
  const { target } = encoding;
  if (target.task === 'regression') return outputs.map((value) => target.mean + target.std * value);
  if (network.outputSize > 1) return outputs;
  // One sigmoid output is the probability of class 1.
  return Float32Array.from({ length: outputs.length * 2 }, (_, i) => (i % 2 === 1 ? (outputs[i >> 1] as number) : 1 - (outputs[i >> 1] as number)));
}

/** Examples in a new seeded order, split into a first part and the last `fraction` of them. */
export function splitExamples(examples: Examples, fraction: number, seed: number): [Examples, Examples | null] {
  const held = Math.round(examples.count * fraction);
  if (held === 0) return [examples, null];
  if (held === examples.count) throw new RangeError(`--validation-split ${fraction} leaves no training examples of ${examples.count}`);
  const order = new Random(seed).shuffle(Uint32Array.from({ length: examples.count }, (_, i) => i));
  return [subset(examples, order.subarray(0, examples.count - held)), subset(examples, order.subarray(examples.count - held))];
}

function subset(examples: Examples, indices: Uint32Array): Examples {
  const { features } = examples;
  const x = new Float32Array(indices.length * features);
  indices.forEach((index, i) => x.set(examples.x.subarray(index * features, (index + 1) * features), i * features));
  const targets = examples.targets && (examples.targets instanceof Int32Array ? Int32Array.from(indices, (i) => examples.targets?.[i] as number) : Float32Array.from(indices, (i) => examples.targets?.[i] as number));
  return { ...examples, x, count: indices.length, targets };
}

/** Mean and standard deviation of each feature (a constant feature gets 1, so it stays constant, not NaN). */
export function featureStatistics(examples: Examples): { mean: number[]; std: number[] } {
  const { features, count } = examples;
  const mean = new Array<number>(features).fill(0);
  const squares = new Array<number>(features).fill(0);
  examples.x.forEach((value, i) => {
    mean[i % features] = (mean[i % features] as number) + value;
  });
  for (let f = 0; f < features; f++) mean[f] = (mean[f] as number) / count;
  examples.x.forEach((value, i) => {
    const deviation = value - (mean[i % features] as number);
    squares[i % features] = (squares[i % features] as number) + deviation * deviation;
  });
  return { mean, std: squares.map((sum) => Math.sqrt(sum / count) || 1) };
}

/** The planar flower: 400 points, two classes, trained as the classic exercise does (one sigmoid output). */
export function planarExamples(): { examples: Examples; encoding: DataEncoding } {
  const { x, y, samples } = planarDataset();
  return {
    examples: { x, count: samples, features: 2, targets: Int32Array.from(y) },
    encoding: { source: 'planar', features: null, mean: 0, std: 1, target: { task: 'classification', column: null, classes: ['0', '1'] } },
  };
}

/** The Fashion-MNIST encoding: pixels 0..255 scaled to [0, 1], ten named classes. */
export const FASHION_MNIST_ENCODING: DataEncoding = {
  source: 'fashion-mnist',
  features: null,
  mean: 0,
  std: 255,
  target: { task: 'classification', column: null, classes: FASHION_MNIST_CLASSES },
};

/** Examples that are images: also the extents of one. */
export interface ImageExamples extends Examples {
  /** The extents of each image, `[rows, columns]` for Fashion-MNIST; its pixels are `x` row-major. */
  imageShape: number[];
}

/** One split of Fashion-MNIST from `directory` (default: Debian's), at most `limit` images. */
export async function fashionMnistExamples(directory: string | undefined, split: 'train' | 't10k', limit: number): Promise<ImageExamples> {
  const from = directory ?? FASHION_MNIST_DIRECTORY;
  const images = await loadFashionMnist(from, split, limit);
  return { x: images.pixels, count: images.count, features: images.features, targets: Int32Array.from(images.labels), imageShape: images.shape };
}

/** Which kind a CSV target column is, when `--task` does not say. */
export type Task = ClassTarget['task'] | ValueTarget['task'];

/** Up to this many distinct whole numbers, a numeric target column is read as classes. */
const MAX_INTEGER_CLASSES = 20;

/**
 * The most classes a CSV column may hold. A softmax of one unit per class over a table is rarely
 * sensible beyond ImageNet's 1,000, and targets grow with rows x classes; a column of more
 * distinct values is a quantity or an identifier, not a class.
 */
const MAX_CLASSES = 1000;

/**
 * The most class probabilities (rows x classes, 1 GiB of float32) that evaluating or predicting
 * a data set makes at once: Network.evaluate and predict give one per class and row. Training
 * itself takes class indices, which the backends make one-hot a batch at a time; this bounds
 * the evaluation (of the validation split too) with a message rather than an allocation failure.
 */
const MAX_CLASS_PROBABILITIES = 2 ** 28;

/** A CSV file to train on: features are every column but `label` (or those named), standardized later. */
export async function csvTrainingExamples(
  path: string,
  label: string,
  featureNames: string[] | undefined,
  task: Task | undefined,
): Promise<{ examples: Examples; features: string[]; target: ClassTarget | Omit<ValueTarget, 'mean' | 'std'> }> {
  const table = await readCsvFile(path);
  const [labelIndex] = columnIndices(table, [label], path, '--label') as [number];
  const features = featureNames ?? table.columns.filter((_, i) => i !== labelIndex);
  if (features.length === 0) throw new RangeError(`${path}: no feature columns besides the label ${quote(label)}`);
  const featureIndices = columnIndices(table, features, path, '--features');
  // The label among the inputs would be a model that reads its answer; a column twice, a slip.
  if (featureIndices.includes(labelIndex)) throw new UsageError(`--features names the label column ${quote(label)}: the model would read the answer it is to predict`, 'train');
  const seen = new Set<string>();
  const twice = features.find((name) => seen.size === seen.add(name).size);
  if (twice !== undefined) throw new UsageError(`--features names the column ${quote(twice)} twice`, 'train');
  if (table.rows.length === 0) throw new RangeError(`${path}: a header but no data lines`);
  // The target first: a column of too many classes is refused before the features are read.
  const fields = table.rows.map((row) => row[labelIndex] as string);
  const numeric = fields.every(isNumber);
  const distinct = [...new Set(fields)];
  const chosen = task ?? (!numeric || (distinct.length <= MAX_INTEGER_CLASSES && distinct.every((field) => Number.isInteger(Number(field)))) ? 'classification' : 'regression');
  const count = table.rows.length;
  if (chosen === 'regression') {
    const targets = numericColumns(table, [labelIndex], path);
    return { examples: { x: numericColumns(table, featureIndices, path), count, features: features.length, targets }, features, target: { task: 'regression', column: label } };
  }
  checkClassCount(distinct, numeric, count, path, label);
  const classes = numeric ? distinct.sort((a, b) => Number(a) - Number(b)) : distinct.sort();
  const indexOf = new Map(classes.map((name, index) => [name, index]));
  const targets = Int32Array.from(fields, (field) => indexOf.get(field) as number);
  return { examples: { x: numericColumns(table, featureIndices, path), count, features: features.length, targets }, features, target: { task: 'classification', column: label, classes } };
}

/**
 * Refuses a class column that cannot be trained on: one class, more than {@link MAX_CLASSES},
 * or, past {@link MAX_INTEGER_CLASSES}, more than half the rows (fewer than two examples a class:
 * an identifier such as a name, not a class), or more class probabilities to evaluate than {@link MAX_CLASS_PROBABILITIES}.
 * Tiny tables with a few classes stay allowed. Run before any target is built, so a column of a
 * million names fails at once, not out of memory.
 */
function checkClassCount(distinct: readonly string[], numeric: boolean, rows: number, path: string, label: string): void {
  if (distinct.length < 2) throw new RangeError(`${path}: column ${quote(label)} holds one class only (${quote(distinct[0] as string)}); classification needs two or more`);
  if (distinct.length > MAX_CLASSES || (distinct.length > MAX_INTEGER_CLASSES && distinct.length > rows / 2)) {
    const instead = numeric ? 'to predict it as a number, use --task regression' : 'choose another --label (names and identifiers are not classes)';
    throw new RangeError(
      `${path}: column ${quote(label)} holds ${distinct.length.toLocaleString('en-US')} distinct values in ${rows.toLocaleString('en-US')} rows, ` +
        `too many classes (at most ${MAX_CLASSES.toLocaleString('en-US')}, and beyond ${MAX_INTEGER_CLASSES} at most half the rows); ${instead}`,
    );
  }
  checkProbabilitiesSize(rows, distinct.length, path);
}

/** Throws a RangeError naming `path` when `rows` of `classes` make more class probabilities than {@link MAX_CLASS_PROBABILITIES}. */
export function checkProbabilitiesSize(rows: number, classes: number, path: string): void {
  if (rows * classes <= MAX_CLASS_PROBABILITIES) return;
  throw new RangeError(
    `${path}: ${rows.toLocaleString('en-US')} rows of ${classes} classes need ${(rows * classes).toLocaleString('en-US')} class probabilities to evaluate, ` +
      `more than ferronet takes at once (${MAX_CLASS_PROBABILITIES.toLocaleString('en-US')}); use fewer rows or classes`,
  );
}

/** IDX files are named as MNIST's are: `t10k-images-idx3-ubyte`, gzipped or not. */
const IDX_NAME = /-ubyte(\.gz)?$/;

/**
 * Reads the DATA argument of `evaluate` and `predict` the way the model's encoding says: `planar`;
 * `fashion-mnist` or a directory (its test split); an IDX images file (its labels file beside it,
 * if there); or a CSV file with the model's feature columns (and its target column, if there).
 */
export async function inferenceExamples(data: string, encoding: DataEncoding, network: Network): Promise<Examples> {
  let examples: Examples;
  if (data === 'planar') {
    examples = planarExamples().examples;
  } else if (data === 'fashion-mnist' || (await isDirectory(data))) {
    examples = await fashionMnistExamples(data === 'fashion-mnist' ? undefined : data, 't10k', Infinity);
  } else if (IDX_NAME.test(data)) {
    const labels = await findLabelsFile(data);
    if (labels !== null) {
      const images = await loadIdxImages(data, labels);
      examples = { x: images.pixels, count: images.count, features: images.features, targets: Int32Array.from(images.labels) };
    } else {
      const { dimensions, data: pixels } = await readIdxFile(data);
      const count = dimensions[0] ?? 0;
      examples = { x: Float32Array.from(pixels), count, features: pixels.length / Math.max(count, 1), targets: null };
    }
  } else {
    examples = csvInferenceExamples(await readCsvFile(data), data, encoding);
  }
  // Before the feature count: an IDX file of no images reads as 0 features each, which is not the mistake.
  if (examples.count === 0) throw new RangeError(`${data}: holds no examples (a header, but no data)`);
  if (examples.features !== network.inputSize) {
    throw new RangeError(`${data}: ${examples.features} features per example, but the model takes ${network.inputSize}`);
  }
  // Image labels are class indices as read (CSV classes are looked up by name): the model may know fewer.
  if (encoding.target.task === 'classification' && examples.targets) checkLabels(examples.targets, encoding.target.classes.length, data);
  return examples;
}

function csvInferenceExamples(table: CsvTable, path: string, encoding: DataEncoding): Examples {
  const { column } = encoding.target;
  const targetIndex = column === null ? -1 : table.columns.indexOf(column);
  const featureIndices = encoding.features ? columnIndices(table, encoding.features, path, 'the model') : table.columns.flatMap((_, i) => (i === targetIndex ? [] : [i]));
  const examples: Examples = { x: numericColumns(table, featureIndices, path), count: table.rows.length, features: featureIndices.length, targets: null };
  if (targetIndex < 0) return examples;
  const { target } = encoding;
  if (target.task === 'regression') {
    examples.targets = numericColumns(table, [targetIndex], path);
  } else {
    const indexOf = new Map(target.classes.map((name, index) => [name, index]));
    examples.targets = Int32Array.from(table.rows, (row, r) => {
      const index = indexOf.get(row[targetIndex] as string);
      if (index === undefined) {
        throw new RangeError(
          `${path}:${table.lines[r] as number}: column ${targetIndex + 1} (${quote(column as string)}): class ${quote(row[targetIndex] as string)} is not one the model knows (${listNames(target.classes)})`,
        );
      }
      return index;
    });
  }
  return examples;
}

/** The positions of the columns `names` (named by `wanted`, for the message when one is missing). */
function columnIndices(table: CsvTable, names: readonly string[], path: string, wanted: string): number[] {
  const positions = new Map(table.columns.map((name, index) => [name, index]));
  return names.map((name) => {
    const index = positions.get(name);
    if (index === undefined) throw new RangeError(`${path}: no column ${quote(name)} (named by ${wanted}); the columns are ${listNames(table.columns)}`);
    return index;
  });
}

/**
 * Names for a message as a list, `a, b, label`: the first few of a long list and how many in all,
 * each {@link clip}ped, and {@link quote}d only when a comma, quote or line break in it would blur
 * the list or break the message's one line.
 */
function listNames(names: readonly string[]): string {
  const shown = 8;
  const listed = names
    .slice(0, shown)
    .map((name) => (/[",\p{Cc}]/u.test(name) ? quote(name) : clip(name)))
    .join(', ');
  return names.length > shown ? `${listed}, … (${names.length.toLocaleString('en-US')} in all)` : listed;
}

/**
 * The encoding saved in a model's metadata (checked, since any program may have written it), or
 * the plainest one that fits a model without one (made with the API).
 */
export function encodingOf(network: Network, path: string): DataEncoding {
  const saved = network.metadata.data;
  if (saved !== undefined) return checkEncoding(saved, `${path}: metadata.data`, network);
  const output = outputActivation(network.layers);
  const classes = output === 'softmax' ? network.outputSize : output === 'sigmoid' && network.outputSize === 1 ? 2 : 0;
  const target: ClassTarget | ValueTarget =
    classes > 0
      ? { task: 'classification', column: null, classes: Array.from({ length: classes }, (_, i) => String(i)) }
      : { task: 'regression', column: null, mean: 0, std: 1 };
  return { source: 'unknown', features: null, mean: 0, std: 1, target };
}

function checkEncoding(value: JsonValue, where: string, network: Network): DataEncoding {
  const isStrings = (item: unknown): item is string[] => Array.isArray(item) && item.every((name) => typeof name === 'string');
  const isScaling = (item: unknown): boolean =>
    typeof item === 'number' || (Array.isArray(item) && item.length === network.inputSize && item.every((v) => typeof v === 'number'));
  const invalid = (what: string): never => {
    throw new RangeError(`${where}: ${what}`);
  };
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return invalid('expected an object');
  const { source, features, mean, std, target } = value;
  if (typeof source !== 'string') invalid('source: expected a string');
  if (features !== null && !(isStrings(features) && features.length === network.inputSize)) {
    invalid(`features: expected null or ${network.inputSize} column names`);
  }
  if (!isScaling(mean) || !isScaling(std)) invalid(`mean, std: expected numbers or arrays of ${network.inputSize}`);
  if (typeof target !== 'object' || target === null || Array.isArray(target)) return invalid('target: expected an object');
  const { column } = target;
  if (column !== null && typeof column !== 'string') invalid('target.column: expected a string or null');
  if (target.task === 'classification') {
    const classes = network.outputSize === 1 ? 2 : network.outputSize;
    if (!isStrings(target.classes) || target.classes.length !== classes) invalid(`target.classes: expected ${classes} class names`);
  } else if (target.task === 'regression') {
    if (typeof target.mean !== 'number' || typeof target.std !== 'number') invalid('target.mean, target.std: expected numbers');
  } else {
    invalid("target.task: expected 'classification' or 'regression'");
  }
  return value as unknown as DataEncoding;
}

/** Reads and parses the CSV file `path`. */
async function readCsvFile(path: string): Promise<CsvTable> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    // Past 2 GiB, or 512 Mi characters (V8's longest string), Node's message names no file.
    const code = (error as { code?: unknown }).code;
    if (!(error instanceof RangeError) || (code !== undefined && code !== 'ERR_FS_FILE_TOO_LARGE')) throw error;
    throw new RangeError(`${path}: too large to read at once (at most ${constants.MAX_STRING_LENGTH.toLocaleString('en-US')} characters); use fewer rows`);
  }
  return parseCsv(text, path);
}

/** A short name for output files: the CSV's stem or the data set's name. */
export function stem(name: string): string {
  return basename(name).replace(/\.[^.]*$/, '');
}

async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}


