/**
 * The playground: choose a data set, its noise and split, the input features, the hidden
 * layers and how to train; play, pause, step or reset, and watch the decision boundary, the
 * loss curves and every unit's output over the plane while ferronet trains in a Web Worker
 * (web/playground-worker.ts) on its wasm backend. The state lives in the URL's hash, and
 * "Show the code" prints the TypeScript that reproduces it. test/browser/playground.test.ts
 * drives the page through its controls and `window.ferronetPlayground`.
 */

import { Network, type LayerWeights } from 'ferronet';
import { FEATURE_NAMES, MAX_LAYERS, MAX_UNITS, decodeState, encodeState, makeData, networkOptions, type PlaygroundData, type PlaygroundState } from './playground-state.js';
import type { FeatureName } from './playground-data.js';
import { generateCode } from './playground-code.js';
import { denseOutputs, drawBoundary, drawLosses, drawNetwork, gridPoints } from './playground-view.js';
import type { FromWorker, ToWorker } from './playground-worker.js';
import { featurize } from './playground-data.js';

/** Frame statistics of the latest training, in milliseconds. */
export interface FrameStats {
  frames: number;
  framesPerSecond: number;
  /** Times between animation frames while training. */
  intervalP50: number;
  intervalP95: number;
  intervalMax: number;
  /** Time spent drawing, per frame that drew. */
  drawMean: number;
  drawMax: number;
}

/** What the end-to-end test reads from the page. */
export interface PlaygroundSnapshot {
  state: PlaygroundState;
  hash: string;
  backend: string;
  epoch: number;
  /** Whether the worker is training (more updates are coming). */
  training: boolean;
  loss: number[];
  testLoss: number[];
  /** The latest weights as plain numbers, one array per parameter buffer. */
  weights: number[][];
  testAccuracy: number | null;
  /** The points the page trains and tests on, `[samples][2]`. */
  trainX: number[];
  testX: number[];
  /** The boundary's probabilities from net.predict over the boundary grid. */
  boundary: number[];
  /** Largest |output computed in TS from getWeights - net.predict| over the heatmap grid: the heatmaps' check. */
  forwardDifference: number;
  links: number;
  frames: FrameStats | null;
  code: string;
}

declare global {
  interface Window {
    ferronetPlayground?: { snapshot(): PlaygroundSnapshot };
  }
}

const BOUNDARY_RESOLUTION = 60;
const HEATMAP_RESOLUTION = 24;
const boundaryGrid = gridPoints(BOUNDARY_RESOLUTION);
const heatmapGrid = gridPoints(HEATMAP_RESOLUTION);

function element(id: string): HTMLElement {
  return document.getElementById(id) as HTMLElement;
}
const form = (element('controls') as HTMLFormElement);
const status = (element('status') as HTMLOutputElement);
const playButton = (element('play') as HTMLButtonElement);
const codeElement = element('code');
const field = (name: string): HTMLInputElement | HTMLSelectElement => form.elements.namedItem(name) as HTMLInputElement;

function show(id: string, text: string, value?: number): void {
  const target = element(id);
  target.textContent = text;
  if (value !== undefined) target.dataset.value = String(value);
}

function setStatus(state: 'loading' | 'paused' | 'training' | 'failed', text: string): void {
  status.dataset.state = state;
  status.textContent = text;
}

// ---- State and the controls ----

let state: PlaygroundState = decodeState(location.hash);
let data: PlaygroundData = makeData(state);

for (const name of FEATURE_NAMES) {
  const label = document.createElement('label');
  label.className = 'inline';
  const box = document.createElement('input');
  box.type = 'checkbox';
  box.name = 'feature';
  box.value = name;
  label.append(box, ` ${name}`);
  element('features').append(label);
}

/** Puts the state into the controls. */
function showState(): void {
  for (const name of ['dataset', 'noise', 'trainPercent', 'seed', 'activation', 'optimizer', 'batchSize'] as const) field(name).value = String(state[name]);
  for (const name of ['learningRate', 'weightDecay', 'dropout'] as const) {
    const select = field(name) as HTMLSelectElement;
    const text = String(state[name]);
    // A link may carry a value the list lacks: offer it.
    if (!Array.from(select.options).some((option) => option.value === text)) select.add(new Option(text));
    select.value = text;
  }
  for (const output of Array.from(form.querySelectorAll<HTMLOutputElement>('output[data-for]'))) {
    const key = output.dataset.for as 'noise' | 'trainPercent' | 'batchSize';
    output.textContent = key === 'trainPercent' ? `${state.trainPercent}%` : String(state[key]);
  }
  for (const box of Array.from(form.querySelectorAll<HTMLInputElement>('input[name="feature"]'))) box.checked = state.features.includes(box.value as FeatureName);
  show('layerCount', String(state.layers.length));
  (element('addLayer') as HTMLButtonElement).disabled = state.layers.length >= MAX_LAYERS;
  (element('removeLayer') as HTMLButtonElement).disabled = state.layers.length === 0;
  const units = element('unit-controls');
  units.replaceChildren(
    ...state.layers.map((count, layer) => {
      const group = document.createElement('span');
      group.className = 'layer';
      const button = (delta: number): HTMLButtonElement => {
        const b = document.createElement('button');
        b.type = 'button';
        b.textContent = delta > 0 ? '+' : '−';
        b.dataset.layer = String(layer);
        b.dataset.delta = String(delta);
        b.disabled = delta > 0 ? count >= MAX_UNITS : count <= 1;
        b.title = `${delta > 0 ? 'add a unit to' : 'remove a unit from'} hidden layer ${layer + 1}`;
        return b;
      };
      group.append(button(-1), ` ${count} `, button(1));
      return group;
    }),
  );
}

/** Reads the controls into a new state (epoch 0: any change starts afresh). */
function readControls(): PlaygroundState {
  const number = (name: string): number => Number(field(name).value);
  const features = FEATURE_NAMES.filter((name) => form.querySelector<HTMLInputElement>(`input[name="feature"][value="${name}"]`)?.checked);
  return decodeState(
    encodeState({
      ...state,
      dataset: field('dataset').value as PlaygroundState['dataset'],
      noise: number('noise'),
      trainPercent: number('trainPercent'),
      seed: number('seed'),
      features: features.length > 0 ? features : state.features,
      activation: field('activation').value as PlaygroundState['activation'],
      optimizer: field('optimizer').value as PlaygroundState['optimizer'],
      learningRate: number('learningRate'),
      batchSize: number('batchSize'),
      weightDecay: number('weightDecay'),
      dropout: number('dropout'),
      epoch: 0,
    }),
  );
}

let lastUrlWrite = 0;
function writeUrl(force = false): void {
  if (!force && performance.now() - lastUrlWrite < 500) return;
  lastUrlWrite = performance.now();
  history.replaceState(null, '', `#${encodeState({ ...state, epoch: run.epoch })}`);
  codeElement.textContent = generateCode({ ...state, epoch: run.epoch });
}

// ---- The run: the worker's training and what the page keeps of it ----

const worker = new Worker(new URL('./playground-worker.ts', import.meta.url), { type: 'module' });
const run = {
  id: 0,
  epoch: 0,
  backend: '-',
  training: false,
  /** The latest command sent to the worker in this run; training ends with the update that answers it. */
  command: 0,
  loss: [] as number[],
  testLoss: [] as number[],
  weights: null as LayerWeights[] | null,
  /** The page's copy of the network, for net.predict over the boundary grid. */
  net: null as Network | null,
  netPromise: Promise.resolve(null as Network | null),
  /** (time, epoch) pairs of the last second, for epochs per second. */
  pace: [] as [number, number][],
  dirty: true,
};

function send(message: ToWorker): void {
  worker.postMessage(message);
}

/** Sends play, pause or step, numbered: the page trains until the worker's answer to the latest one. */
function command(type: 'play' | 'pause' | 'step', until?: number): void {
  run.command += 1;
  send(until === undefined ? { type, run: run.id, command: run.command } : { type: 'play', run: run.id, command: run.command, until });
}

function reset(playAfter: boolean): void {
  run.id += 1;
  Object.assign(run, { epoch: 0, training: false, command: 0, loss: [], testLoss: [], weights: null, pace: [], dirty: true });
  data = makeData(state);
  const old = run.netPromise;
  run.net = null;
  const id = run.id;
  run.netPromise = old
    .catch(() => null) // a failed page network was reported; start afresh
    .then((net) => {
      net?.dispose();
      return Network.create(networkOptions(state));
    })
    .then((net) => {
      if (id === run.id) run.net = net;
      else net.dispose(); // superseded: the next reset disposes its own
      run.dirty = true;
      return id === run.id ? net : null;
    });
  run.netPromise.catch((error: unknown) => {
    setStatus('failed', error instanceof Error ? error.message : String(error));
  });
  send({ type: 'reset', run: run.id, state: structuredClone(state) });
  if (playAfter) play(state.epoch > 0 ? state.epoch : undefined);
  else {
    playButton.textContent = 'Play';
    setStatus('paused', 'paused');
  }
  updateFigures();
  writeUrl(true);
}

function play(until?: number): void {
  run.training = true;
  frameTimes.start();
  setStatus('training', until === undefined ? 'training' : `training to epoch ${until}`);
  playButton.textContent = 'Pause';
  command('play', until);
}

function step(): void {
  run.training = true;
  setStatus('training', 'training one epoch');
  command('step');
}

function pause(): void {
  command('pause');
}

worker.addEventListener('message', (event: MessageEvent<FromWorker>) => {
  const message = event.data;
  if (message.run !== run.id) return;
  if (message.type === 'failed') {
    run.training = false;
    playButton.textContent = 'Play';
    setStatus('failed', message.message);
    return;
  }
  run.backend = `${message.backend} (in a Web Worker)`;
  run.epoch = message.epoch;
  run.loss.push(...message.loss);
  run.testLoss.push(...message.testLoss);
  run.weights = message.weights;
  run.dirty = true;
  const now = performance.now();
  run.pace.push([now, message.epoch]);
  while (run.pace.length > 2 && now - (run.pace[0] as [number, number])[0] > 1000) run.pace.shift();
  if (!message.training && run.training && message.command === run.command) {
    run.training = false;
    frameTimes.stop();
    playButton.textContent = 'Play';
    setStatus('paused', `paused at epoch ${run.epoch}`);
  }
  updateFigures();
  writeUrl(!run.training);
});

function updateFigures(): void {
  show('epoch', String(run.epoch), run.epoch);
  show('backend', run.backend);
  show('trainLoss', run.loss.at(-1)?.toFixed(4) ?? '-');
  show('testLoss', run.testLoss.at(-1)?.toFixed(4) ?? '-');
  const first = run.pace[0];
  const last = run.pace.at(-1);
  if (run.training && first && last && last[0] > first[0]) {
    const perSecond = ((last[1] - first[1]) * 1000) / (last[0] - first[0]);
    show('epochsPerSecond', perSecond.toFixed(0), perSecond);
  }
}

// ---- Drawing, and frame times ----

const frameTimes = {
  intervals: [] as number[],
  draws: [] as number[],
  started: 0,
  last: 0,
  measuring: false,
  latest: null as FrameStats | null,
  start(): void {
    Object.assign(this, { intervals: [], draws: [], started: performance.now(), last: performance.now(), measuring: true });
  },
  stop(): void {
    if (!this.measuring) return;
    this.measuring = false;
    const sorted = [...this.intervals].sort((a, b) => a - b);
    const at = (q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
    const seconds = (performance.now() - this.started) / 1000;
    this.latest = {
      frames: this.intervals.length,
      framesPerSecond: this.intervals.length / Math.max(seconds, 1e-3),
      intervalP50: at(0.5),
      intervalP95: at(0.95),
      intervalMax: sorted.at(-1) ?? 0,
      drawMean: this.draws.reduce((sum, t) => sum + t, 0) / Math.max(1, this.draws.length),
      drawMax: Math.max(0, ...this.draws),
    };
    const stats = this.latest;
    show('framesPerSecond', stats.framesPerSecond.toFixed(0), stats.framesPerSecond);
    show('frameIntervals', `${stats.intervalP50.toFixed(1)} / ${stats.intervalP95.toFixed(1)} / ${stats.intervalMax.toFixed(1)} ms`);
    show('drawTimes', `${stats.drawMean.toFixed(2)} / ${stats.drawMax.toFixed(2)} ms`);
  },
};

const boundaryCanvas = (element('boundary') as HTMLCanvasElement);
const lossCanvas = (element('loss') as HTMLCanvasElement);
const networkCanvas = (element('network') as HTMLCanvasElement);
let boundary: Float32Array = new Float32Array(0);
let forwardDifference = Number.NaN;
let links = 0;

function draw(): void {
  const showTest = (field('showTest') as HTMLInputElement).checked;
  const { net, weights } = run;
  boundary = new Float32Array(0);
  if (net && weights) {
    net.setWeights(weights);
    boundary = net.predict(featurize(boundaryGrid, state.features));
    if (!run.training) {
      // At rest only, to keep frames short while training. The heatmaps come from
      // denseOutputs; its last layer must be the network's own output.
      const inputs = featurize(heatmapGrid, state.features);
      const mine = denseOutputs(state, weights, inputs).at(-1) as Float32Array;
      const theirs = net.predict(inputs);
      forwardDifference = 0;
      mine.forEach((value, i) => {
        forwardDifference = Math.max(forwardDifference, Math.abs(value - (theirs[i] as number)));
      });
      const accuracy = net.evaluate(data.testInputs, data.test.y).accuracy;
      show('testAccuracy', `${(100 * accuracy).toFixed(1)} %`, accuracy);
    }
  }
  drawBoundary(boundaryCanvas, BOUNDARY_RESOLUTION, boundary.length > 0 ? boundary : null, data.train, data.test, showTest);
  drawLosses(lossCanvas, run.loss, run.testLoss);
  links = drawNetwork(networkCanvas, state, weights, heatmapGrid, HEATMAP_RESOLUTION).links;
}

requestAnimationFrame(function paint() {
  const now = performance.now();
  if (frameTimes.measuring) {
    frameTimes.intervals.push(now - frameTimes.last);
    frameTimes.last = now;
  }
  if (run.dirty) {
    run.dirty = false;
    const started = performance.now();
    draw();
    if (frameTimes.measuring) frameTimes.draws.push(performance.now() - started);
  }
  requestAnimationFrame(paint);
});

// ---- Events ----

function changed(next: PlaygroundState): void {
  const wasTraining = run.training;
  if (wasTraining) frameTimes.stop();
  state = next;
  showState();
  reset(wasTraining);
}

form.addEventListener('change', (event) => {
  if ((event.target as HTMLInputElement).name === 'showTest') {
    run.dirty = true;
    return;
  }
  changed(readControls());
});
form.addEventListener('input', (event) => {
  // Sliders show their value as they move; the change event applies it.
  const target = event.target as HTMLInputElement;
  const output = form.querySelector<HTMLOutputElement>(`output[data-for="${target.name}"]`);
  if (output) output.textContent = target.name === 'trainPercent' ? `${target.value}%` : target.value;
});
element('addLayer').addEventListener('click', () => {
  changed({ ...readControls(), layers: [...state.layers, state.layers.at(-1) ?? 4] });
});
element('removeLayer').addEventListener('click', () => {
  changed({ ...readControls(), layers: state.layers.slice(0, -1) });
});
element('unit-controls').addEventListener('click', (event) => {
  const button = (event.target as HTMLElement).closest('button');
  if (!button) return;
  const layer = Number(button.dataset.layer);
  const layers = [...state.layers];
  layers[layer] = Math.min(MAX_UNITS, Math.max(1, (layers[layer] as number) + Number(button.dataset.delta)));
  changed({ ...readControls(), layers });
});
playButton.addEventListener('click', () => {
  if (run.training) pause();
  else play();
});
element('step').addEventListener('click', () => {
  if (run.training) pause();
  else step();
});
element('reset').addEventListener('click', () => {
  if (run.training) frameTimes.stop();
  state = { ...state, epoch: 0 };
  reset(false);
});
element('copyCode').addEventListener('click', () => {
  // The clipboard needs a secure context (https or localhost); elsewhere, select the code to copy by hand.
  navigator.clipboard.writeText(codeElement.textContent).catch(() => {
    getSelection()?.selectAllChildren(codeElement);
  });
});
window.addEventListener('hashchange', () => {
  const next = decodeState(location.hash);
  if (encodeState(next) === encodeState({ ...state, epoch: run.epoch })) return; // our own write
  state = next;
  showState();
  reset(state.epoch > 0);
});

window.ferronetPlayground = {
  snapshot: () => ({
    state: structuredClone({ ...state, epoch: run.epoch }),
    hash: location.hash,
    backend: run.backend,
    epoch: run.epoch,
    training: run.training,
    loss: [...run.loss],
    testLoss: [...run.testLoss],
    weights: (run.weights ?? []).flatMap((layer) => Object.values(layer).map((values) => Array.from(values))),
    testAccuracy: element('testAccuracy').dataset.value === undefined ? null : Number(element('testAccuracy').dataset.value),
    trainX: Array.from(data.train.x),
    testX: Array.from(data.test.x),
    boundary: Array.from(boundary),
    forwardDifference,
    links,
    frames: frameTimes.latest,
    code: codeElement.textContent,
  }),
};

showState();
reset(state.epoch > 0);
