/**
 * The playground's data: five two-class sets in the plane, a seeded train/test split and the
 * input features. "Show the code" copies the regions of this file that the current setup uses
 * into the code it shows (web/playground-code.ts imports this file's text with Vite's `?raw`),
 * so the code on the page is the code that made the page's data. Keep each region
 * self-contained: it may use `Random` and the regions before it, nothing else.
 */

import { Random } from 'ferronet';

// #region points
/** Two-class points in the plane: `x` is `[samples][2]` row-major, `y` is 0 or 1 per sample. */
export interface Points {
  x: Float32Array;
  y: Float32Array;
  samples: number;
}

/** Points in every data set. */
export const SAMPLES = 400;

/** Fills a data set: `point(i, random)` gives sample i's coordinates and class. */
export function points(seed: number, point: (i: number, random: Random) => [number, number, number]): Points {
  const random = new Random(seed);
  const x = new Float32Array(SAMPLES * 2);
  const y = new Float32Array(SAMPLES);
  for (let i = 0; i < SAMPLES; i++) {
    const [px, py, label] = point(i, random);
    x[2 * i] = px;
    x[2 * i + 1] = py;
    y[i] = label;
  }
  return { x, y, samples: SAMPLES };
}
// #endregion points

// #region planar
/** The planar "flower" of the classic exercise: a four-petal rose, radius 4, half the petals each class. */
export function planar(noise: number, seed: number): Points {
  return points(seed, (i, random) => {
    const label = i < SAMPLES / 2 ? 0 : 1;
    const along = (i % (SAMPLES / 2)) / (SAMPLES / 2 - 1);
    const t = (label + along) * 3.12 + noise * random.normal();
    const r = 4 * Math.sin(4 * t) + noise * random.normal();
    return [r * Math.sin(t), r * Math.cos(t), label];
  });
}
// #endregion planar

// #region circles
/** A disc of radius 2 (class 1) inside a ring from 3 to 4 (class 0). */
export function circles(noise: number, seed: number): Points {
  return points(seed, (i, random) => {
    const label = i < SAMPLES / 2 ? 1 : 0;
    const radius = label === 1 ? 2 * Math.sqrt(random.uniform()) : 3 + random.uniform();
    const angle = 2 * Math.PI * random.uniform();
    return [radius * Math.cos(angle) + noise * random.normal(), radius * Math.sin(angle) + noise * random.normal(), label];
  });
}
// #endregion circles

// #region xor
/** Uniform points in [-4, 4]^2, class 1 where x1 and x2 have the same sign. */
export function xor(noise: number, seed: number): Points {
  return points(seed, (_, random) => {
    const margin = 0.3; // keep points off the axes, where the class flips
    const side = (): number => (random.uniform() < 0.5 ? -1 : 1) * (margin + (4 - margin) * random.uniform());
    const [px, py] = [side(), side()];
    return [px + noise * random.normal(), py + noise * random.normal(), px * py > 0 ? 1 : 0];
  });
}
// #endregion xor

// #region gauss
/** Two Gaussian clusters, standard deviation 0.5 + noise, centred at (2, 2) (class 1) and (-2, -2). */
export function gauss(noise: number, seed: number): Points {
  return points(seed, (i, random) => {
    const label = i < SAMPLES / 2 ? 1 : 0;
    const centre = label === 1 ? 2 : -2;
    const spread = 0.5 + noise;
    return [centre + spread * random.normal(), centre + spread * random.normal(), label];
  });
}
// #endregion gauss

// #region spiral
/** Two arms winding 1.75 turns out to radius 4, half a turn apart. */
export function spiral(noise: number, seed: number): Points {
  return points(seed, (i, random) => {
    const label = i < SAMPLES / 2 ? 0 : 1;
    const along = (i % (SAMPLES / 2)) / (SAMPLES / 2);
    const angle = 3.5 * Math.PI * along + label * Math.PI;
    const radius = 0.3 + 3.7 * along;
    return [radius * Math.cos(angle) + noise * random.normal(), radius * Math.sin(angle) + noise * random.normal(), label];
  });
}
// #endregion spiral

// #region split
/** A seeded shuffle of the samples: the first `trainPercent`% train, the rest test. */
export function split(data: Points, trainPercent: number, seed: number): { train: Points; test: Points } {
  const order = Uint32Array.from({ length: data.samples }, (_, i) => i);
  new Random(seed).shuffle(order);
  const trainSamples = Math.round((data.samples * trainPercent) / 100);
  const take = (rows: Uint32Array): Points => {
    const x = new Float32Array(rows.length * 2);
    const y = new Float32Array(rows.length);
    rows.forEach((row, i) => {
      x[2 * i] = data.x[2 * row] as number;
      x[2 * i + 1] = data.x[2 * row + 1] as number;
      y[i] = data.y[row] as number;
    });
    return { x, y, samples: rows.length };
  };
  return { train: take(order.subarray(0, trainSamples)), test: take(order.subarray(trainSamples)) };
}
// #endregion split

// #region features
/** The input features a network may see, each a function of a point. */
export const FEATURES = {
  x1: (x1: number) => x1,
  x2: (_: number, x2: number) => x2,
  'x1^2': (x1: number) => x1 * x1,
  'x2^2': (_: number, x2: number) => x2 * x2,
  'x1*x2': (x1: number, x2: number) => x1 * x2,
  'sin(x1)': (x1: number) => Math.sin(x1),
  'sin(x2)': (_: number, x2: number) => Math.sin(x2),
};
export type FeatureName = keyof typeof FEATURES;

/** The network's inputs: `[samples][names.length]` row-major, from `[samples][2]` points. */
export function featurize(x: Float32Array, names: readonly FeatureName[]): Float32Array {
  const samples = x.length / 2;
  const inputs = new Float32Array(samples * names.length);
  for (let i = 0; i < samples; i++) {
    names.forEach((name, f) => {
      inputs[i * names.length + f] = FEATURES[name](x[2 * i] as number, x[2 * i + 1] as number);
    });
  }
  return inputs;
}
// #endregion features

/** The data sets by the name the URL uses. */
export const DATASETS = {
  planar: { label: 'Planar flower', make: planar },
  circles: { label: 'Circles', make: circles },
  xor: { label: 'XOR', make: xor },
  gauss: { label: 'Gaussian clusters', make: gauss },
  spiral: { label: 'Spiral', make: spiral },
} as const;
export type DatasetName = keyof typeof DATASETS;
