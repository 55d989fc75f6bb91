/**
 * `ferronet export MODEL --format onnx|tfjs|safetensors` and `ferronet import
 * model.json|model.safetensors --out MODEL`: a saved model handed to onnxruntime, TensorFlow.js
 * or PyTorch, and TensorFlow.js and PyTorch-trained models brought back. docs/interop.md.
 */

import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { BACKEND_NAMES } from '../backends/backend.js';
import { Network } from '../network.js';
import { quote } from '../validation.js';
import { flagList, FlagReader, parseCommandLine, UsageError, type Flags } from './args.js';
import { makeParent } from './files.js';
import { describeLayers, type Terminal } from './report.js';

/** The formats `export` writes. */
const FORMATS = ['onnx', 'tfjs', 'safetensors'] as const;
type Format = (typeof FORMATS)[number];

/** The flags of `export`. */
export const EXPORT_FLAGS: Flags = {
  format: { value: 'NAME', help: `${FORMATS.join(', ')} (required)` },
  out: { value: 'PATH', help: 'the file (a folder for tfjs) to write; default: beside MODEL, e.g. model.onnx, model-tfjs/, model.safetensors' },
  help: { help: 'show this help' },
};

/** The flags of `import`. */
export const IMPORT_FLAGS: Flags = {
  out: { value: 'FILE', help: 'the ferronet model file to write (required)' },
  backend: { value: 'NAME', help: `check the model on this backend: auto, ${BACKEND_NAMES.join(', ')}` },
  help: { help: 'show this help' },
};

/** The help of `export`. */
export function exportHelp(): string {
  return (
    'Usage: ferronet export MODEL --format onnx|tfjs|safetensors [--out PATH]\n\n' +
    'Writes a saved model in another format:\n' +
    '  onnx         an ONNX graph for onnxruntime (input "input", output "output", any batch size)\n' +
    '  tfjs         a TensorFlow.js layers model: a folder with model.json and its weights\n' +
    '  safetensors  PyTorch\'s weights (interop/pytorch/ferronet_torch.py builds the module)\n\n' +
    flagList(EXPORT_FLAGS)
  );
}

/** The help of `import`. */
export function importHelp(): string {
  return (
    'Usage: ferronet import model.json|model.safetensors --out MODEL [options]\n\n' +
    'Reads a TensorFlow.js layers model (Sequential: model.json, its weight shards beside it),\n' +
    'or a safetensors file from ferronet or ferronet_torch.save_safetensors, into a ferronet\n' +
    'model file.\n\n' +
    flagList(IMPORT_FLAGS)
  );
}

/** Runs `export`; resolves with the exit status. */
export async function exportModel(argv: string[], out: Terminal): Promise<number> {
  const line = parseCommandLine(argv, EXPORT_FLAGS, 'export');
  const reader = new FlagReader(line, 'export');
  if (reader.has('help')) {
    out.write(exportHelp());
    return 0;
  }
  const [modelPath, ...extra] = line.positionals;
  if (modelPath === undefined) throw new UsageError('export needs MODEL', 'export');
  if (extra.length > 0) throw new UsageError(`unexpected ${quote(extra[0] as string)}`, 'export');
  if (reader.text('format') === undefined) throw new UsageError(`export needs --format (${FORMATS.join(', ')})`, 'export');
  const format = reader.oneOf<Format>('format', FORMATS, 'onnx');
  const stem = join(dirname(modelPath), basename(modelPath).replace(/\.fnet$/, ''));
  const target = reader.text('out', format === 'tfjs' ? `${stem}-tfjs` : `${stem}.${format}`);
  // Export reads weights only: the ts backend needs no compiled module and gives the same bytes.
  const network = await Network.load(modelPath, { backend: 'ts' });
  const written = await writeFormat(network, format, target);
  network.dispose();
  out.write(`${modelPath}: ${describeLayers(network)}\n${written.map((path) => `wrote ${path}\n`).join('')}`);
  return 0;
}

/** Writes `network` as `format` at `target`; resolves with the paths written. */
async function writeFormat(network: Network, format: Format, target: string): Promise<string[]> {
  if (format === 'tfjs') {
    const { modelJson, weightData } = network.toTfjs();
    await mkdir(target, { recursive: true });
    const shards = modelJson.weightsManifest.flatMap(({ paths }) => paths);
    if (shards.length !== 1) throw new Error(`export: expected toTfjs() to give one weight shard, got ${shards.length}`);
    const shardPath = join(target, shards[0] as string);
    const modelJsonPath = join(target, 'model.json');
    await writeFile(shardPath, new Uint8Array(weightData));
    await writeFile(modelJsonPath, JSON.stringify(modelJson));
    return [modelJsonPath, shardPath];
  }
  await makeParent(target);
  await writeFile(target, format === 'onnx' ? await network.toOnnx() : network.toSafetensors());
  return [target];
}

/** Runs `import`; resolves with the exit status. */
export async function importModel(argv: string[], out: Terminal): Promise<number> {
  const line = parseCommandLine(argv, IMPORT_FLAGS, 'import');
  const reader = new FlagReader(line, 'import');
  if (reader.has('help')) {
    out.write(importHelp());
    return 0;
  }
  const [source, ...extra] = line.positionals;
  if (source === undefined) throw new UsageError('import needs FILE (a TensorFlow.js model.json or a .safetensors file)', 'import');
  if (extra.length > 0) throw new UsageError(`unexpected ${quote(extra[0] as string)}`, 'import');
  const target = reader.text('out');
  if (target === undefined) throw new UsageError('import needs --out FILE (the ferronet model to write)', 'import');
  const backend = reader.oneOf('backend', ['auto', ...BACKEND_NAMES], 'auto');
  const network = await importNetwork(source, backend);
  await makeParent(target);
  await network.save(target);
  out.write(`${source}: ${describeLayers(network)} on the ${network.backend} backend\nwrote ${target}\n`);
  network.dispose();
  return 0;
}

/** The network in `source`, chosen by its extension. */
async function importNetwork(source: string, backend: (typeof BACKEND_NAMES)[number] | 'auto'): Promise<Network> {
  if (source.endsWith('.json')) return Network.loadTfjs(source, { backend });
  if (source.endsWith('.safetensors')) return Network.loadSafetensors(source, { backend });
  throw new UsageError(`${quote(source)}: expected a TensorFlow.js model.json or a .safetensors file`, 'import');
}
