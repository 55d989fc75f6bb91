/** The messages between a page and a training worker, typed on both sides. */

import type { BackendName } from '../backends/backend.js';
import type { LayerWeights, NetworkOptions } from '../network.js';
import type { EpochLogs, FitProgress, History, LabeledData, TrainerOptions } from '../trainer.js';

/** A whole training run, as the page hands it to a worker (the arrays are copied). */
export interface WorkerTrainingRequest {
  /** The network to build in the worker, any `{ inputShape, layers }`; `backend` defaults to `'auto'`: wasm, else ts. */
  network: NetworkOptions;
  /** How to train it. */
  trainer?: TrainerOptions;
  /** Inputs, `[samples][...inputShape]` row-major. */
  x: Float32Array;
  /** Targets, `[samples][outputs]`, or class indices for categorical cross-entropy. */
  y: Float32Array | Int32Array | Uint8Array;
  /** Passes over the data. Default 1. */
  epochs?: number;
  /** Data evaluated after every epoch. */
  validationData?: LabeledData;
}

/** Where a worker's training is, sent at most every 50 ms. */
export interface WorkerProgress {
  /** The backend the worker trains on. */
  backend: BackendName;
  /** The fit's latest progress report. */
  progress: FitProgress;
  /** The epochs finished since the previous message, in order, numbered from 0 for the run. */
  epochs: {
    /** 0-based epoch. */
    epoch: number;
    /** What it did. */
    logs: EpochLogs;
  }[];
}

/** What a finished (or stopped) worker run gives back. */
export interface WorkerTrainingResult {
  /** The backend the worker trained on. */
  backend: BackendName;
  /** Per-epoch figures of the run. */
  history: History;
  /** The trained weights. */
  weights: LayerWeights[];
}

/** Messages from the page to the worker. */
export type PageMessage = { type: 'train'; request: WorkerTrainingRequest } | { type: 'weights' } | { type: 'stop' };

/** Messages from the worker to the page. */
export type WorkerMessage =
  | ({ type: 'progress' } & WorkerProgress)
  | { type: 'weights'; weights: LayerWeights[] }
  | ({ type: 'done' } & WorkerTrainingResult)
  | { type: 'failed'; error: Error };

/** Progress messages are at most this often: smooth for a chart, cheap when epochs take microseconds. */
export const PROGRESS_INTERVAL_MS = 50;
