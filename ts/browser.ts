/**
 * ferronet in browsers, Web Workers and bundlers: the same Network and Trainer API as in
 * Node, on the WebAssembly backend (ts where WebAssembly is missing). Its module graph holds
 * no Node built-ins and no native addon; the package's exports map sends browsers and
 * bundlers here and Node to the native-first entry.
 *
 * ```ts
 * import { Network, Trainer, planarDataset } from 'ferronet';
 * const { x, y } = planarDataset();
 * const net = await Network.create({ inputSize: 2, layers: [{ units: 8, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }] });
 * await new Trainer(net, { optimizer: { name: 'adam', learningRate: 0.03 } }).fit(x, y, { epochs: 300 }); // yields to the page as it goes
 * ```
 *
 * @packageDocumentation
 */

import { usePlatform } from './platform/index.js';
import { browserPlatform } from './platform/browser.js';

usePlatform(browserPlatform);

export * from './api.js';
export { trainInWorker, type WorkerTraining, type WorkerTrainingOptions } from './worker/client.js';
export { serveTrainingWorker } from './worker/serve.js';
export type { WorkerProgress, WorkerTrainingRequest, WorkerTrainingResult } from './worker/messages.js';
