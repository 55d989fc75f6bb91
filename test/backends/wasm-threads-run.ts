/**
 * Child of wasm-threads.test.ts: trains an MLP and a CNN on the wasm backend with the thread
 * count given as argv[2] and prints the backend's status, every loss and every parameter as
 * JSON. Separate processes, because a process loads one wasm module once.
 */

import { availableBackends, Network, Random, setWasmThreads, Trainer, type LayerConfig } from '../../ts/index.js';
import { flatParameters, randomClassification } from '../seeded-training.js';

setWasmThreads(Number(process.argv[2]));

/** Every product in these networks' training is past the kernels' threading threshold (m n k >= 2^22) but the output layer's. */
async function train(inputShape: number[], layers: LayerConfig[], samples: number, batchSize: number): Promise<{ loss: number[]; parameters: number[] }> {
  const random = new Random(7);
  const { x, y } = randomClassification(random, samples, inputShape.reduce((a, b) => a * b, 1));
  const net = await Network.create({ inputShape, layers, backend: 'wasm', seed: 3 });
  const trainer = new Trainer(net, { optimizer: { name: 'adam', learningRate: 1e-3 }, batchSize });
  const { loss } = await trainer.fit(x, y, { epochs: 2 });
  const parameters = flatParameters(net);
  net.dispose();
  return { loss, parameters };
}

const conv = (filters: number): LayerConfig => ({ type: 'conv2d', filters, kernelSize: 3, padding: 'same', activation: 'relu' });
const status = (await availableBackends()).find((entry) => entry.name === 'wasm');
const mlp = await train([256], [{ units: 256, activation: 'relu' }, { units: 128, activation: 'tanh' }, { units: 10, activation: 'softmax' }], 512, 128);
const cnn = await train(
  [28, 28, 1],
  [conv(32), { type: 'maxPool2d', poolSize: 2 }, conv(32), { type: 'flatten' }, { type: 'dense', units: 10, activation: 'softmax' }],
  64,
  32,
);
process.stdout.write(JSON.stringify({ status, mlp, cnn }));
