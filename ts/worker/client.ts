/** The page side: starts a run in a training worker and follows it. */

import type { LayerWeights } from '../network.js';
import { fail } from '../validation.js';
import type { PageMessage, WorkerMessage, WorkerProgress, WorkerTrainingRequest, WorkerTrainingResult } from './messages.js';

/** How to follow a run started by {@link trainInWorker}. */
export interface WorkerTrainingOptions {
  /** Called with each progress message (at most every 50 ms). */
  onProgress?: (progress: WorkerProgress) => void;
}

/** A training run in a worker: its result, its weights on demand, and a way to stop it. */
export interface WorkerTraining {
  /**
   * Resolves when the run ends (finished, or stopped by {@link WorkerTraining.stop}) with the
   * history and the final weights; rejects with the worker's error (a `TypeError` or
   * `RangeError` naming the bad option, as in the page).
   */
  readonly result: Promise<WorkerTrainingResult>;
  /** The network's current weights, taken between two groups of batches; the final ones once the run ended. */
  weights(): Promise<LayerWeights[]>;
  /** Stops after the batches in flight; {@link WorkerTraining.result} then resolves with the history so far. */
  stop(): void;
}

const busyWorkers = new WeakSet<Worker>();

/**
 * Trains a network in a Web Worker that called {@link serveTrainingWorker}, so the page stays
 * responsive whatever the fit costs. The request's arrays are copied to the worker; its
 * options are checked there, and a bad one rejects {@link WorkerTraining.result}. A worker
 * runs one training at a time and can run another after the result.
 *
 * ```ts
 * const worker = new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' });
 * const training = trainInWorker(worker, { network, trainer: { batchSize: 32 }, x, y, epochs: 200 }, {
 *   onProgress: ({ progress }) => console.log(progress.epoch, progress.loss),
 * });
 * const { history, weights } = await training.result;
 * ```
 */
export function trainInWorker(worker: Worker, request: WorkerTrainingRequest, options: WorkerTrainingOptions = {}): WorkerTraining {
  if (typeof worker !== 'object' || (worker as unknown) === null || typeof worker.postMessage !== 'function') {
    fail('type', 'worker', 'a Worker', worker);
  }
  if (typeof request !== 'object' || (request as unknown) === null) fail('type', 'request', '{ network, trainer?, x, y, epochs? }', request);
  if (typeof options !== 'object' || (options as unknown) === null) fail('type', 'options', '{ onProgress? }', options);
  const { onProgress } = options;
  if (onProgress !== undefined && typeof onProgress !== 'function') fail('type', 'options.onProgress', 'a function', onProgress);
  if (busyWorkers.has(worker)) throw new Error('trainInWorker: this worker is already training; await the running result first');

  const send = (message: PageMessage): void => {
    worker.postMessage(message);
  };
  const waitingForWeights: ((weights: LayerWeights[]) => void)[] = [];
  let final: WorkerTrainingResult | null = null;

  const result = new Promise<WorkerTrainingResult>((resolve, reject) => {
    const onMessage = (event: MessageEvent<WorkerMessage>): void => {
      const message = event.data;
      switch (message.type) {
        case 'progress':
          onProgress?.({ backend: message.backend, progress: message.progress, epochs: message.epochs });
          return;
        case 'weights':
          waitingForWeights.shift()?.(message.weights);
          return;
        case 'done':
          final = { backend: message.backend, history: message.history, weights: message.weights };
          finish();
          for (const answer of waitingForWeights.splice(0)) answer(final.weights);
          resolve(final);
          return;
        case 'failed':
          finish();
          reject(message.error);
          return;
      }
    };
    const onError = (event: ErrorEvent): void => {
      finish();
      reject(new Error(`trainInWorker: the worker failed: ${event.message || 'its script did not load'}`));
    };
    const finish = (): void => {
      worker.removeEventListener('message', onMessage);
      worker.removeEventListener('error', onError);
      busyWorkers.delete(worker);
    };
    busyWorkers.add(worker);
    worker.addEventListener('message', onMessage);
    worker.addEventListener('error', onError);
    try {
      send({ type: 'train', request });
    } catch (error) {
      finish(); // the request could not be copied (a DataCloneError): nothing started
      throw error;
    }
  });

  return {
    result,
    weights() {
      if (final) return Promise.resolve(final.weights);
      return new Promise((resolve, reject) => {
        waitingForWeights.push(resolve);
        result.catch(reject);
        send({ type: 'weights' });
      });
    },
    stop() {
      if (!final) send({ type: 'stop' });
    },
  };
}
