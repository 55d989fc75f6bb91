/**
 * The page side of a training worker, against a stand-in worker whose replies the test
 * writes. The real worker runs in Chromium in test/browser/demo.test.ts.
 */

import { describe, expect, it } from 'vitest';
import { trainInWorker } from '../ts/worker/client.js';
import type { PageMessage, WorkerMessage, WorkerProgress, WorkerTrainingRequest } from '../ts/worker/messages.js';
import type { History, LayerWeights } from '../ts/index.js';

class StandInWorker extends EventTarget {
  readonly received: PageMessage[] = [];
  postMessage(message: PageMessage): void {
    this.received.push(message);
  }
  reply(message: WorkerMessage): void {
    this.dispatchEvent(new MessageEvent('message', { data: message }));
  }
}

const request: WorkerTrainingRequest = {
  network: { inputSize: 1, layers: [{ units: 1, activation: 'sigmoid' }] },
  x: Float32Array.of(0, 1),
  y: Float32Array.of(0, 1),
  epochs: 3,
};
const weights: LayerWeights[] = [{ weights: Float32Array.of(0.5), bias: Float32Array.of(0) }];
const history: History = { epochs: 3, loss: [0.7, 0.6, 0.5], accuracy: [0.5, 1, 1], valLoss: [], valAccuracy: [], samplesPerSec: [1, 1, 1], learningRate: [0.1, 0.1, 0.1], stoppedEpoch: null, bestEpoch: null };

function start(): { worker: StandInWorker; training: ReturnType<typeof trainInWorker>; progress: unknown[] } {
  const worker = new StandInWorker();
  const progress: unknown[] = [];
  const training = trainInWorker(worker as unknown as Worker, request, { onProgress: (report) => progress.push(report) });
  return { worker, training, progress };
}

describe('trainInWorker', () => {
  it('checks its arguments, naming them', () => {
    expect(() => trainInWorker(null as never, request)).toThrow(new TypeError('worker: expected a Worker, got null'));
    expect(() => trainInWorker(new StandInWorker() as unknown as Worker, 5 as never)).toThrow(/^request: expected \{ network, trainer\?, x, y, epochs\? \}, got 5$/);
    expect(() => trainInWorker(new StandInWorker() as unknown as Worker, request, { onProgress: 1 as never })).toThrow(
      new TypeError('options.onProgress: expected a function, got 1'),
    );
  });

  it('sends the request, passes progress on and resolves with the result', async () => {
    const { worker, training, progress } = start();
    expect(worker.received).toEqual([{ type: 'train', request }]);
    const report: WorkerProgress = { backend: 'wasm', progress: { epoch: 0, epochs: 3, batch: 1, batches: 1, loss: 0.7, samplesPerSec: 10, learningRate: 0.1 }, epochs: [] };
    worker.reply({ type: 'progress', ...report });
    expect(progress).toEqual([report]);
    worker.reply({ type: 'done', backend: 'wasm', history, weights });
    await expect(training.result).resolves.toEqual({ backend: 'wasm', history, weights });
  });

  it('asks for the weights while training, and answers with the final ones after', async () => {
    const { worker, training } = start();
    const during = training.weights();
    const late = training.weights(); // its answer would come after 'done': the final weights answer it
    expect(worker.received.slice(1)).toEqual([{ type: 'weights' }, { type: 'weights' }]);
    const earlier = [{ weights: Float32Array.of(0.1), bias: Float32Array.of(0) }];
    worker.reply({ type: 'weights', weights: earlier });
    worker.reply({ type: 'done', backend: 'wasm', history, weights });
    await expect(during).resolves.toEqual(earlier);
    await expect(late).resolves.toEqual(weights);
    await expect(training.weights()).resolves.toEqual(weights);
    expect(worker.received).toHaveLength(3);
  });

  it('runs one training per worker at a time, and stops on request', async () => {
    const { worker, training } = start();
    expect(() => trainInWorker(worker as unknown as Worker, request)).toThrow('trainInWorker: this worker is already training; await the running result first');
    training.stop();
    expect(worker.received.at(-1)).toEqual({ type: 'stop' });
    worker.reply({ type: 'done', backend: 'wasm', history, weights });
    await training.result;
    training.stop(); // nothing left to stop: nothing sent
    expect(worker.received.at(-1)).toEqual({ type: 'stop' });
    expect(() => trainInWorker(worker as unknown as Worker, request)).not.toThrow();
  });

  it("rejects with the worker's error, and so do pending weight requests", async () => {
    const { worker, training } = start();
    const pending = training.weights();
    worker.reply({ type: 'failed', error: new RangeError('batchSize: expected at most the number of samples (2), got 4') });
    await expect(training.result).rejects.toThrow(new RangeError('batchSize: expected at most the number of samples (2), got 4'));
    await expect(pending).rejects.toThrow(RangeError);
  });
});
