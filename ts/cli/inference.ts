/** `ferronet evaluate MODEL DATA` and `ferronet predict MODEL DATA`: a saved model on new data. */

import { writeFile } from 'node:fs/promises';
import { BACKEND_NAMES } from '../backends/backend.js';
import { Network } from '../network.js';
import { quote } from '../validation.js';
import { flagList, FlagReader, parseCommandLine, UsageError, type Flags } from './args.js';
import { checkProbabilitiesSize, decodeOutputs, encodeInputs, encodeTargets, encodingOf, inferenceExamples, type DataEncoding } from './data.js';
import { makeParent } from './files.js';
import { count, describeLayers, percent, Reporter, type Terminal } from './report.js';

/** The flags of `evaluate`. */
export const EVALUATE_FLAGS: Flags = {
  backend: { value: 'NAME', help: `auto, ${BACKEND_NAMES.join(', ')}` },
  json: { help: 'print one JSON object: {"samples", "loss", "accuracy"}' },
  help: { help: 'show this help' },
};

/** The flags of `predict`. */
export const PREDICT_FLAGS: Flags = {
  out: { value: 'FILE', help: 'write the predictions (CSV) here instead of to the standard output' },
  backend: { value: 'NAME', help: `auto, ${BACKEND_NAMES.join(', ')}` },
  help: { help: 'show this help' },
};

/** What DATA may be, for both commands' help. */
const DATA_HELP =
  'DATA is `planar`, `fashion-mnist` (its test images), a folder of Fashion-MNIST files (its\n' +
  'test images), an IDX images file (`*-images-idx3-ubyte[.gz]`, labels read from the\n' +
  '`*-labels-idx1-ubyte[.gz]` beside it) or a CSV file with the columns the model was trained on.\n' +
  'Inputs are scaled as they were for training (the model file remembers how).\n';

/** The help of `evaluate`. */
export function evaluateHelp(): string {
  return `Usage: ferronet evaluate MODEL DATA [options]\n\nLoss and accuracy of a saved model on labelled data.\n${DATA_HELP}\n${flagList(EVALUATE_FLAGS)}`;
}

/** The help of `predict`. */
export function predictHelp(): string {
  return (
    'Usage: ferronet predict MODEL DATA [--out FILE] [options]\n\n' +
    'Predictions of a saved model as CSV, one line per example: the predicted class and each\n' +
    "class's probability (classification), or the predicted value (regression).\n" +
    `${DATA_HELP}\n${flagList(PREDICT_FLAGS)}`
  );
}

async function open(argv: string[], flags: Flags, command: 'evaluate' | 'predict'): Promise<{ reader: FlagReader; network: Network; encoding: DataEncoding; data: string; modelPath: string } | null> {
  const line = parseCommandLine(argv, flags, command);
  const reader = new FlagReader(line, command);
  if (reader.has('help')) return null;
  const [modelPath, data, ...extra] = line.positionals;
  if (modelPath === undefined || data === undefined) throw new UsageError(`${command} needs MODEL and DATA`, command);
  if (extra.length > 0) throw new UsageError(`unexpected ${quote(extra[0] as string)}`, command);
  const backend = reader.oneOf('backend', ['auto', ...BACKEND_NAMES], 'auto');
  const network = await Network.load(modelPath, { backend });
  return { reader, network, encoding: encodingOf(network, modelPath), data, modelPath };
}

/** Runs `evaluate`; resolves with the exit status. */
export async function evaluate(argv: string[], out: Terminal, err: Terminal): Promise<number> {
  const opened = await open(argv, EVALUATE_FLAGS, 'evaluate');
  if (!opened) {
    out.write(evaluateHelp());
    return 0;
  }
  const { reader, network, encoding, data, modelPath } = opened;
  const report = new Reporter(reader.has('json') ? 'json' : 'text', out, err);
  const examples = await inferenceExamples(data, encoding, network);
  if (!examples.targets) throw new RangeError(`${data}: no ${encoding.target.column === null ? 'labels' : `${quote(encoding.target.column)} column`} to evaluate against`);
  if (encoding.target.task === 'classification') checkProbabilitiesSize(examples.count, encoding.target.classes.length, data);
  const result = network.evaluate(encodeInputs(encoding, examples), encodeTargets(encoding, examples.targets, network));
  const classification = encoding.target.task === 'classification';
  report.info(`${modelPath}: ${describeLayers(network)} on the ${network.backend} backend`);
  report.info(`${count(examples.count)} examples: loss ${result.loss.toFixed(4)}${classification ? `, accuracy ${percent(result.accuracy)}` : ''}`);
  report.json({ samples: examples.count, loss: result.loss, accuracy: classification ? result.accuracy : null });
  network.dispose();
  return 0;
}

/** Runs `predict`; resolves with the exit status. */
export async function predict(argv: string[], out: Terminal): Promise<number> {
  const opened = await open(argv, PREDICT_FLAGS, 'predict');
  if (!opened) {
    out.write(predictHelp());
    return 0;
  }
  const { reader, network, encoding, data } = opened;
  const examples = await inferenceExamples(data, encoding, network);
  const answers = decodeOutputs(encoding, network.predict(encodeInputs(encoding, examples)), network);
  network.dispose();
  const { target } = encoding;
  const lines: string[] = [];
  if (target.task === 'regression') {
    lines.push(csvField(target.column ?? 'prediction'));
    answers.forEach((value) => lines.push(String(value)));
  } else {
    const classes = target.classes.length;
    lines.push(['prediction', ...target.classes.map((name) => `p(${name})`)].map(csvField).join(','));
    for (let i = 0; i < examples.count; i++) {
      const probabilities = answers.subarray(i * classes, (i + 1) * classes);
      // One pass, not Math.max(...probabilities): spreading the outputs of a model of many classes overflows the stack.
      const best = probabilities.reduce((top, p, index) => (p > (probabilities[top] as number) ? index : top), 0);
      lines.push([csvField(target.classes[best] as string), ...Array.from(probabilities, (p) => p.toPrecision(6))].join(','));
    }
  }
  const text = `${lines.join('\n')}\n`;
  const path = reader.text('out');
  if (path === undefined) {
    out.write(text);
  } else {
    await makeParent(path);
    await writeFile(path, text);
  }
  return 0;
}

/** A CSV field, quoted when it holds a comma, a quote or a line break. */
function csvField(text: string): string {
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
