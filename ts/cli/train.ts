/** `ferronet train DATASET`: trains, reports, saves the model and draws its pictures. */

import { BACKEND_NAMES } from '../backends/backend.js';
import { FASHION_MNIST_DIRECTORY } from '../datasets/fashion-mnist.js';
import { ACTIVATIONS, INITIALIZERS, type ActivationName, type InitializerName, type LayerConfig } from '../layers/index.js';
import { Network, type LayerWeights } from '../network.js';
import { OPTIMIZERS, type OptimizerName } from '../optimizers/index.js';
import { decisionBoundarySvg } from '../plots/decision-boundary.js';
import { trainingCurvesSvg } from '../plots/training-curves.js';
import { Trainer, type History } from '../trainer.js';
import { FlagReader, parseCommandLine, UsageError, type Flags } from './args.js';
import {
  csvTrainingExamples,
  decodeOutputs,
  encodeInputs,
  encodeTargets,
  FASHION_MNIST_ENCODING,
  fashionMnistExamples,
  featureStatistics,
  planarExamples,
  splitExamples,
  stem,
  type DataEncoding,
  type Examples,
  type Task,
} from './data.js';
import { makeParent, writePicture } from './files.js';
import { count, duration, percent, Reporter, type OutputMode, type Terminal } from './report.js';

/** The data sets `train` knows. */
export const DATASETS = ['planar', 'fashion-mnist', 'csv'] as const;
type Dataset = (typeof DATASETS)[number];

/** Each data set's defaults: what works well on it out of the box. */
export interface Recipe {
  /** Passes over the training data. */
  epochs: number;
  /** Examples per update. */
  batchSize: number;
  /** Units of each hidden layer. */
  hidden: number[];
  /** The hidden layers' activation. */
  activation: ActivationName;
  /** Weight initialization. */
  init: InitializerName;
  /** The optimizer. */
  optimizer: OptimizerName;
  /** Its learning rate. */
  learningRate: number;
  /** Seed of the weights, the shuffling and the validation split. */
  seed: number;
  /** Fraction of the training data held out to validate on. */
  validationSplit: number;
}

/** The defaults by data set; planar's are the classic exercise's (full-batch gradient descent). */
export const RECIPES: Record<Dataset, Recipe> = {
  planar: { epochs: 10000, batchSize: 400, hidden: [4], activation: 'tanh', init: 'normal0.01', optimizer: 'sgd', learningRate: 1.2, seed: 2, validationSplit: 0 },
  'fashion-mnist': { epochs: 10, batchSize: 128, hidden: [256, 128], activation: 'relu', init: 'auto', optimizer: 'adam', learningRate: 1e-3, seed: 1, validationSplit: 0.1 },
  csv: { epochs: 50, batchSize: 32, hidden: [64, 32], activation: 'relu', init: 'auto', optimizer: 'adam', learningRate: 1e-3, seed: 1, validationSplit: 0.2 },
};

/** The flags of `train`, with the data sets each one applies to (all when not said). */
export const TRAIN_FLAGS: Flags = {
  data: { value: 'DIR', help: `fashion-mnist: folder of the four IDX files, gzipped or not (default ${FASHION_MNIST_DIRECTORY})` },
  limit: { value: 'N', help: 'fashion-mnist: use only the first N training and N test images (quick trials)' },
  label: { value: 'COLUMN', help: 'csv: the column to predict (required)' },
  features: { value: 'A,B,...', help: 'csv: the input columns (default: every other column)' },
  task: { value: 'TASK', help: 'csv: classification or regression (default: classification for text or up to 20 whole numbers)' },
  epochs: { value: 'N', help: 'passes over the training data' },
  'batch-size': { value: 'N', help: 'examples per update' },
  hidden: { value: 'N,N,...', help: 'units of each hidden layer' },
  activation: { value: 'NAME', help: `hidden layers' activation: ${ACTIVATIONS.filter((name) => name !== 'softmax').join(', ')}` },
  init: { value: 'NAME', help: `weight initialization: ${INITIALIZERS.join(', ')}` },
  optimizer: { value: 'NAME', help: OPTIMIZERS.join(', ') },
  lr: { value: 'RATE', help: 'learning rate' },
  'validation-split': { value: 'F', help: 'fraction of the training data held out for validation' },
  keep: { value: 'WHICH', help: 'best (weights of the best validation epoch, the default) or last' },
  backend: { value: 'NAME', help: `auto, ${BACKEND_NAMES.join(', ')} (default auto: the fastest that loads)` },
  seed: { value: 'N', help: 'seed of the initial weights, the shuffling and the split' },
  out: { value: 'FILE', help: 'where to save the model (default DATASET.fnet); pictures go beside it' },
  quiet: { help: 'print nothing but errors' },
  json: { help: 'print one JSON object per line: each epoch, then the test result' },
  help: { help: 'show this help' },
};

const ONLY: Partial<Record<string, Dataset>> = { data: 'fashion-mnist', limit: 'fashion-mnist', label: 'csv', features: 'csv', task: 'csv' };

/** Where a run's examples and encoding come from. */
interface Prepared {
  train: Examples;
  validation: Examples | null;
  test: Examples | null;
  encoding: DataEncoding;
  /** The output layer: planar keeps the classic single sigmoid. */
  output: LayerConfig;
}

/** Runs `train` with `argv` (the words after `train`); resolves with the exit status. */
export async function train(argv: string[], out: Terminal, err: Terminal): Promise<number> {
  const line = parseCommandLine(argv, TRAIN_FLAGS, 'train');
  const flags = new FlagReader(line, 'train');
  if (flags.has('help')) {
    out.write(trainHelp());
    return 0;
  }
  const [dataset, file, ...extra] = line.positionals;
  if (dataset === undefined) throw new UsageError(`which data set? ${DATASETS.join(', ')}`, 'train');
  if (!(DATASETS as readonly string[]).includes(dataset)) throw new UsageError(`unknown data set ${JSON.stringify(dataset)} (expected ${DATASETS.join(', ')})`, 'train');
  const name = dataset as Dataset;
  const expectedWords = name === 'csv' ? 1 : 0;
  if (name === 'csv' && file === undefined) throw new UsageError('train csv needs a FILE', 'train');
  const surplus = [file, ...extra].slice(expectedWords).filter((word) => word !== undefined);
  if (surplus.length > 0) throw new UsageError(`unexpected ${JSON.stringify(surplus[0])}`, 'train');
  for (const [flag, only] of Object.entries(ONLY)) {
    if (line.flags[flag] !== undefined && only !== name) throw new UsageError(`--${flag} applies to train ${only} only`, 'train');
  }
  if (flags.has('quiet') && flags.has('json')) throw new UsageError('--quiet and --json exclude each other', 'train');
  const mode: OutputMode = flags.has('json') ? 'json' : flags.has('quiet') ? 'quiet' : 'text';

  const recipe = RECIPES[name];
  const epochs = flags.integer('epochs', recipe.epochs);
  const hidden = flags.integerList('hidden', recipe.hidden);
  const activation = flags.oneOf('activation', ACTIVATIONS.filter((a) => a !== 'softmax'), recipe.activation);
  const init = flags.oneOf('init', INITIALIZERS, recipe.init);
  const optimizer = flags.oneOf('optimizer', OPTIMIZERS, recipe.optimizer);
  const learningRate = flags.positiveNumber('lr', recipe.learningRate);
  const validationSplit = flags.fraction('validation-split', recipe.validationSplit);
  const keep = flags.oneOf('keep', ['best', 'last'], 'best');
  const backend = flags.oneOf('backend', ['auto', ...BACKEND_NAMES], 'auto');
  const seed = flags.anyInteger('seed', recipe.seed);
  const limit = flags.integer('limit', Infinity);
  const task = flags.text('task') === undefined ? undefined : flags.oneOf<Task>('task', ['classification', 'regression'], 'classification');
  const label = flags.text('label');
  if (name === 'csv' && label === undefined) throw new UsageError('train csv needs --label COLUMN', 'train');
  const modelPath = flags.text('out', `${name === 'csv' ? stem(file as string) : name}.fnet`);
  if (!modelPath.endsWith('.fnet')) throw new UsageError(`--out: expected a file name ending in .fnet, got ${JSON.stringify(modelPath)}`, 'train');

  const report = new Reporter(mode, out, err);
  const prepared = await prepare(name, { file, label, features: flags.list('features'), task, data: flags.text('data'), limit, validationSplit, seed });
  const { train: training, validation, test, encoding } = prepared;
  // A default larger than the data (planar's full batch, after a validation split) shrinks to fit it.
  const batchSize = flags.integer('batch-size', Math.min(recipe.batchSize, training.count));
  if (batchSize > training.count) throw new UsageError(`--batch-size ${batchSize} is more than the ${training.count} training examples`, 'train');

  const network = await Network.create({
    inputSize: training.features,
    layers: [...hidden.map((units) => ({ units, activation })), prepared.output],
    seed,
    backend,
    init,
  });
  network.metadata = { data: encoding as never };
  const trainer = new Trainer(network, { optimizer: { name: optimizer, learningRate }, batchSize });
  const classification = encoding.target.task === 'classification';
  const architecture = describeLayers(network);
  report.info(`training ${architecture} on ${name} with the ${network.backend} backend`);
  report.info(
    `  ${count(training.count)} training${validation ? `, ${count(validation.count)} validation` : ''}${test ? `, ${count(test.count)} test` : ''} examples; ` +
      `${optimizer} lr ${learningRate}, batch ${batchSize}, ${count(epochs)} epochs, seed ${seed}`,
  );

  const x = encodeInputs(encoding, training);
  const y = encodeTargets(encoding, training.targets as Int32Array | Float32Array, network);
  const validationData = validation && { x: encodeInputs(encoding, validation), y: encodeTargets(encoding, validation.targets as Int32Array | Float32Array, network) };
  const best = { epoch: -1, score: -Infinity, weights: null as LayerWeights[] | null };
  const controller = new AbortController();
  const interrupt = (): void => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    report.info('interrupted: stopping after the batches in flight, then saving (Ctrl-C again to quit at once)');
  };
  process.on('SIGINT', interrupt);
  const started = performance.now();
  let history: History;
  try {
    report.startFit(classification);
    history = await trainer.fit(x, y, {
      epochs,
      ...(validationData ? { validationData } : {}),
      signal: controller.signal,
      onProgress: (progress) => {
        report.progress(progress);
      },
      onEpochEnd: (epoch, logs) => {
        report.epoch(epoch, epochs, logs);
        // Classification keeps the most accurate epoch; regression the lowest validation loss.
        const score = classification ? logs.valAccuracy : -(logs.valLoss ?? 0);
        if (keep === 'best' && score !== undefined && validationData && score > best.score) {
          Object.assign(best, { epoch, score, weights: network.getWeights() });
        }
      },
    });
  } finally {
    process.off('SIGINT', interrupt);
    report.endFit();
  }
  const seconds = (performance.now() - started) / 1000;
  const last = history.epochs - 1;
  const trained = history.loss.at(-1);
  if (trained !== undefined) {
    const throughput = (training.count * history.epochs) / seconds;
    report.info(`trained ${count(history.epochs)} epochs in ${duration(seconds)} (${count(throughput)} samples/s): loss ${trained.toFixed(4)}${classification ? `, accuracy ${percent(history.accuracy.at(-1) ?? 0)}` : ''}`);
  }
  if (best.weights && best.epoch !== last) {
    network.setWeights(best.weights);
    const figure = classification ? `accuracy ${percent(best.score)}` : `loss ${(-best.score).toFixed(4)}`;
    report.info(`kept the weights of epoch ${best.epoch + 1}, the best on validation (${figure})`);
  }
  if (test?.targets) {
    const result = network.evaluate(encodeInputs(encoding, test), encodeTargets(encoding, test.targets, network));
    report.info(`test: loss ${result.loss.toFixed(4)}${classification ? `, accuracy ${percent(result.accuracy)}` : ''} on ${count(test.count)} examples`);
    report.json({ testLoss: result.loss, testAccuracy: classification ? result.accuracy : null });
  }

  await makeParent(modelPath);
  await network.save(modelPath);
  const written = [modelPath];
  const title = `${name === 'csv' ? stem(file as string) : name} · ${architecture}`;
  const base = modelPath.replace(/\.fnet$/, '');
  if (history.epochs > 0) written.push(...(await writePicture(`${base}-training.svg`, trainingCurvesSvg({ title, history, accuracy: classification }))));
  if (training.features === 2 && encoding.target.task === 'classification') {
    const { classes } = encoding.target;
    const axisTitles = (encoding.features ?? ['x₁', 'x₂']) as [string, string];
    const svg = await decisionBoundarySvg({
      title,
      points: training.x,
      labels: training.targets as Int32Array,
      classes,
      axisTitles,
      predict: (positions) => decodeOutputs(encoding, network.predict(encodeInputs(encoding, { ...training, x: positions, count: positions.length / 2 })), network),
    });
    written.push(...(await writePicture(`${base}-boundary.svg`, svg)));
  }
  report.info(`wrote ${written.join(', ')}`);
  network.dispose();
  return controller.signal.aborted ? 130 : 0;
}

interface PrepareOptions {
  file: string | undefined;
  label: string | undefined;
  features: string[] | undefined;
  task: Task | undefined;
  data: string | undefined;
  limit: number;
  validationSplit: number;
  seed: number;
}

async function prepare(name: Dataset, options: PrepareOptions): Promise<Prepared> {
  const { validationSplit, seed } = options;
  if (name === 'planar') {
    const { examples, encoding } = planarExamples();
    const [train, validation] = splitExamples(examples, validationSplit, seed);
    return { train, validation, test: null, encoding, output: { units: 1, activation: 'sigmoid' } };
  }
  if (name === 'fashion-mnist') {
    const [train, validation] = splitExamples(await fashionMnistExamples(options.data, 'train', options.limit), validationSplit, seed);
    const test = await fashionMnistExamples(options.data, 't10k', options.limit);
    const classes = FASHION_MNIST_ENCODING.target.task === 'classification' ? FASHION_MNIST_ENCODING.target.classes.length : 0;
    return { train, validation, test, encoding: FASHION_MNIST_ENCODING, output: { units: classes, activation: 'softmax' } };
  }
  const { examples, features, target } = await csvTrainingExamples(options.file as string, options.label as string, options.features, options.task);
  const [train, validation] = splitExamples(examples, validationSplit, seed);
  // Statistics of the training part only: the validation part stays unseen.
  const { mean, std } = featureStatistics(train);
  if (target.task === 'classification') {
    return { train, validation, test: null, encoding: { source: 'csv', features, mean, std, target }, output: { units: target.classes.length, activation: 'softmax' } };
  }
  const values = featureStatistics({ ...train, x: train.targets as Float32Array, features: 1 });
  const encoding: DataEncoding = { source: 'csv', features, mean, std, target: { ...target, mean: values.mean[0] as number, std: values.std[0] as number } };
  return { train, validation, test: null, encoding, output: { units: 1, activation: 'linear' } };
}

/** `2 → 4 tanh → 1 sigmoid`. */
export function describeLayers(network: Network): string {
  return [String(network.inputSize), ...network.layers.map((layer) => `${layer.units} ${layer.activation}`)].join(' → ');
}

/** The help of `train`, with each data set's defaults. */
export function trainHelp(): string {
  const rows = (['epochs', 'batchSize', 'hidden', 'activation', 'init', 'optimizer', 'learningRate', 'validationSplit', 'seed'] as const).map((key) => {
    const flag = { batchSize: 'batch-size', learningRate: 'lr', validationSplit: 'validation-split' }[key as string] ?? key;
    return `  --${flag.padEnd(17)}${DATASETS.map((d) => String(RECIPES[d][key])).map((v) => v.padEnd(15)).join('')}`;
  });
  return (
    'Usage: ferronet train planar [options]\n' +
    '       ferronet train fashion-mnist [--data DIR] [--limit N] [options]\n' +
    '       ferronet train csv FILE --label COLUMN [--features A,B] [--task TASK] [options]\n\n' +
    'Trains a network, prints its progress, saves it (--out) and draws its training curves\n' +
    '(and, for two inputs, its decision boundary) as SVG, plus PNG where rsvg-convert exists.\n\n' +
    flagList(TRAIN_FLAGS) +
    `\nDefaults by data set:\n  ${''.padEnd(19)}${DATASETS.map((d) => d.padEnd(15)).join('')}\n${rows.join('\n')}\n`
  );
}

/** Aligned `--flag VALUE  help` lines. */
export function flagList(flags: Flags): string {
  const left = (name: string): string => `  --${name}${flags[name]?.value ? ` ${flags[name].value}` : ''}`;
  const width = Math.max(...Object.keys(flags).map((name) => left(name).length)) + 2;
  return Object.keys(flags)
    .map((name) => `${left(name).padEnd(width)}${flags[name]?.help ?? ''}\n`)
    .join('');
}
