/**
 * Child of wasm-relaxed.test.ts, run by a Node that validates relaxed-simd
 * (--experimental-wasm-relaxed-simd): the wasm backend's status, a GEMM on it, on the
 * single-threaded simd128 module and on ts, and an MLP trained on wasm and on ts, as JSON.
 */

import { readFile } from 'node:fs/promises';
import { BUNDLED_WASM_URL, loadWasmBackend } from '../../ts/backends/wasm/index.js';
import { availableBackends, loadBackend, Network, Random, Trainer, type Backend, type BackendName } from '../../ts/index.js';
import { flatParameters, randomClassification } from '../seeded-training.js';

const random = new Random(11);
const [m, n, k] = [64, 96, 256];
const a = Float32Array.from({ length: m * k }, () => random.uniform() * 2 - 1);
const b = Float32Array.from({ length: k * n }, () => random.uniform() * 2 - 1);

function gemm(backend: Backend): number[] {
  const c = backend.tensor(m * n);
  backend.gemm(false, false, m, n, k, 1, backend.tensor(a), backend.tensor(b), 0, c);
  return Array.from(c.data);
}

async function train(backend: BackendName): Promise<{ loss: number[]; parameters: number[] }> {
  const { x, y } = randomClassification(random, 256, 64);
  const net = await Network.create({ inputShape: [64], layers: [{ units: 64, activation: 'relu' }, { units: 10, activation: 'softmax' }], backend, seed: 5 });
  const { loss } = await new Trainer(net, { optimizer: { name: 'adam', learningRate: 1e-3 }, batchSize: 64, shuffle: false }).fit(x, y, { epochs: 3 });
  return { loss, parameters: flatParameters(net) };
}

const status = (await availableBackends()).find((entry) => entry.name === 'wasm');
const relaxedGemm = gemm(await loadBackend('wasm'));
const simd128Gemm = gemm(await loadWasmBackend(await readFile(BUNDLED_WASM_URL), 'for comparison'));
const tsGemm = gemm(await loadBackend('ts'));
// The same inputs for both runs: the stream restarts.
const state = random.state();
const wasm = await train('wasm');
random.setState(state);
const ts = await train('ts');
process.stdout.write(JSON.stringify({ status, relaxedGemm, simd128Gemm, tsGemm, wasm, ts }));
