/**
 * The demo page (demo.html; the playground is index.html): pick a data set and a network,
 * press Train, and watch the decision boundary and the loss curve while ferronet trains in
 * the page (fit yields to it between groups of batches) or in a Web Worker.
 */

import {
  availableBackends,
  Network,
  planarDataset,
  Random,
  Trainer,
  trainInWorker,
  type BackendName,
  type Dataset,
  type LayerWeights,
  type NetworkOptions,
  type TrainerOptions,
} from 'ferronet';
import { trainCnn, trainCnnInWorker, type CnnOutcome } from './cnn.js';
import { DATASETS, type DatasetName, type Suggested } from './datasets.js';
import { trainParityRun } from './parity.js';
import { drawBoundary, drawLoss, viewOf, type View } from './plot.js';

/** What the end-to-end test calls in the page. */
interface DemoTestHook {
  /** Trains the fixed parity run on the page's wasm backend and returns its parameters. */
  trainParityRun(): Promise<number[][]>;
  /** Trains the small CNN of web/cnn.ts on the page's backend, in the page or in the demo's worker. */
  trainCnn(where: 'page' | 'worker'): Promise<CnnOutcome>;
}

declare global {
  interface Window {
    ferronetDemo?: DemoTestHook;
  }
}

const DATA_SEED = 7;

function element(id: string): HTMLElement {
  return document.getElementById(id) as HTMLElement;
}

const form = element('settings') as HTMLFormElement;
const trainButton = element('train') as HTMLButtonElement;
const boundaryCanvas = element('boundary') as HTMLCanvasElement;
const lossCanvas = element('loss') as HTMLCanvasElement;
const status = element('status') as HTMLOutputElement;
const choices = element('choices') as HTMLFieldSetElement;
const field = (name: string): HTMLInputElement | HTMLSelectElement => form.elements.namedItem(name) as HTMLInputElement;

function show(id: string, text: string): void {
  element(id).textContent = text;
}

function setStatus(state: 'idle' | 'training' | 'done' | 'failed', text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

let data: Dataset;
let view: View;

function chooseDataset(name: DatasetName): void {
  data = DATASETS[name].make(DATA_SEED);
  view = viewOf(data);
  const suggested: Suggested = DATASETS[name].suggested;
  for (const [key, value] of Object.entries(suggested)) field(key).value = String(value);
  drawBoundary(boundaryCanvas, view, data, null);
  drawLoss(lossCanvas, [], suggested.epochs);
}

/** The form's settings as ferronet options (ferronet itself checks them and says what is wrong). */
function readSettings(): { network: NetworkOptions; trainer: TrainerOptions; batchSize: number; epochs: number; inWorker: boolean } {
  const number = (name: string): number => Number(field(name).value);
  return {
    batchSize: number('batchSize'),
    network: {
      inputSize: 2,
      layers: [{ units: number('hiddenUnits'), activation: field('activation').value as Suggested['activation'] }, { units: 1, activation: 'sigmoid' }],
    },
    trainer: { loss: 'binaryCrossEntropy', optimizer: { name: 'adam', learningRate: number('learningRate') }, batchSize: number('batchSize') },
    epochs: number('epochs'),
    inWorker: (field('inWorker') as HTMLInputElement).checked,
  };
}

/** One training run as the page sees it, wherever it trains. */
interface Run {
  /** The network whose predictions the page draws. */
  network: Network;
  /** Per-epoch losses so far. */
  losses: number[];
  /** Samples trained so far, for samples/s. */
  samplesSeen: number;
  started: number;
  /** Brings `network` up to date before a frame is drawn (the worker's weights arrive by message). */
  refresh(): void;
  stop(): void;
}

let running: Run | null = null;
let worker: Worker | null = null;

function trainingWorker(): Worker {
  worker ??= new Worker(new URL('./train-worker.ts', import.meta.url), { type: 'module' });
  return worker;
}

function drawFrame(run: Run, epochs: number): void {
  run.refresh();
  drawBoundary(boundaryCanvas, view, data, run.network.predict(view.grid));
  drawLoss(lossCanvas, run.losses, epochs);
  const seconds = (performance.now() - run.started) / 1000;
  show('epoch', `${run.losses.length} / ${epochs}`);
  show('lossValue', run.losses.at(-1)?.toFixed(4) ?? '-');
  show('samplesPerSec', Math.round(run.samplesSeen / seconds).toLocaleString('en'));
  show('elapsed', `${seconds.toFixed(2)} s`);
}

async function train(): Promise<void> {
  const settings = readSettings();
  const network = await Network.create(settings.network);
  show('backend', network.backend);
  const run: Run = { network, losses: [], samplesSeen: 0, started: performance.now(), refresh: () => undefined, stop: () => undefined };
  running = run;
  choices.disabled = true;
  trainButton.textContent = 'Stop';
  setStatus('training', settings.inWorker ? 'training in a Web Worker' : 'training in the page');

  // Redraw every animation frame, counting frames and the longest time without one: they show
  // whether training left the page free to paint.
  let frames = 0;
  let longestFrame = 0;
  let lastFrame = performance.now();
  let frame = requestAnimationFrame(function paint() {
    // The time the callback runs, not the frame's nominal start: a late frame counts as late.
    const now = performance.now();
    frames += 1;
    longestFrame = Math.max(longestFrame, now - lastFrame);
    lastFrame = now;
    drawFrame(run, settings.epochs);
    frame = requestAnimationFrame(paint);
  });

  try {
    if (settings.inWorker) await trainElsewhere(run, settings);
    else await trainHere(run, settings);
    cancelAnimationFrame(frame);
    longestFrame = Math.max(longestFrame, performance.now() - lastFrame); // the wait after the last frame counts too
    drawFrame(run, settings.epochs);
    const { accuracy } = network.evaluate(data.x, data.y);
    show('accuracy', `${(100 * accuracy).toFixed(2)} %`);
    element('accuracy').dataset.value = String(accuracy);
    const framesPerSecond = frames / ((performance.now() - run.started) / 1000);
    show('framesPerSecond', framesPerSecond.toFixed(0));
    element('framesPerSecond').dataset.value = String(framesPerSecond);
    show('longestFrame', `${Math.round(longestFrame)} ms`);
    element('longestFrame').dataset.value = String(longestFrame);
    setStatus('done', `trained ${run.losses.length} epochs`);
  } finally {
    cancelAnimationFrame(frame);
    network.dispose();
    running = null;
    choices.disabled = false;
    trainButton.textContent = 'Train';
  }
}

/** Trains `run.network` itself, on the page's thread. */
async function trainHere(run: Run, settings: ReturnType<typeof readSettings>): Promise<void> {
  const controller = new AbortController();
  run.stop = () => {
    controller.abort();
  };
  const trainer = new Trainer(run.network, settings.trainer);
  await trainer.fit(data.x, data.y, {
    epochs: settings.epochs,
    signal: controller.signal,
    onEpochEnd: (_, logs) => {
      run.losses.push(logs.loss);
    },
    onProgress: (progress) => {
      run.samplesSeen = progress.epoch * data.samples + Math.min(progress.batch * settings.batchSize, data.samples);
    },
  });
}

/** Trains in the worker; `run.network` mirrors its weights for drawing. */
async function trainElsewhere(run: Run, settings: ReturnType<typeof readSettings>): Promise<void> {
  const training = trainInWorker(
    trainingWorker(),
    { network: settings.network, trainer: settings.trainer, x: data.x, y: data.y, epochs: settings.epochs },
    {
      onProgress: ({ backend, progress, epochs }) => {
        show('backend', `${backend} (in the worker)`);
        for (const { logs } of epochs) run.losses.push(logs.loss);
        run.samplesSeen = progress.epoch * data.samples + Math.min(progress.batch * settings.batchSize, data.samples);
      },
    },
  );
  run.stop = () => {
    training.stop();
  };
  let latest: LayerWeights[] | null = null;
  let asking = false;
  run.refresh = () => {
    if (latest) run.network.setWeights(latest);
    if (asking) return;
    asking = true;
    training
      .weights()
      .then((weights) => {
        latest = weights;
      })
      .catch(() => undefined) // the result reports the failure
      .finally(() => {
        asking = false;
      });
  };
  const { backend, history, weights } = await training.result;
  show('backend', `${backend} (in the worker)`);
  run.losses = history.loss;
  run.samplesSeen = history.epochs * data.samples;
  latest = weights;
}

form.addEventListener('submit', (event) => {
  event.preventDefault();
  if (running) {
    running.stop();
    return;
  }
  train().catch((error: unknown) => {
    setStatus('failed', error instanceof Error ? error.message : String(error));
  });
});
field('dataset').addEventListener('change', (event) => {
  chooseDataset((event.target as HTMLSelectElement).value as DatasetName);
});

window.ferronetDemo = {
  trainParityRun: () => trainParityRun({ Network, Trainer, planarDataset }, 'wasm'),
  trainCnn: (where) =>
    where === 'page' ? trainCnn({ Network, Trainer, Random }, 'auto') : trainCnnInWorker({ Network, Trainer, Random, trainInWorker }, trainingWorker()),
};

chooseDataset('planar');
const backends = await availableBackends();
const usable: BackendName[] = backends.filter((backend) => backend.available).map((backend) => backend.name);
show('backend', usable[0] ?? '-');
setStatus('idle', 'ready');
