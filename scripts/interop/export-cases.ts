/**
 * Writes the networks of test/interop/networks.ts as ferronet safetensors files, with inputs
 * and `predict`'s outputs, and a manifest for scripts/interop/check_pytorch.py:
 *
 *     npx tsx scripts/interop/export-cases.ts DIR [ts|wasm|native]
 *     ~/torchvenv/bin/python scripts/interop/check_pytorch.py DIR/manifest.json
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CASES, variedWeights } from '../../test/interop/networks.js';
import { uniformArray } from '../../test/helpers.js';
import { Network, type BackendName } from '../../ts/index.js';
import { Random } from '../../ts/random.js';

const ROWS = 5;
const [directory, backend = 'ts'] = process.argv.slice(2);
if (directory === undefined) throw new Error('usage: export-cases.ts DIR [ts|wasm|native]');
mkdirSync(directory, { recursive: true });
const random = new Random(11);
const manifest = [];
for (const [index, { name, options, inputs = [-1, 1] }] of CASES.entries()) {
  const net = await Network.create({ ...options, seed: index + 1, backend: backend as BackendName });
  net.setWeights(variedWeights(net, random));
  const x = uniformArray(random, ROWS * net.inputSize, ...inputs);
  const y = net.predict(x);
  const base = join(directory, `case${index}`);
  writeFileSync(`${base}.safetensors`, net.toSafetensors());
  writeFileSync(`${base}.in.f32`, new Uint8Array(x.buffer, x.byteOffset, x.byteLength));
  writeFileSync(`${base}.out.f32`, new Uint8Array(y.buffer, y.byteOffset, y.byteLength));
  manifest.push({ name, model: `${base}.safetensors`, input: `${base}.in.f32`, rows: ROWS, expected: `${base}.out.f32` });
  net.dispose();
}
writeFileSync(join(directory, 'manifest.json'), JSON.stringify(manifest, null, 1));
console.log(`${manifest.length} networks written to ${directory} (${backend} backend)`);
