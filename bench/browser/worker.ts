// One measurement of bench/browser.ts in a Worker: the MLP case (784-256-128-10, SGD 0.01,
// batch 128) on one wasm build, best of three timed fits after a warm-up, on seeded random data
// of Fashion-MNIST's shape (the time does not depend on the values).
import { availableBackends, Network, Random, setWasmSource, setWasmThreads, Trainer, type BackendStatus } from 'ferronet';
import { bundledWasmUrl } from '../../ts/backends/wasm/index.js';
import { MLP } from '../spec.js';

export interface BrowserRequest {
  relaxed: boolean;
  threads: number;
}

export interface BrowserMeasurement extends BrowserRequest {
  status: BackendStatus | undefined;
  samplesPerSec: number;
  firstLoss: number;
  lastLoss: number;
}

const SAMPLES = 8192;
const EPOCHS = 2;

async function measure({ relaxed, threads }: BrowserRequest): Promise<BrowserMeasurement> {
  setWasmSource(bundledWasmUrl({ threaded: false, relaxed }), bundledWasmUrl({ threaded: true, relaxed }));
  setWasmThreads(threads);
  const status = (await availableBackends()).find((entry) => entry.name === 'wasm');
  const random = new Random(1);
  const x = Float32Array.from({ length: SAMPLES * MLP.inputs }, () => random.uniform());
  const y = Uint8Array.from({ length: SAMPLES }, () => Math.floor(random.uniform() * MLP.classes));
  const net = await Network.create({
    inputSize: MLP.inputs,
    layers: [...MLP.hidden.map((units) => ({ units, activation: 'relu' as const })), { units: MLP.classes, activation: 'softmax' }],
    backend: 'wasm',
    seed: 1,
  });
  const trainer = new Trainer(net, { optimizer: { name: 'sgd', learningRate: MLP.learningRate }, batchSize: MLP.batch });
  const first = await trainer.fit(x.subarray(0, 1024 * MLP.inputs), y.subarray(0, 1024), { epochs: 1 });
  let best = Infinity;
  let lastLoss = NaN;
  for (let run = 0; run < 3; run++) {
    const start = performance.now();
    const { loss } = await trainer.fit(x, y, { epochs: EPOCHS });
    best = Math.min(best, performance.now() - start);
    lastLoss = loss.at(-1) ?? NaN;
  }
  net.dispose();
  return { relaxed, threads, status, samplesPerSec: (SAMPLES * EPOCHS) / (best / 1000), firstLoss: first.loss[0] ?? NaN, lastLoss };
}

onmessage = (event: MessageEvent<BrowserRequest>) => {
  measure(event.data).then(
    (result) => {
      postMessage(result);
    },
    (error: unknown) => {
      postMessage({ error: error instanceof Error ? error.message : String(error) });
    },
  );
};
