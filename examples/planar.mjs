// The first-run demo: ferronet trains the planar "flower" network (2-4-1, tanh/sigmoid) with
// full-batch gradient descent, as in the classic exercise, on the fastest backend here.
import { Network, Trainer, availableBackends, planarDataset } from 'ferronet';

const { x, y } = planarDataset();
const net = await Network.create({
  inputSize: 2,
  layers: [
    { units: 4, activation: 'tanh' },
    { units: 1, activation: 'sigmoid' },
  ],
  init: 'normal0.01',
  seed: 2,
});
const trainer = new Trainer(net, {
  loss: 'binaryCrossEntropy',
  optimizer: { name: 'sgd', learningRate: 1.2 },
  batchSize: 400,
  shuffle: false,
});

const started = performance.now();
const history = await trainer.fit(x, y, {
  epochs: 10000,
  onEpochEnd: (epoch, logs) => {
    if (epoch % 1000 === 0) console.log(`step ${String(epoch).padStart(5)}  cost ${logs.loss.toFixed(6)}`);
  },
});
const ms = performance.now() - started;
const { accuracy } = net.evaluate(x, y);
console.log(`\n${net}: ${history.epochs} steps in ${ms.toFixed(0)} ms, training accuracy ${(100 * accuracy).toFixed(2)}%`);
for (const status of await availableBackends()) {
  console.log(`  backend ${status.name.padEnd(6)} ${status.available ? 'available' : `unavailable: ${status.reason}`}`);
}
net.dispose();
