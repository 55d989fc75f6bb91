/**
 * synaptic: an object per neuron and per connection, compiled into one generated function per
 * network. It trains online (one update per sample) and has no softmax and no GEMM.
 */

import synaptic from 'synaptic';
import { MLP, PACES, PLANAR } from '../spec.js';
import type { Subject, TimedTraining } from '../subject.js';

const { Architect, Neuron, Trainer } = synaptic;

interface Example {
  input: number[];
  output: number[];
}

function rows(x: Float32Array, width: number, count: number): number[][] {
  return Array.from({ length: count }, (_, i) => Array.from(x.subarray(i * width, (i + 1) * width)));
}

/** The MLP with relu hidden layers; the output stays logistic (synaptic has no softmax). */
function mlpNetwork(): synaptic.Architect.Perceptron {
  const network = new Architect.Perceptron(MLP.inputs, ...MLP.hidden, MLP.classes);
  for (const layer of network.layers.hidden) layer.set({ squash: Neuron.squash.ReLU });
  return network;
}

/** Trainer options for exactly `iterations` epochs: an error target of -1 is never reached. */
function exactly(iterations: number, rate: number, shuffle: boolean): synaptic.Trainer.TrainingOptions {
  return { iterations, rate, error: -1, shuffle, cost: Trainer.cost.CROSS_ENTROPY };
}

/** synaptic's `Architect.Perceptron` and `Trainer`. */
export function synapticJs(): Subject {
  return {
    pace: PACES.crawl,
    mlpBatch: 1,
    notes: {
      mlp: 'online SGD (batch 1), logistic output with cross-entropy (no softmax)',
      planar: 'online SGD (400 updates per step)',
      inference: 'one activate() per sample; logistic output',
    },

    mlp(x, labels) {
      const network = mlpNetwork();
      const trainer = new Trainer(network);
      const data: Example[] = rows(x, MLP.inputs, labels.length).map((input, i) => ({
        input,
        output: Array.from({ length: MLP.classes }, (_, c) => (c === labels[i] ? 1 : 0)),
      }));
      return Promise.resolve({
        fit: (epochs, onEpochEnd) => {
          // The epoch's mean cross-entropy over its online updates, which synaptic computes anyway.
          const schedule = { every: 1, do: ({ error }: { error: number }) => (onEpochEnd(error), false) };
          trainer.train(data, { ...exactly(epochs, MLP.learningRate, true), schedule });
          return Promise.resolve();
        },
      });
    },

    planar(x, y) {
      const data: Example[] = rows(x, 2, y.length).map((input, i) => ({ input, output: [y[i] as number] }));
      let trainer: synaptic.Trainer | undefined;
      // Its mean cross-entropy over the first step's and the last step's online updates.
      const losses = { first: Number.NaN, last: Number.NaN };
      const schedule = {
        every: 1,
        do: ({ error, iterations }: { error: number; iterations: number }) => {
          if (iterations === 1) losses.first = error;
          losses.last = error;
          return false;
        },
      };
      const timed: TimedTraining = {
        setup: () => {
          const network = new Architect.Perceptron(2, PLANAR.hidden, 1);
          for (const layer of network.layers.hidden) layer.set({ squash: Neuron.squash.TANH });
          trainer = new Trainer(network);
        },
        run: () => trainer?.train(data, { ...exactly(PLANAR.steps, PLANAR.learningRate, false), schedule }),
        losses: () => losses,
      };
      return Promise.resolve(timed);
    },

    inference(x, batch) {
      const network = mlpNetwork();
      const inputs = rows(x, MLP.inputs, batch);
      return Promise.resolve({
        run: () => inputs.map((input) => network.activate(input)),
      });
    },
  };
}
