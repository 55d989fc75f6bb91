// The worker's side of test/browser/threads.test.ts: the wasm backend's status here, and an
// MLP trained on it whose products are large enough to be split over threads.
import { availableBackends, Network, Random, Trainer, type BackendStatus } from 'ferronet';
import { flatParameters, randomClassification } from '../../seeded-training.js';

export interface WorkerResult {
  status: BackendStatus | undefined;
  loss: number[];
  parameters: number[];
}

async function train(): Promise<WorkerResult> {
  const status = (await availableBackends()).find((entry) => entry.name === 'wasm');
  const random = new Random(7);
  const { x, y } = randomClassification(random, 512, 256);
  const net = await Network.create({
    inputShape: [256],
    layers: [{ units: 256, activation: 'relu' }, { units: 128, activation: 'tanh' }, { units: 10, activation: 'softmax' }],
    backend: 'wasm',
    seed: 3,
  });
  const { loss } = await new Trainer(net, { optimizer: { name: 'adam', learningRate: 1e-3 }, batchSize: 128 }).fit(x, y, { epochs: 2 });
  return { status, loss, parameters: flatParameters(net) };
}

train().then(
  (result) => {
    postMessage(result);
  },
  (error: unknown) => {
    throw error;
  },
);
