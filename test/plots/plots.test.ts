/** The SVG charts: well-formed, complete (axes, labels, legend) and faithful to the data. */

import { inflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decisionBoundarySvg } from '../../ts/plots/decision-boundary.js';
import { encodePng } from '../../ts/plots/png.js';
import { niceTicks, tickLabel } from '../../ts/plots/svg.js';
import { trainingCurvesSvg } from '../../ts/plots/training-curves.js';
import type { History } from '../../ts/trainer.js';

/** Every tag closes and no number is NaN: what a renderer would choke on. */
function expectWellFormed(svg: string): void {
  expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
  expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  const opened = (svg.match(/<(?!\/)[a-zA-Z]+[^>]*[^/]>/g) ?? []).length;
  const closed = (svg.match(/<\/[a-zA-Z]+>/g) ?? []).length;
  expect(opened).toBe(closed);
}

const history: History = {
  epochs: 3,
  loss: [0.9, 0.5, 0.4],
  accuracy: [0.6, 0.8, 0.85],
  valLoss: [0.8, 0.6, 0.55],
  valAccuracy: [0.65, 0.75, 0.8],
  samplesPerSec: [1, 1, 1],
  learningRate: [0.01, 0.01, 0.01],
  stoppedEpoch: null,
  bestEpoch: null,
};

it('picks round tick values', () => {
  expect(niceTicks(0.23, 0.52).ticks).toEqual([0.2, 0.3, 0.4, 0.5, 0.6]);
  expect(niceTicks(1, 10000, 6).ticks).toEqual([0, 2000, 4000, 6000, 8000, 10000]);
  expect(niceTicks(3, 3).ticks.length).toBeGreaterThan(1);
});

describe('training curves', () => {
  it('draws loss and accuracy, training and validation, with a legend', () => {
    const svg = trainingCurvesSvg({ title: 'demo <&> "quoted"', history, accuracy: true });
    expectWellFormed(svg);
    expect(svg).toContain('demo &#60;&#38;&#62; &#34;quoted&#34;');
    expect(svg.match(/<polyline /g)).toHaveLength(4);
    for (const text of ['Loss', 'Accuracy', 'epoch', '>training<', '>validation<', '>80%<']) expect(svg).toContain(text);
    expect(svg).not.toContain('kept');
    expect(trainingCurvesSvg({ title: 't', history, accuracy: true, keptEpoch: 2 }).match(/>kept \(epoch 2\)</g)).toHaveLength(2);
  });

  it('draws the loss alone for regression, and thins long runs', () => {
    const long: History = { ...history, epochs: 5000, loss: Array.from({ length: 5000 }, (_, i) => 1 / (i + 1)), accuracy: [], valLoss: [], valAccuracy: [] };
    const svg = trainingCurvesSvg({ title: 't', history: long, accuracy: false });
    expectWellFormed(svg);
    expect(svg).not.toContain('Accuracy');
    const points = /<polyline points="([^"]*)"/.exec(svg)?.[1]?.split(' ') ?? [];
    expect(points.length).toBeLessThanOrEqual(1001);
    expect(svg).not.toContain('<circle');
  });
});

describe('decision boundary', () => {
  it('shades the classes, traces the boundary and plots every point', async () => {
    // A classifier that says class 1 right of x = 0.
    const points = Float32Array.of(-1, 0, -0.5, 1, 0.5, -1, 1, 0.3);
    const svg = await decisionBoundarySvg({
      title: 'toy',
      points,
      labels: [0, 0, 1, 1],
      classes: ['left', 'right'],
      axisTitles: ['width', 'height'],
      predict: (positions) => Float32Array.from({ length: positions.length / 2 }, (_, i) => 1 / (1 + Math.exp(-10 * (positions[2 * i] as number)))),
    });
    expectWellFormed(svg);
    expect(svg.match(/<circle cx/g)).toHaveLength(4 + 2); // the points and the legend's dots
    for (const text of ['>left<', '>right<', '>width<', '>height<', 'data:image/png;base64,']) expect(svg).toContain(text);
    // The boundary is the vertical line x = 0: every segment's ends share one x.
    const path = /<path d="([^"]*)"/.exec(svg)?.[1] ?? '';
    const xs = new Set([...path.matchAll(/[ML]([\d.]+) /g)].map((match) => Math.round(Number(match[1]))));
    expect(xs.size).toBe(1);
  });
});

it('encodes a PNG that zlib decodes back to the pixels', async () => {
  const rgb = Uint8Array.from({ length: 3 * 4 * 2 }, (_, i) => i * 10);
  const png = await encodePng(4, 2, rgb);
  expect(Array.from(png.subarray(0, 8))).toEqual([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  const view = new DataView(png.buffer);
  expect([view.getUint32(16), view.getUint32(20)]).toEqual([4, 2]);
  const idatLength = view.getUint32(33);
  const raw = inflateSync(png.subarray(41, 41 + idatLength));
  expect(Array.from(raw)).toEqual([0, ...rgb.subarray(0, 12), 0, ...rgb.subarray(12)]);
});

describe('tick labels', () => {
  it('write as many decimals as the step needs, and an exponent for tiny steps', () => {
    expect(tickLabel(0.3, 0.1)).toBe('0.3');
    expect(tickLabel(1500, 500)).toBe('1,500');
    expect(tickLabel(0.000002, 0.000001)).toBe('0.000002');
    expect(tickLabel(1.5e-7, 5e-8)).toBe('1.5e-7');
    expect(tickLabel(0, 5e-8)).toBe('0');
    // Data of 1e-45 (a CSV column of float32 subnormals) once threw from toLocaleString.
    expect(tickLabel(2e-45, 1e-45)).toBe('2e-45');
  });
});
