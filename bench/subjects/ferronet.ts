/** ferronet itself, on one backend: kernels through `loadBackend(name)`, training through Network and Trainer. */

// The Node entry point, as users import it (it also sets up the Node platform).
import { loadBackend, Network, Trainer, type BackendName } from '../../ts/index.js';
import { CNN, MLP, PACES, PLANAR } from '../spec.js';
import type { Subject, TimedTraining } from '../subject.js';

function mlpNetwork(backend: BackendName): Promise<Network> {
  return Network.create({
    inputSize: MLP.inputs,
    layers: [...MLP.hidden.map((units) => ({ units, activation: 'relu' as const })), { units: MLP.classes, activation: 'softmax' }],
    backend,
    seed: 1,
  });
}

function cnnNetwork(backend: BackendName): Promise<Network> {
  const [first, second] = CNN.filters;
  const convolution = (filters: number) => ({ type: 'conv2d', filters, kernelSize: CNN.kernelSize, padding: 'same', activation: 'relu' }) as const;
  const pooling = { type: 'maxPool2d', poolSize: CNN.poolSize } as const;
  return Network.create({
    inputShape: [...CNN.inputShape],
    layers: [
      convolution(first),
      pooling,
      convolution(second),
      pooling,
      { type: 'flatten' },
      { type: 'dense', units: CNN.hidden, activation: 'relu' },
      { type: 'dense', units: CNN.classes, activation: 'softmax' },
    ],
    backend,
    seed: 1,
  });
}

/** ferronet on `backend`; the ts backend gets a lighter pace, being the plain-loop baseline. */
export function ferronet(backend: BackendName): Subject {
  // The ts backend trains the MLP at about 2,000 samples/s (the full pace in about 40 s), the
  // CNN at about 40 (which would take 4 minutes): it gets the slow pace there.
  const pace = backend === 'ts' ? { ...PACES.fast, cnnSamples: PACES.slow.cnnSamples, cnnEpochs: PACES.slow.cnnEpochs, runs: PACES.slow.runs } : PACES.fast;
  return {
    pace,

    async gemm(n, a, b) {
      const kernels = await loadBackend(backend);
      const [ta, tb, tc] = [kernels.tensor(a), kernels.tensor(b), kernels.tensor(n * n)];
      return {
        run: () => {
          kernels.gemm(false, false, n, n, n, 1, ta, tb, 0, tc);
        },
        dispose: () => {
          for (const tensor of [ta, tb, tc]) tensor.dispose();
        },
      };
    },

    async mlp(x, labels) {
      const network = await mlpNetwork(backend);
      const trainer = new Trainer(network, {
        loss: 'categoricalCrossEntropy',
        optimizer: { name: 'sgd', learningRate: MLP.learningRate },
        batchSize: MLP.batch,
      });
      return {
        fit: async (epochs, onEpochEnd) => {
          await trainer.fit(x, labels, {
            epochs,
            onEpochEnd: (_, logs) => {
              onEpochEnd(logs.loss);
            },
          });
        },
        dispose: () => {
          network.dispose();
        },
      };
    },

    planar(x, y) {
      let network: Network | undefined;
      let trainer: Trainer | undefined;
      let first = Number.NaN;
      const loss = (): number => network?.evaluate(x, y, { loss: 'binaryCrossEntropy' }).loss ?? Number.NaN;
      const timed: TimedTraining = {
        setup: async () => {
          network?.dispose();
          network = await Network.create({
            inputSize: 2,
            layers: [
              { units: PLANAR.hidden, activation: 'tanh' },
              { units: 1, activation: 'sigmoid' },
            ],
            init: 'normal0.01',
            backend,
            seed: 2,
          });
          trainer = new Trainer(network, {
            loss: 'binaryCrossEntropy',
            optimizer: { name: 'sgd', learningRate: PLANAR.learningRate },
            batchSize: x.length / 2,
            shuffle: false,
          });
          first = loss();
        },
        // No onEpochEnd: the Trainer may then run many epochs per call into the backend.
        run: () => trainer?.fit(x, y, { epochs: PLANAR.steps }),
        async: true,
        losses: () => ({ first, last: loss() }),
        dispose: () => {
          network?.dispose();
        },
      };
      return Promise.resolve(timed);
    },

    async cnn(x, labels) {
      const network = await cnnNetwork(backend);
      const trainer = new Trainer(network, {
        loss: 'categoricalCrossEntropy',
        optimizer: { name: 'sgd', learningRate: CNN.learningRate },
        batchSize: CNN.batch,
      });
      return {
        fit: async (epochs, onEpochEnd) => {
          await trainer.fit(x, labels, {
            epochs,
            onEpochEnd: (_, logs) => {
              onEpochEnd(logs.loss);
            },
          });
        },
        dispose: () => {
          network.dispose();
        },
      };
    },

    async inference(x, batch) {
      const network = await mlpNetwork(backend);
      const input = x.subarray(0, batch * MLP.inputs);
      return {
        run: () => network.predict(input),
        dispose: () => {
          network.dispose();
        },
      };
    },
  };
}
