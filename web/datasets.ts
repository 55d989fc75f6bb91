/**
 * The demo's two-class data sets in 2-D, each made from ferronet's seeded generator so that a
 * seed gives the same points on every visit.
 */

import { planarDataset, type Dataset } from 'ferronet';
import { points, SAMPLES } from './playground-data.js';

/** Settings that train a data set well: the form starts from these. */
export interface Suggested {
  hiddenUnits: number;
  activation: 'tanh' | 'relu' | 'leakyRelu' | 'sigmoid';
  learningRate: number;
  batchSize: number;
  epochs: number;
}

/** A data set the page offers. */
export interface DatasetChoice {
  label: string;
  make(seed: number): Dataset;
  suggested: Suggested;
}


const HALF = SAMPLES / 2;

/** Two interleaving half circles (as scikit-learn's make_moons), with Gaussian noise. */
function moons(seed: number): Dataset {
  const noise = 0.12;
  return points(seed, (i, random) => {
    const upper = i < HALF;
    const t = (Math.PI * (i % HALF)) / (HALF - 1);
    const px = upper ? Math.cos(t) : 1 - Math.cos(t);
    const py = upper ? Math.sin(t) : 0.5 - Math.sin(t);
    return [px + noise * random.normal(), py + noise * random.normal(), upper ? 0 : 1];
  });
}

/** A ring around a disc: radius 1 and 0.5, with Gaussian noise. */
function circles(seed: number): Dataset {
  const noise = 0.08;
  return points(seed, (i, random) => {
    const outer = i < HALF;
    const radius = outer ? 1 : 0.5;
    const angle = 2 * Math.PI * random.uniform();
    return [radius * Math.cos(angle) + noise * random.normal(), radius * Math.sin(angle) + noise * random.normal(), outer ? 0 : 1];
  });
}

/** Two arms winding one and a half turns around the origin, half a turn apart. */
function spiral(seed: number): Dataset {
  const noise = 0.04;
  return points(seed, (i, random) => {
    const arm = i < HALF ? 0 : 1;
    const along = (i % HALF) / HALF; // 0 at the centre, 1 at the tip
    const angle = 3 * Math.PI * along + arm * Math.PI;
    const radius = 0.1 + 0.9 * along;
    return [radius * Math.cos(angle) + noise * random.normal(), radius * Math.sin(angle) + noise * random.normal(), arm];
  });
}

/** The data sets, by the value of the page's select. */
export const DATASETS = {
  planar: {
    label: 'Planar flower',
    make: () => planarDataset(),
    suggested: { hiddenUnits: 8, activation: 'tanh', learningRate: 0.02, batchSize: 32, epochs: 1000 },
  },
  moons: {
    label: 'Moons',
    make: moons,
    suggested: { hiddenUnits: 8, activation: 'tanh', learningRate: 0.03, batchSize: 32, epochs: 300 },
  },
  circles: {
    label: 'Circles',
    make: circles,
    suggested: { hiddenUnits: 8, activation: 'relu', learningRate: 0.03, batchSize: 32, epochs: 300 },
  },
  spiral: {
    label: 'Spiral',
    make: spiral,
    suggested: { hiddenUnits: 64, activation: 'relu', learningRate: 0.01, batchSize: 16, epochs: 1000 },
  },
} satisfies Record<string, DatasetChoice>;

/** A key of {@link DATASETS}. */
export type DatasetName = keyof typeof DATASETS;
