/** The worker side: trains what the page asks, on the worker's own backend (wasm, else ts). */

import type { LayerWeights } from '../network.js';
import { Network } from '../network.js';
import { Trainer } from '../trainer.js';
import { PROGRESS_INTERVAL_MS, type PageMessage, type WorkerMessage, type WorkerProgress, type WorkerTrainingRequest } from './messages.js';

/** The part of a dedicated worker's global scope this needs (the DOM typings call it Window). */
interface WorkerScope {
  postMessage(message: WorkerMessage, transfer?: Transferable[]): void;
  addEventListener(type: 'message', listener: (event: MessageEvent<PageMessage>) => void): void;
}

function buffersOf(weights: LayerWeights[]): ArrayBuffer[] {
  return weights.flatMap((layer) => Object.values(layer).map((values) => values.buffer as ArrayBuffer));
}

/**
 * Makes the current Web Worker a training worker for {@link trainInWorker}: call it once at
 * the top of the worker's script. The worker imports ferronet's browser build, so it trains on
 * the wasm backend (ts where WebAssembly is missing). Call {@link setWasmSource} before it
 * when the bundler moved the `.wasm` file.
 *
 * ```ts
 * // train-worker.ts, started with new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' })
 * import { serveTrainingWorker } from 'ferronet';
 * serveTrainingWorker();
 * ```
 */
export function serveTrainingWorker(): void {
  const scope = globalThis as unknown as WorkerScope;
  /** The run in progress; `network` resolves once the backend has loaded. */
  let running: { network: Promise<Network>; controller: AbortController } | null = null;

  const post = (message: WorkerMessage, weights: LayerWeights[] = []): void => {
    // getWeights() returns fresh copies, so their buffers can move instead of being cloned.
    scope.postMessage(message, buffersOf(weights));
  };

  async function train(request: WorkerTrainingRequest, network: Network, signal: AbortSignal): Promise<void> {
    const pending: WorkerProgress['epochs'] = [];
    let lastPost = 0;
    const history = await new Trainer(network, request.trainer).fit(request.x, request.y, {
      ...(request.epochs !== undefined && { epochs: request.epochs }),
      ...(request.validationData !== undefined && { validationData: request.validationData }),
      signal,
      onEpochEnd: (epoch, logs) => {
        pending.push({ epoch, logs });
      },
      onProgress: (progress) => {
        if (performance.now() - lastPost < PROGRESS_INTERVAL_MS) return;
        lastPost = performance.now();
        post({ type: 'progress', backend: network.backend, progress, epochs: pending.splice(0) });
      },
    });
    const weights = network.getWeights();
    post({ type: 'done', backend: network.backend, history, weights }, weights);
  }

  scope.addEventListener('message', (event) => {
    const message = event.data;
    switch (message.type) {
      case 'train': {
        const run = { network: Network.create(message.request.network), controller: new AbortController() };
        running = run;
        run.network
          .then(async (network) => {
            try {
              await train(message.request, network, run.controller.signal);
            } finally {
              network.dispose();
            }
          })
          .catch((error: unknown) => {
            post({ type: 'failed', error: error instanceof Error ? error : new Error(String(error)) });
          })
          .finally(() => {
            running = null;
          });
        return;
      }
      case 'weights':
        // fit() yields between groups of batches, so this answers while training. A request
        // that arrives after the run ended gets no answer: the page has the final weights.
        void running?.network.then(
          (network) => {
            const weights = network.getWeights();
            post({ type: 'weights', weights }, weights);
          },
          () => undefined, // the failure itself went to the page as 'failed'
        );
        return;
      case 'stop':
        running?.controller.abort();
        return;
    }
  });
}
