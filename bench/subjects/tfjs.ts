/**
 * TensorFlow.js on its pure-JS `cpu` backend or its `wasm` backend (XNNPACK). The wasm files
 * are read from node_modules, never fetched. tfjs has no in-place GEMM, so its matMul allocates
 * the product; both backends compute eagerly inside the call. The wasm backend has no
 * Conv2DBackpropFilter kernel, so its CNN row fails on the first batch and reports tfjs's error.
 */

import * as tf from '@tensorflow/tfjs';
import { getThreadsCount, setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { CNN, MLP, PACES, PLANAR, type Pace } from '../spec.js';
import type { Subject, TimedTraining } from '../subject.js';

/**
 * How much work each backend gets. The wasm backend trains the MLP at about 3,000 samples/s, so
 * the full pace (77k samples) takes about 25 s; the cpu backend's 500 samples/s would take 2.5
 * minutes: the slow pace. A planar run (10,000 steps of a custom loop) takes seconds: one timed
 * run. The cpu backend's Conv2DBackpropFilter takes minutes per batch of 128 on the CNN's second
 * convolution: one batch per CNN epoch, one epoch timed (the wasm backend cannot train it at all).
 */
const TFJS_PACES: Record<'cpu' | 'wasm', Pace> = {
  cpu: { mlpSamples: PACES.slow.mlpSamples, mlpEpochs: PACES.slow.mlpEpochs, cnnSamples: CNN.batch, cnnEpochs: 1, runs: 1 },
  wasm: { mlpSamples: PACES.fast.mlpSamples, mlpEpochs: PACES.fast.mlpEpochs, cnnSamples: CNN.batch, cnnEpochs: 1, runs: 1 },
};

function cnnModel(): tf.Sequential {
  const [first, second] = CNN.filters;
  const convolution = (filters: number, inputShape?: number[]): tf.layers.Layer =>
    tf.layers.conv2d({ ...(inputShape && { inputShape }), filters, kernelSize: CNN.kernelSize, padding: 'same', activation: 'relu' });
  return tf.sequential({
    layers: [
      convolution(first, [...CNN.inputShape]),
      tf.layers.maxPooling2d({ poolSize: CNN.poolSize }),
      convolution(second),
      tf.layers.maxPooling2d({ poolSize: CNN.poolSize }),
      tf.layers.flatten(),
      tf.layers.dense({ units: CNN.hidden, activation: 'relu' }),
      tf.layers.dense({ units: CNN.classes, activation: 'softmax' }),
    ],
  });
}

function mlpModel(): tf.Sequential {
  const [first, second] = MLP.hidden;
  return tf.sequential({
    layers: [
      tf.layers.dense({ inputShape: [MLP.inputs], units: first, activation: 'relu' }),
      tf.layers.dense({ units: second, activation: 'relu' }),
      tf.layers.dense({ units: MLP.classes, activation: 'softmax' }),
    ],
  });
}

async function useBackend(name: 'cpu' | 'wasm'): Promise<void> {
  if (name === 'wasm') {
    const wasmFile = createRequire(import.meta.url).resolve('@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm');
    setWasmPaths(`${dirname(wasmFile)}/`);
  }
  if (!(await tf.setBackend(name))) throw new Error(`tfjs could not initialize its ${name} backend`);
}

/** tfjs on its `cpu` or `wasm` backend. */
export async function tfjs(backend: 'cpu' | 'wasm'): Promise<Subject> {
  await useBackend(backend);
  return {
    pace: TFJS_PACES[backend],
    // In Node, tfjs-backend-wasm finds no cross-origin isolation and runs its single-threaded SIMD build.
    threads: backend === 'wasm' ? getThreadsCount() : 1,
    notes: {
      gemm: 'tf.matMul allocates its output (no in-place C)',
      mlp: 'model.fit, default Glorot init',
      planar: 'custom loop: one optimizer.minimize per step; sigmoid output and binary cross-entropy from tf.metrics',
      cnn: 'model.fit, default Glorot init',
    },

    gemm(n, a, b) {
      const ta = tf.tensor2d(a, [n, n]);
      const tb = tf.tensor2d(b, [n, n]);
      return Promise.resolve({
        run: () => {
          tf.matMul(ta, tb).dispose();
        },
        dispose: () => {
          tf.dispose([ta, tb]);
        },
      });
    },

    mlp(x, labels) {
      const model = mlpModel();
      model.compile({ optimizer: tf.train.sgd(MLP.learningRate), loss: 'categoricalCrossentropy' });
      const xs = tf.tensor2d(x, [labels.length, MLP.inputs]);
      const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), MLP.classes));
      return Promise.resolve({
        fit: async (epochs, onEpochEnd) => {
          await model.fit(xs, ys, {
            batchSize: MLP.batch,
            epochs,
            shuffle: true,
            callbacks: {
              onEpochEnd: (_, logs) => {
                onEpochEnd(logs?.loss ?? Number.NaN);
              },
            },
          });
        },
        dispose: () => {
          tf.dispose([xs, ys]);
          model.dispose();
        },
      });
    },

    planar(x, y) {
      // A custom loop, as a TensorFlow.js user writes one: 10,000 one-batch model.fit calls
      // would mostly time fit's per-call bookkeeping (about 2 ms each), not the training.
      const xs = tf.tensor2d(x, [x.length / 2, 2]);
      const ys = tf.tensor2d(y, [y.length, 1]);
      // ferronet's normal0.01: weights from N(0, 0.01^2), zero biases.
      const init = (): ReturnType<typeof tf.initializers.randomNormal> => tf.initializers.randomNormal({ mean: 0, stddev: 0.01 });
      let model: tf.Sequential | undefined;
      let first = Number.NaN;
      const loss = (network: tf.Sequential): tf.Scalar => tf.metrics.binaryCrossentropy(ys, network.apply(xs) as tf.Tensor).mean();
      const lossNow = (): number => {
        const network = model;
        return network === undefined ? Number.NaN : tf.tidy(() => loss(network).dataSync()[0] ?? Number.NaN);
      };
      const timed: TimedTraining = {
        setup: () => {
          model?.dispose();
          model = tf.sequential({
            layers: [
              tf.layers.dense({ inputShape: [2], units: PLANAR.hidden, activation: 'tanh', kernelInitializer: init() }),
              tf.layers.dense({ units: 1, activation: 'sigmoid', kernelInitializer: init() }),
            ],
          });
          first = lossNow();
        },
        run: () => {
          const network = model;
          if (network === undefined) return;
          const optimizer = tf.train.sgd(PLANAR.learningRate);
          // Without a variable list minimize updates every trainable variable: this network's,
          // the only one alive (setup disposed the previous network).
          for (let step = 0; step < PLANAR.steps; step++) optimizer.minimize(() => loss(network));
          optimizer.dispose();
        },
        losses: () => ({ first, last: lossNow() }),
        dispose: () => {
          tf.dispose([xs, ys]);
          model?.dispose();
        },
      };
      return Promise.resolve(timed);
    },

    cnn(x, labels) {
      const model = cnnModel();
      model.compile({ optimizer: tf.train.sgd(CNN.learningRate), loss: 'categoricalCrossentropy' });
      const xs = tf.tensor4d(x, [labels.length, ...CNN.inputShape]);
      const ys = tf.tidy(() => tf.oneHot(tf.tensor1d(labels, 'int32'), CNN.classes));
      return Promise.resolve({
        fit: async (epochs, onEpochEnd) => {
          await model.fit(xs, ys, {
            batchSize: CNN.batch,
            epochs,
            shuffle: true,
            callbacks: {
              onEpochEnd: (_, logs) => {
                onEpochEnd(logs?.loss ?? Number.NaN);
              },
            },
          });
        },
        dispose: () => {
          tf.dispose([xs, ys]);
          model.dispose();
        },
      });
    },

    inference(x, batch) {
      const model = mlpModel();
      const input = x.subarray(0, batch * MLP.inputs);
      return Promise.resolve({
        run: () => {
          const output = tf.tidy(() => model.predict(tf.tensor2d(input, [batch, MLP.inputs])) as tf.Tensor);
          const values = output.dataSync();
          output.dispose();
          return values;
        },
        dispose: () => {
          model.dispose();
        },
      });
    },
  };
}
