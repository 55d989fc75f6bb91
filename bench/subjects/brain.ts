/**
 * brain.js (npm's `latest`, 1.x, CPU `NeuralNetwork`). It trains online, one update per sample,
 * with one activation for every layer including the output and a squared-error gradient; it has
 * no batches, no softmax and no GEMM.
 */

import brain from 'brain.js';
import { MLP, PACES, PLANAR } from '../spec.js';
import type { Subject, TimedTraining } from '../subject.js';

interface Example {
  input: number[];
  output: number[];
}

function rows(x: Float32Array, width: number, count: number): number[][] {
  return Array.from({ length: count }, (_, i) => Array.from(x.subarray(i * width, (i + 1) * width)));
}

function oneHot(label: number): number[] {
  return Array.from({ length: MLP.classes }, (_, c) => (c === label ? 1 : 0));
}

/**
 * Options that make `train` run exactly `iterations` epochs: brain.js accepts an error
 * threshold only in (0, 1), and the smallest one is reached only by an exact fit. It also
 * requires a learning rate and a momentum in (0, 1), so plain SGD is out of reach: its default
 * momentum of 0.1 stays.
 */
function exactly(iterations: number, learningRate: number): brain.INeuralNetworkTrainingOptions {
  return { iterations, errorThresh: Number.MIN_VALUE, learningRate, momentum: 0.1, log: false };
}

/** brain.js refuses learning rates of 1 and more, so not the exercise's 1.2: its default instead. */
const PLANAR_RATE = 0.3;

/** brain.js's `NeuralNetwork`. */
export function brainJs(): Subject {
  return {
    pace: PACES.slow,
    mlpBatch: 1,
    notes: {
      mlp: 'online SGD (batch 1) with momentum 0.1, relu on every layer including the output, squared-error gradient',
      planar: 'online SGD (400 updates per step), learning rate 0.3, momentum 0.1, sigmoid on both layers',
      inference: 'one run() per sample; relu output',
    },

    mlp(x, labels) {
      const network = new brain.NeuralNetwork({ hiddenLayers: [...MLP.hidden], activation: 'relu' });
      const data: Example[] = rows(x, MLP.inputs, labels.length).map((input, i) => ({ input, output: oneHot(labels[i] as number) }));
      return Promise.resolve({
        fit: (epochs, onEpochEnd) => {
          // brain.js computes each epoch's mean error (its squared error) whether or not a callback asks for it.
          network.train(data, {
            ...exactly(epochs, MLP.learningRate),
            callback: ({ error }) => {
              onEpochEnd(error);
            },
            callbackPeriod: 1,
          });
          return Promise.resolve();
        },
      });
    },

    planar(x, y) {
      const data: Example[] = rows(x, 2, y.length).map((input, i) => ({ input, output: [y[i] as number] }));
      let network: brain.NeuralNetwork | undefined;
      // Its mean squared error over the first step's and the last step's online updates (it
      // computes the error every step anyway; the callback only reads it).
      const losses = { first: Number.NaN, last: Number.NaN };
      const timed: TimedTraining = {
        setup: () => {
          network = new brain.NeuralNetwork({ hiddenLayers: [PLANAR.hidden], activation: 'sigmoid' });
        },
        run: () =>
          network?.train(data, {
            ...exactly(PLANAR.steps, PLANAR_RATE),
            callback: ({ iterations, error }) => {
              if (iterations === 1) losses.first = error;
              losses.last = error;
            },
            callbackPeriod: 1,
          }),
        losses: () => losses,
      };
      return Promise.resolve(timed);
    },

    inference(x, batch) {
      const network = new brain.NeuralNetwork({ hiddenLayers: [...MLP.hidden], activation: 'relu' });
      const inputs = rows(x, MLP.inputs, batch);
      // brain.js sizes and initializes its layers on the first train(): one untimed epoch on one sample.
      network.train([{ input: inputs[0] ?? [], output: oneHot(0) }], exactly(1, MLP.learningRate));
      return Promise.resolve({
        run: () => inputs.map((input) => network.run(input)),
      });
    },
  };
}
