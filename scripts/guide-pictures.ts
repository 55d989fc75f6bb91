/**
 * The pictures of docs/guide.md, drawn with ferronet's own plotting code (ts/plots) from the
 * same networks, seeds and settings as the guide's code:
 *
 * - docs/guide/untrained-boundary.svg: the 2-4-1 network's predictions before training;
 * - docs/guide/planar-training.svg: loss and accuracy over 10,000 full-batch epochs;
 * - docs/guide/planar-boundary.svg: the trained network's decision boundary;
 * - docs/guide/batch-sizes.svg: loss per epoch for batch sizes 400, 100, 20 and 5.
 *
 * Run with `npx tsx scripts/guide-pictures.ts`. Every backend trains the same way; the script
 * uses 'auto' as the guide does (native in Node when the addon is built).
 */

import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Network, Trainer, planarDataset, type History, type LayerConfig } from '../ts/index.js';
import { decisionBoundarySvg } from '../ts/plots/decision-boundary.js';
import { axes, fixed, legend, linearScale, PALETTE, svgDocument, type Frame, type LegendEntry } from '../ts/plots/svg.js';
import { trainingCurvesSvg } from '../ts/plots/training-curves.js';

const OUT = resolve(import.meta.dirname, '..', 'docs', 'guide');
const LAYERS: LayerConfig[] = [
  { units: 4, activation: 'tanh' },
  { units: 1, activation: 'sigmoid' },
];
const LEARNING_RATE = 1.2;
const NETWORK_SEED = 2;
const { x, y } = planarDataset();
const labels = Int32Array.from(y);
const SAMPLES = labels.length;

function planarNetwork(): Promise<Network> {
  return Network.create({ inputSize: 2, layers: LAYERS, init: 'normal0.01', seed: NETWORK_SEED });
}

/** The guide's trainer: binary cross-entropy, plain SGD; the full batch visits the samples in order. */
function trainer(net: Network, batchSize: number): Trainer {
  return new Trainer(net, {
    loss: 'binaryCrossEntropy',
    optimizer: { name: 'sgd', learningRate: LEARNING_RATE },
    batchSize,
    shuffle: batchSize < SAMPLES,
  });
}

function boundary(net: Network, title: string): Promise<string> {
  return decisionBoundarySvg({
    title,
    points: x,
    labels,
    classes: ['class 0', 'class 1'],
    axisTitles: ['x₁', 'x₂'],
    predict: (positions) => net.predict(positions),
  });
}

/** Several loss curves on one pair of axes, one colour each, in the look of ts/plots. */
function lossCurvesSvg(title: string, curves: readonly { name: string; loss: readonly number[] }[]): string {
  const frame: Frame = { left: 80, top: 56, width: 520, height: 300 };
  const epochs = Math.max(...curves.map((curve) => curve.loss.length));
  const values = curves.flatMap((curve) => curve.loss);
  const px = linearScale(1, epochs, frame.left, frame.left + frame.width, 6);
  const py = linearScale(Math.min(0.2, ...values), Math.max(...values), frame.top + frame.height, frame.top, 5);
  let body = axes(frame, px, py, 'epoch', 'loss (mean over the epoch’s batches)');
  const entries: LegendEntry[] = [];
  curves.forEach((curve, c) => {
    const color = PALETTE[c % PALETTE.length] as string;
    const points = curve.loss.map((value, e) => `${fixed(px(e + 1))},${fixed(py(value))}`).join(' ');
    body += `<polyline points="${points}" fill="none" stroke="${color}" stroke-width="2" stroke-linejoin="round" stroke-linecap="round"/>\n`;
    entries.push({ name: curve.name, color, mark: 'line' });
  });
  body += legend(frame.left + frame.width - 8, frame.top + 8, entries);
  return svgDocument(frame.left + frame.width + 40, frame.top + frame.height + 60, title, body);
}

function write(name: string, svg: string): void {
  writeFileSync(join(OUT, name), svg);
  console.log(`${join('docs', 'guide', name)}: ${(svg.length / 1024).toFixed(1)} KB`);
}

mkdirSync(OUT, { recursive: true });

// Sections 2 and 8: before and after 10,000 full-batch epochs.
const net = await planarNetwork();
write('untrained-boundary.svg', await boundary(net, `Untrained 2-4-1 network (seed ${NETWORK_SEED}): loss ${net.evaluate(x, y).loss.toFixed(3)}`));
const history = await trainer(net, SAMPLES).fit(x, y, { epochs: 10_000 });
const { loss, accuracy } = net.evaluate(x, y);
console.log(`planar: loss ${loss.toFixed(4)}, accuracy ${(accuracy * 100).toFixed(2)}%`);
write('planar-training.svg', trainingCurvesSvg({ title: `Planar · 2-4-1 · SGD lr ${LEARNING_RATE} · full batch`, history, accuracy: true }));
write('planar-boundary.svg', await boundary(net, `After 10,000 epochs: loss ${loss.toFixed(3)}, accuracy ${(accuracy * 100).toFixed(2)}%`));
net.dispose();

// Section 7: 300 epochs at each batch size, from the same start, shuffled with the trainer's default seed.
const curves: { name: string; loss: number[] }[] = [];
for (const batchSize of [400, 100, 20, 5]) {
  const run = await planarNetwork();
  const fitted: History = await trainer(run, batchSize).fit(x, y, { epochs: 300 });
  const steps = 300 * Math.ceil(SAMPLES / batchSize);
  console.log(`batch ${batchSize}: loss ${run.evaluate(x, y).loss.toFixed(4)} after ${steps} steps`);
  curves.push({ name: `batch ${batchSize} (${steps.toLocaleString('en-US')} steps)`, loss: fitted.loss });
  run.dispose();
}
write('batch-sizes.svg', lossCurvesSvg(`Planar · 2-4-1 · SGD lr ${LEARNING_RATE} · 300 epochs`, curves));
