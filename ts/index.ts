/**
 * ferronet: neural-network training for TypeScript with Rust kernels.
 *
 * ```ts
 * import { Network, Trainer } from 'ferronet';
 * const net = await Network.create({ inputSize: 2, layers: [{ units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }] });
 * const history = await new Trainer(net, { optimizer: { name: 'sgd', learningRate: 1.2 }, batchSize: 400, shuffle: false })
 *   .fit(x, y, { epochs: 10000 });
 * ```
 *
 * This is the Node entry point: the native addon first, then wasm (read from disk), then ts.
 * Browsers and bundlers get ts/browser.ts through the package's exports map.
 *
 * @packageDocumentation
 */

import { usePlatform } from './platform/index.js';
import { nodePlatform } from './platform/node.js';

usePlatform(nodePlatform);

export * from './api.js';
