/**
 * The small convolutional network the browser test trains in the page and in a Web Worker
 * (through the page's test hook), and in Node on the ts backend to compare with: 8x8 grey
 * images of one short bar (3 pixels), horizontal (class 0) or vertical (class 1), anywhere,
 * with noise. Telling them apart wherever they are is what convolution and pooling are for:
 * trained the same way (native, network seeds 1 to 5), this CNN reaches 0.965 to 0.988 on the
 * held-out images, a dense network with 16 hidden relu units 0.77 to 0.84, and a linear one
 * about 0.57; chance is 0.5.
 */

import type * as Ferronet from 'ferronet';

/** What the run needs from ferronet: the browser build in the page, the Node build in the test. */
export type CnnApi = Pick<typeof Ferronet, 'Network' | 'Trainer' | 'Random'>;

/** The network: conv2d 4 3x3 same relu, 2x2 max pooling, flatten, dense 2 softmax. */
export const CNN_NETWORK: Ferronet.NetworkOptions = {
  inputShape: [8, 8, 1],
  layers: [
    { type: 'conv2d', filters: 4, kernelSize: 3, padding: 'same', activation: 'relu' },
    { type: 'maxPool2d', poolSize: 2 },
    { type: 'flatten' },
    { units: 2, activation: 'softmax' },
  ],
  seed: 5,
};

/** How it trains: Adam 0.01 on shuffled batches of 32, categorical cross-entropy on class indices. */
export const CNN_TRAINER: Ferronet.TrainerOptions = { optimizer: { name: 'adam', learningRate: 0.01 }, batchSize: 32 };

/** Passes over the 256 training images: 160 Adam steps. */
export const CNN_EPOCHS = 20;

const SIDE = 8;
const BAR = 3;
const TRAIN_SAMPLES = 256;
const TEST_SAMPLES = 256;

/** Images of bars, `x` as `[samples][8][8][1]` and `y` the class indices. */
export interface Bars {
  x: Float32Array;
  y: Uint8Array;
}

/** `samples` images from `seed`: a bar of 1s on 0s, each pixel moved by uniform noise in [-0.25, 0.25). */
export function barImages(ferronet: CnnApi, samples: number, seed: number): Bars {
  const random = new ferronet.Random(seed);
  const x = new Float32Array(samples * SIDE * SIDE);
  const y = new Uint8Array(samples);
  for (let i = 0; i < samples; i++) {
    const vertical = random.below(2);
    const start = random.below(SIDE - BAR + 1); // along the bar
    const line = random.below(SIDE); // its row (horizontal) or column (vertical)
    y[i] = vertical;
    for (let row = 0; row < SIDE; row++) {
      for (let column = 0; column < SIDE; column++) {
        const [along, across] = vertical === 1 ? [row, column] : [column, row];
        const onBar = across === line && along >= start && along < start + BAR;
        x[(i * SIDE + row) * SIDE + column] = (onBar ? 1 : 0) + 0.5 * (random.uniform() - 0.5);
      }
    }
  }
  return { x, y };
}

/** The training images (seed 1) and the held-out images the accuracy is measured on (seed 2). */
export function cnnData(ferronet: CnnApi): { train: Bars; test: Bars } {
  return { train: barImages(ferronet, TRAIN_SAMPLES, 1), test: barImages(ferronet, TEST_SAMPLES, 2) };
}

/** What a CNN run gives back, wherever it trained. */
export interface CnnOutcome {
  /** The backend that trained it. */
  backend: Ferronet.BackendName;
  /** The training loss of each epoch. */
  loss: number[];
  /** Accuracy of the trained network on the held-out images. */
  accuracy: number;
  /** Each parameter buffer of the trained network, layer by layer, as plain numbers. */
  weights: number[][];
}

function outcome(backend: Ferronet.BackendName, history: Ferronet.History, net: Ferronet.Network, test: Bars): CnnOutcome {
  return {
    backend,
    loss: history.loss,
    accuracy: net.evaluate(test.x, test.y).accuracy,
    weights: net.getWeights().flatMap((layer) => Object.values(layer).map((values) => Array.from(values))),
  };
}

/** Trains the CNN here on `backend` (`'auto'`: the entry point's first choice). */
export async function trainCnn(ferronet: CnnApi, backend: Ferronet.BackendName | 'auto'): Promise<CnnOutcome> {
  const { train, test } = cnnData(ferronet);
  const net = await ferronet.Network.create({ ...CNN_NETWORK, backend });
  try {
    const history = await new ferronet.Trainer(net, CNN_TRAINER).fit(train.x, train.y, { epochs: CNN_EPOCHS });
    return outcome(net.backend, history, net, test);
  } finally {
    net.dispose();
  }
}

/**
 * Trains the CNN in `worker` (one that called `serveTrainingWorker`) through
 * `trainInWorker`, then measures the weights it sent back on a network of the page's own.
 */
export async function trainCnnInWorker(ferronet: CnnApi & Pick<typeof Ferronet, 'trainInWorker'>, worker: Worker): Promise<CnnOutcome> {
  const { train, test } = cnnData(ferronet);
  const training = ferronet.trainInWorker(worker, { network: CNN_NETWORK, trainer: CNN_TRAINER, x: train.x, y: train.y, epochs: CNN_EPOCHS });
  const { backend, history, weights } = await training.result;
  const net = await ferronet.Network.create(CNN_NETWORK);
  try {
    net.setWeights(weights);
    return outcome(backend, history, net, test);
  } finally {
    net.dispose();
  }
}
