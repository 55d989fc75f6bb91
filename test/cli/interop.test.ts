/**
 * `ferronet export` and `ferronet import` as users run them: a trained model out to ONNX,
 * TensorFlow.js and safetensors, and back, evaluating exactly as before (the data scaling it remembers travels with it).
 */

import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CLI, expectOneLineError, ferronetIn } from './helpers.js';

const directory = await mkdtemp(join(tmpdir(), 'ferronet-cli-interop-'));
const ferronet = ferronetIn(directory);

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run npm run build first`);
  const trained = await ferronet('train', 'planar', '--epochs', '200', '--quiet', '--out', 'planar.fnet');
  expect(trained.code).toBe(0);
});
afterAll(() => rm(directory, { recursive: true, force: true }));

/** `evaluate MODEL planar --json`, parsed. */
async function evaluation(model: string): Promise<{ samples: number; loss: number; accuracy: number }> {
  const run = await ferronet('evaluate', model, 'planar', '--json', '--backend', 'ts');
  expect(run.code, run.stderr).toBe(0);
  return JSON.parse(run.stdout) as { samples: number; loss: number; accuracy: number };
}

describe('ferronet export and import', () => {
  it('writes ONNX beside the model by default, or at --out', async () => {
    const onnx = await ferronet('export', 'planar.fnet', '--format', 'onnx', '--out', 'out/planar.onnx');
    expect(onnx.code, onnx.stderr).toBe(0);
    expect(onnx.stdout).toContain('wrote out/planar.onnx');
    // An ONNX file is a protobuf ModelProto: field 1 (ir_version) comes first, as a varint.
    expect((await readFile(join(directory, 'out/planar.onnx')))[0]).toBe(0x08);
    expect((await ferronet('export', 'planar.fnet', '--format', 'onnx')).stdout).toContain('wrote planar.onnx');
  });

  it('writes a TensorFlow.js folder beside the model', async () => {
    const tfjs = await ferronet('export', 'planar.fnet', '--format', 'tfjs');
    expect(tfjs.code, tfjs.stderr).toBe(0);
    expect(tfjs.stdout).toContain('wrote planar-tfjs/model.json');
    const modelJson = JSON.parse(await readFile(join(directory, 'planar-tfjs/model.json'), 'utf8')) as { format: string };
    expect(modelJson.format).toBe('layers-model');
  });

  it('brings a tfjs model back with the same loss and accuracy', async () => {
    const original = await evaluation('planar.fnet');
    expect(original.accuracy).toBeGreaterThan(0.8);
    const imported = await ferronet('import', 'planar-tfjs/model.json', '--out', 'back/from-tfjs.fnet');
    expect(imported.code, imported.stderr).toBe(0);
    expect(imported.stdout).toContain('wrote back/from-tfjs.fnet');
    // The weights are bit-identical, so the same backend computes the same numbers.
    expect(await evaluation('back/from-tfjs.fnet')).toEqual(original);
  });

  it('writes safetensors and brings them back with the same loss and accuracy', async () => {
    const original = await evaluation('planar.fnet');
    const exported = await ferronet('export', 'planar.fnet', '--format', 'safetensors');
    expect(exported.code, exported.stderr).toBe(0);
    expect(exported.stdout).toContain('wrote planar.safetensors');
    const bytes = await readFile(join(directory, 'planar.safetensors'));
    const headerLength = Number(bytes.readBigUInt64LE(0));
    expect(Object.keys(JSON.parse(bytes.subarray(8, 8 + headerLength).toString('utf8')) as object)).toEqual([
      '__metadata__',
      'layers.0.weight',
      'layers.0.bias',
      'layers.1.weight',
      'layers.1.bias',
    ]);
    const imported = await ferronet('import', 'planar.safetensors', '--out', 'back/from-safetensors.fnet');
    expect(imported.code, imported.stderr).toBe(0);
    expect(await evaluation('back/from-safetensors.fnet')).toEqual(original);
  });

  it('explains mistakes in one line', async () => {
    expectOneLineError(await ferronet('export', 'planar.fnet'), 2, 'ferronet: export needs --format (onnx, tfjs, safetensors) (see ferronet export --help)');
    expectOneLineError(await ferronet('export', 'planar.fnet', '--format', 'keras'), 2, 'ferronet: --format: expected one of onnx, tfjs, safetensors, got "keras"');
    expectOneLineError(await ferronet('import', 'planar-tfjs/model.json'), 2, 'ferronet: import needs --out FILE');
    expectOneLineError(await ferronet('import', 'planar.fnet', '--out', 'x.fnet'), 2, 'expected a TensorFlow.js model.json or a .safetensors file');
    expectOneLineError(await ferronet('import', 'missing.safetensors', '--out', 'x.fnet'), 1, 'missing.safetensors');
    expectOneLineError(await ferronet('import', 'missing/model.json', '--out', 'x.fnet'), 1, 'missing/model.json');
  });
});
