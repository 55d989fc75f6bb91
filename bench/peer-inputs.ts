/**
 * The inputs of a Python peer's row, written where its script reads them: the case's data, made
 * by the same loaders as the Node rows' (so every row trains on the same bytes), and the case's
 * parameters from spec.ts (so the scripts repeat none of them). One directory per row and case,
 * removed once the row has run.
 */

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planarDataset } from '../ts/datasets/planar.js';
import { loadFashionMnist } from './fashion-mnist.js';
import { CNN, INFERENCE_BATCHES, MLP, PLANAR, type CaseName, type Pace } from './spec.js';

/** One array of the inputs: a raw little-endian file and how to read it. */
interface ArrayFile {
  file: string;
  dtype: 'float32' | 'uint8';
  shape: number[];
}

/** The arrays a case needs, by name (`x`, and `labels` or `y`). */
function caseArrays(name: CaseName, pace: Pace): Record<string, { data: Float32Array | Uint8Array; shape: number[] }> {
  switch (name) {
    case 'mlp': {
      const { x, labels } = loadFashionMnist('train', pace.mlpSamples);
      return { x: { data: x, shape: [labels.length, MLP.inputs] }, labels: { data: labels, shape: [labels.length] } };
    }
    case 'cnn': {
      // Row-major 28x28 bytes are [28][28][1] in NHWC.
      const { x, labels } = loadFashionMnist('train', pace.cnnSamples);
      return { x: { data: x, shape: [labels.length, ...CNN.inputShape] }, labels: { data: labels, shape: [labels.length] } };
    }
    case 'inference': {
      const { x, labels } = loadFashionMnist('t10k', Math.max(...INFERENCE_BATCHES));
      return { x: { data: x, shape: [labels.length, MLP.inputs] } };
    }
    case 'planar': {
      const { x, y, samples } = planarDataset();
      return { x: { data: x, shape: [samples, 2] }, y: { data: y, shape: [samples, 1] } };
    }
    case 'gemm':
      throw new Error('the Python peers have no gemm case (numpy is the GEMM peer)');
  }
}

/** Writes the inputs of case `name` at `pace` into a fresh directory and returns its path. */
export function writePeerInputs(name: CaseName, pace: Pace): string {
  const arrays = caseArrays(name, pace);
  const dir = mkdtempSync(join(tmpdir(), `ferronet-bench-${name}-`));
  try {
    const files: Record<string, ArrayFile> = {};
    for (const [key, { data, shape }] of Object.entries(arrays)) {
      const file = `${key}.bin`;
      writeFileSync(join(dir, file), new Uint8Array(data.buffer, data.byteOffset, data.byteLength));
      files[key] = { file, dtype: data instanceof Float32Array ? 'float32' : 'uint8', shape };
    }
    const spec = { case: name, mlp: MLP, planar: PLANAR, cnn: CNN, inferenceBatches: INFERENCE_BATCHES, pace, arrays: files };
    writeFileSync(join(dir, 'spec.json'), JSON.stringify(spec, null, 2));
    return dir;
  } catch (error) {
    removePeerInputs(dir);
    throw error;
  }
}

/** Removes a directory made by {@link writePeerInputs}. */
export function removePeerInputs(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
