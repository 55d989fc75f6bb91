#!/usr/bin/env node
/**
 * The `ferronet` command: train on real data in one command, then evaluate and predict with the
 * saved model. Every failure is one line on stderr and a non-zero exit status: 2 for a mistake
 * on the command line, 1 for anything else (a missing file, bad data), 130 after Ctrl-C.
 */

import { usePlatform } from '../platform/index.js';
import { nodePlatform } from '../platform/node.js';
import { quote } from '../validation.js';
import { VERSION } from '../version.js';
import { flagList, UsageError } from './args.js';
import { evaluate, EVALUATE_FLAGS, predict, PREDICT_FLAGS } from './inference.js';
import { EXPORT_FLAGS, exportModel, IMPORT_FLAGS, importModel } from './interop.js';
import { train, TRAIN_FLAGS } from './train.js';

// The command is a Node entry point, like ts/index.ts.
usePlatform(nodePlatform);

const COMMANDS: Record<string, (argv: string[]) => Promise<number>> = {
  train: (argv) => train(argv, process.stdout, process.stderr),
  evaluate: (argv) => evaluate(argv, process.stdout, process.stderr),
  predict: (argv) => predict(argv, process.stdout),
  export: (argv) => exportModel(argv, process.stdout),
  import: (argv) => importModel(argv, process.stdout),
};

function overview(): string {
  return (
    `ferronet ${VERSION}: neural-network training with Rust kernels\n\n` +
    'Usage:\n' +
    '  ferronet train planar [options]                        the planar flower, 2-4-1, in seconds\n' +
    '  ferronet train fashion-mnist [--data DIR] [options]    Fashion-MNIST, 784-256-128-10\n' +
    '  ferronet train fashion-mnist --model cnn [options]     Fashion-MNIST, a small CNN\n' +
    '  ferronet train csv FILE --label COLUMN [options]       your own CSV file\n' +
    '  ferronet evaluate MODEL DATA [options]                 loss and accuracy of a saved model\n' +
    '  ferronet predict MODEL DATA [--out FILE] [options]     predictions of a saved model, as CSV\n' +
    '  ferronet export MODEL --format onnx|tfjs               a saved model for onnxruntime or TensorFlow.js\n' +
    '  ferronet import model.json --out MODEL                 a TensorFlow.js layers model\n' +
    '  ferronet help [COMMAND]    ferronet COMMAND --help    ferronet --version\n\n' +
    `train options:\n${flagList(TRAIN_FLAGS)}\n` +
    `evaluate options:\n${flagList(EVALUATE_FLAGS)}\n` +
    `predict options:\n${flagList(PREDICT_FLAGS)}\n` +
    `export options:\n${flagList(EXPORT_FLAGS)}\n` +
    `import options:\n${flagList(IMPORT_FLAGS)}\n` +
    'Defaults differ by data set: see ferronet train --help. Documentation: docs/cli.md.\n'
  );
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  if (command === undefined || command === '--help' || command === '-h') {
    (command === undefined ? process.stderr : process.stdout).write(overview());
    return command === undefined ? 2 : 0;
  }
  if (command === '--version' || command === '-v') {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  if (command === 'help') {
    const topic = rest[0];
    if (topic === undefined) {
      process.stdout.write(overview());
      return 0;
    }
    const run = COMMANDS[topic];
    if (!run) throw new UsageError(`no command ${quote(topic)}`, null);
    return run(['--help']);
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`unknown command ${quote(command)} (expected ${Object.keys(COMMANDS).join(', ')})`, null);
  return run(rest);
}

/** One line, whatever went wrong: what the user can act on, without a stack trace. */
function explain(error: unknown): string {
  if (error instanceof UsageError) return `${error.message} (see ferronet ${error.command === null ? '' : `${error.command} `}--help)`;
  const code = (error as { code?: unknown }).code;
  const path = (error as { path?: unknown }).path;
  if (typeof path === 'string' && code === 'ENOENT') return `${path}: no such file or folder`;
  if (typeof path === 'string' && code === 'EISDIR') return `${path}: is a folder, expected a file`;
  if (typeof path === 'string' && code === 'EACCES') return `${path}: permission denied`;
  return (error instanceof Error ? error.message : String(error)).replace(/\s*\n\s*/g, ' ');
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`ferronet: ${explain(error)}\n`);
  process.exitCode = error instanceof UsageError ? 2 : 1;
}
