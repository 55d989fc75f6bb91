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
import { CNN, MLP, PLANAR, type Pace } from '../spec.js';
import type { Subject, Timed } from '../subject.js';

/**
 * model.fit spends milliseconds per epoch on bookkeeping, so 10,000 one-batch planar epochs take
 * tens of seconds: one timed run of those; otherwise the pace of the other plain-JS libraries.
 * The cpu backend's Conv2DBackpropFilter takes minutes per batch of 128 on the CNN's second
 * convolution: one batch per CNN epoch, one epoch timed.
 */
const TFJS_PACE: Pace = { mlpSamples: 1_280, mlpEpochs: 3, cnnSamples: CNN.batch, cnnEpochs: 1, runs: 1 };

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
    pace: TFJS_PACE,
    // In Node, tfjs-backend-wasm finds no cross-origin isolation and runs its single-threaded SIMD build.
    threads: backend === 'wasm' ? getThreadsCount() : 1,
    notes: {
      gemm: 'tf.matMul allocates its output (no in-place C)',
      mlp: 'model.fit, default Glorot init',
      planar: 'model.fit, default Glorot init',
      cnn: `model.fit, default Glorot init; ${TFJS_PACE.cnnSamples} samples per epoch, ${TFJS_PACE.cnnEpochs} timed`,
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
          await model.fit(xs, ys, { batchSize: MLP.batch, epochs, shuffle: true, callbacks: { onEpochEnd } });
        },
        dispose: () => {
          tf.dispose([xs, ys]);
          model.dispose();
        },
      });
    },

    planar(x, y) {
      const xs = tf.tensor2d(x, [x.length / 2, 2]);
      const ys = tf.tensor2d(y, [y.length, 1]);
      let model: tf.Sequential | undefined;
      const timed: Timed = {
        setup: () => {
          model?.dispose();
          model = tf.sequential({
            layers: [
              tf.layers.dense({ inputShape: [2], units: PLANAR.hidden, activation: 'tanh' }),
              tf.layers.dense({ units: 1, activation: 'sigmoid' }),
            ],
          });
          model.compile({ optimizer: tf.train.sgd(PLANAR.learningRate), loss: 'binaryCrossentropy' });
        },
        run: () => model?.fit(xs, ys, { batchSize: y.length, epochs: PLANAR.steps, shuffle: false }),
        async: true,
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
