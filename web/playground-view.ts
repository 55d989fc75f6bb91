/**
 * The playground's pictures: the decision boundary with train and test points, the training
 * and test loss curves, and the network drawn as heatmaps of each unit's output over the plane,
 * joined by links whose width is a weight's magnitude and whose colour its sign.
 */

import type { LayerWeights } from 'ferronet';
import { featurize, type FeatureName, type Points } from './playground-data.js';
import type { PlaygroundState } from './playground-state.js';

/** The square of the plane every picture shows: [-EXTENT, EXTENT]^2. */
export const EXTENT = 6;

const BLUE = [43, 108, 176] as const; // class 0, negative values and weights
const ORANGE = [221, 107, 32] as const; // class 1, positive values and weights

/** Cell centres of a `resolution`-square grid over the view, `[cells][2]`, top row first. */
export function gridPoints(resolution: number): Float32Array {
  const grid = new Float32Array(resolution * resolution * 2);
  for (let row = 0; row < resolution; row++) {
    for (let col = 0; col < resolution; col++) {
      const cell = row * resolution + col;
      grid[2 * cell] = -EXTENT + ((col + 0.5) / resolution) * 2 * EXTENT;
      grid[2 * cell + 1] = EXTENT - ((row + 0.5) / resolution) * 2 * EXTENT;
    }
  }
  return grid;
}

function activate(name: PlaygroundState['activation'] | 'sigmoid', value: number): number {
  switch (name) {
    case 'tanh':
      return Math.tanh(value);
    case 'relu':
      return Math.max(0, value);
    case 'leakyRelu':
      return value > 0 ? value : 0.01 * value; // ferronet's default slope
    case 'sigmoid':
      return 1 / (1 + Math.exp(-value));
    case 'linear':
      return value;
  }
}

/**
 * Every dense layer's output for `inputs` (`[samples][features]`), computed here from
 * `getWeights()` for the playground's dense MLPs (dropout is the identity in inference).
 * `net.trace(x)`, which ferronet is gaining, gives the same per layer and can replace this.
 */
export function denseOutputs(state: PlaygroundState, weights: readonly LayerWeights[], inputs: Float32Array): Float32Array[] {
  const samples = inputs.length / state.features.length;
  const outputs: Float32Array[] = [];
  let current = inputs;
  let width = state.features.length;
  const dense = weights.filter((layer) => layer.weights !== undefined);
  dense.forEach((layer, index) => {
    const w = layer.weights as Float32Array;
    const b = layer.bias;
    const units = w.length / width;
    const activation = index === dense.length - 1 ? 'sigmoid' : state.activation;
    const next = new Float32Array(samples * units);
    for (let s = 0; s < samples; s++) {
      for (let u = 0; u < units; u++) {
        let sum = b ? (b[u] as number) : 0;
        for (let i = 0; i < width; i++) sum += (current[s * width + i] as number) * (w[u * width + i] as number);
        next[s * units + u] = activate(activation, sum);
      }
    }
    outputs.push(next);
    current = next;
    width = units;
  });
  return outputs;
}

/** One small canvas and its pixels per grid size, reused by every heatmap (a frame paints dozens). */
const scratch = new Map<number, { small: OffscreenCanvas; cells: ImageData }>();
function scratchFor(resolution: number): { small: OffscreenCanvas; cells: ImageData } {
  let found = scratch.get(resolution);
  if (!found) {
    found = { small: new OffscreenCanvas(resolution, resolution), cells: new ImageData(resolution, resolution) };
    scratch.set(resolution, found);
  }
  return found;
}

/** The inputs over a grid, kept while the features and the grid stay the same (they are redrawn every frame). */
let featureCache: { grid: Float32Array; key: string; inputs: Float32Array } | null = null;
function gridFeatures(grid: Float32Array, names: readonly FeatureName[]): Float32Array {
  const key = names.join(',');
  if (featureCache?.grid !== grid || featureCache.key !== key) featureCache = { grid, key, inputs: featurize(grid, names) };
  return featureCache.inputs;
}

/** Paints `values[cell * stride + offset]` over a square: `low` to `high` from blue through white to orange. */
function paintCells(
  context: CanvasRenderingContext2D,
  values: Float32Array,
  resolution: number,
  stride: number,
  offset: number,
  range: [number, number],
  box: { x: number; y: number; size: number },
  pale = 0,
): void {
  const { small, cells } = scratchFor(resolution);
  const [low, high] = range;
  for (let cell = 0; cell < resolution * resolution; cell++) {
    const value = values[cell * stride + offset] as number;
    const t = Math.max(-1, Math.min(1, ((value - low) / (high - low)) * 2 - 1)); // -1 blue, 0 white, 1 orange
    const colour = t < 0 ? BLUE : ORANGE;
    const weight = Math.abs(t) * (1 - pale);
    for (let channel = 0; channel < 3; channel++) {
      cells.data[4 * cell + channel] = 255 - weight * (255 - (colour[channel] as number));
    }
    cells.data[4 * cell + 3] = 255;
  }
  (small.getContext('2d') as OffscreenCanvasRenderingContext2D).putImageData(cells, 0, 0);
  context.imageSmoothingEnabled = true;
  context.drawImage(small, box.x, box.y, box.size, box.size);
}

/** The probability of class 1 over the plane, with training points filled and test points hollow. */
export function drawBoundary(canvas: HTMLCanvasElement, resolution: number, probabilities: Float32Array | null, train: Points, test: Points, showTest: boolean): void {
  const context = canvas.getContext('2d') as CanvasRenderingContext2D;
  const { width } = canvas;
  context.fillStyle = 'white';
  context.fillRect(0, 0, width, width);
  if (probabilities) paintCells(context, probabilities, resolution, 1, 0, [0, 1], { x: 0, y: 0, size: width }, 0.35);
  const scale = width / (2 * EXTENT);
  const dot = (points: Points, hollow: boolean): void => {
    for (let i = 0; i < points.samples; i++) {
      const colour = points.y[i] === 1 ? ORANGE : BLUE;
      context.beginPath();
      context.arc(((points.x[2 * i] as number) + EXTENT) * scale, (EXTENT - (points.x[2 * i + 1] as number)) * scale, hollow ? 3.5 : 3, 0, 2 * Math.PI);
      if (hollow) {
        context.fillStyle = 'white';
        context.fill();
        context.lineWidth = 2;
        context.strokeStyle = `rgb(${colour.join(' ')})`;
        context.stroke();
        context.lineWidth = 1;
      } else {
        context.fillStyle = `rgb(${colour.join(' ')})`;
        context.fill();
        context.strokeStyle = 'white';
        context.stroke();
      }
    }
  };
  dot(train, false);
  if (showTest) dot(test, true);
}

/** Training (solid) and test (dashed) loss per epoch, from 0 to the largest loss. */
export function drawLosses(canvas: HTMLCanvasElement, train: readonly number[], test: readonly number[]): void {
  const context = canvas.getContext('2d') as CanvasRenderingContext2D;
  const { width, height } = canvas;
  const [left, right, top, bottom] = [40, 8, 22, 20];
  context.clearRect(0, 0, width, height);
  context.fillStyle = '#4a5568';
  context.font = '12px system-ui, sans-serif';
  context.fillText('loss per epoch: training —, test - -', left, 14);
  context.strokeStyle = '#cbd5e0';
  context.beginPath();
  context.moveTo(left, top);
  context.lineTo(left, height - bottom);
  context.lineTo(width - right, height - bottom);
  context.stroke();
  const epochs = Math.max(train.length, test.length);
  if (epochs === 0) return;
  let largest = Number.MIN_VALUE;
  for (const losses of [train, test]) for (const loss of losses) if (Number.isFinite(loss)) largest = Math.max(largest, loss);
  context.fillText(largest.toFixed(2), 4, top + 4);
  context.fillText('0', 4, height - bottom + 4);
  context.fillText(String(epochs), width - right - 7 * String(epochs).length, height - 6);
  const line = (losses: readonly number[], colour: string, dash: number[]): void => {
    context.strokeStyle = colour;
    context.setLineDash(dash);
    context.lineWidth = 1.5;
    context.beginPath();
    const step = Math.max(1, Math.floor(losses.length / (width - left - right)));
    for (let epoch = 0; epoch < losses.length; epoch += step) {
      const px = left + ((epoch + 1) / epochs) * (width - left - right);
      const py = height - bottom - Math.min(1, (losses[epoch] as number) / largest) * (height - top - bottom);
      if (epoch === 0) context.moveTo(px, py);
      else context.lineTo(px, py);
    }
    context.stroke();
    context.setLineDash([]);
    context.lineWidth = 1;
  };
  line(train, '#2b6cb0', []);
  line(test, '#dd6b20', [5, 3]);
}

/** Where the network picture puts each unit: columns of squares, inputs first, output last. */
export interface NetworkLayout {
  box: number;
  columns: { x: number; ys: number[] }[];
}

export function networkLayout(canvas: HTMLCanvasElement, widths: readonly number[]): NetworkLayout {
  const box = 34;
  const gapX = (canvas.width - box - 20) / Math.max(1, widths.length - 1);
  const columns = widths.map((units, column) => {
    const spacing = Math.min(box + 12, (canvas.height - 30) / units);
    const span = spacing * (units - 1);
    const ys = Array.from({ length: units }, (_, i) => canvas.height / 2 - span / 2 + i * spacing - box / 2);
    return { x: 10 + column * gapX, ys };
  });
  return { box, columns };
}

/**
 * The network: each input feature and each unit as a heatmap of its output over the plane
 * (`grid` is `gridPoints(resolution)`), and every weight as a link, width by magnitude, orange
 * for positive and blue for negative.
 */
export function drawNetwork(
  canvas: HTMLCanvasElement,
  state: PlaygroundState,
  weights: readonly LayerWeights[] | null,
  grid: Float32Array,
  resolution: number,
): { links: number } {
  const context = canvas.getContext('2d') as CanvasRenderingContext2D;
  context.clearRect(0, 0, canvas.width, canvas.height);
  const widths = [state.features.length, ...state.layers, 1];
  const layout = networkLayout(canvas, widths);
  const { box } = layout;
  const dense = weights?.filter((layer) => layer.weights !== undefined) ?? [];
  let links = 0;
  // Links first, under the heatmaps.
  let largest = 1e-6;
  for (const layer of dense) for (const value of layer.weights as Float32Array) largest = Math.max(largest, Math.abs(value));
  dense.forEach((layer, index) => {
    const from = layout.columns[index];
    const to = layout.columns[index + 1];
    if (!from || !to) return;
    const w = layer.weights as Float32Array;
    to.ys.forEach((toY, u) => {
      from.ys.forEach((fromY, i) => {
        const value = w[u * from.ys.length + i] as number;
        context.strokeStyle = `rgb(${(value >= 0 ? ORANGE : BLUE).join(' ')} / 0.8)`;
        context.lineWidth = 0.5 + 5 * (Math.abs(value) / largest);
        context.beginPath();
        context.moveTo(from.x + box, fromY + box / 2);
        context.bezierCurveTo(from.x + box + 30, fromY + box / 2, to.x - 30, toY + box / 2, to.x, toY + box / 2);
        context.stroke();
        links += 1;
      });
    });
  });
  context.lineWidth = 1;
  // The inputs' pictures, then every unit's.
  const features = gridFeatures(grid, state.features);
  const inputColumn = layout.columns[0] as NetworkLayout['columns'][number];
  state.features.forEach((name: FeatureName, f) => {
    let [low, high] = [Infinity, -Infinity];
    for (let cell = 0; cell < resolution * resolution; cell++) {
      const value = features[cell * state.features.length + f] as number;
      low = Math.min(low, value);
      high = Math.max(high, value);
    }
    const bound = Math.max(Math.abs(low), Math.abs(high), 1e-6);
    const y = inputColumn.ys[f] as number;
    paintCells(context, features, resolution, state.features.length, f, [-bound, bound], { x: inputColumn.x, y, size: box });
    context.fillStyle = '#2d3748';
    context.font = '11px system-ui, sans-serif';
    context.fillText(name, inputColumn.x, y - 2);
  });
  if (weights) {
    const outputs = denseOutputs(state, weights, features);
    outputs.forEach((values, index) => {
      const column = layout.columns[index + 1];
      if (!column) return;
      const units = column.ys.length;
      const last = index === outputs.length - 1;
      const bounded: [number, number] | null = last || state.activation === 'sigmoid' ? [0, 1] : state.activation === 'tanh' ? [-1, 1] : null;
      column.ys.forEach((y, u) => {
        // Unbounded units (relu, leaky relu, linear) each get their own symmetric range.
        paintCells(context, values, resolution, units, u, bounded ?? rangeOf(values, units, u), { x: column.x, y, size: box });
      });
    });
  }
  for (const column of layout.columns) {
    for (const y of column.ys) {
      context.strokeStyle = '#718096';
      context.strokeRect(column.x + 0.5, y + 0.5, box - 1, box - 1);
    }
  }
  return { links };
}

/** A symmetric range around 0 that holds every value of unit `offset` of `stride` units. */
function rangeOf(values: Float32Array, stride: number, offset: number): [number, number] {
  let bound = 1e-6;
  for (let i = offset; i < values.length; i += stride) bound = Math.max(bound, Math.abs(values[i] as number));
  return [-bound, bound];
}
