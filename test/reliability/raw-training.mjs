// One fixed training run on a raw binding Model (native or wasm), shared by the main thread
// and the worker threads of the concurrency test so both sides do exactly the same work.

/**
 * @param {new (inputShape: Uint32Array) => any} Model the binding's Model class
 * @param {{ x: Float32Array, y: Float32Array, samples: number, initial: Float32Array[], seedOffset: number }} job
 * @returns {Float32Array[]} the parameters after training
 */
export function trainWithRawModel(Model, { x, y, samples, initial, seedOffset }) {
  const model = new Model(Uint32Array.of(2));
  model.addLayer(JSON.stringify({ type: 'dense', units: 16, activation: 'tanh', alpha: 0, useBias: true }));
  model.addLayer(JSON.stringify({ type: 'dense', units: 1, activation: 'sigmoid', alpha: 0, useBias: true }));
  initial.forEach((values, i) => model.setParameter(i, values));
  const optimizer = { name: 'adam', learningRate: 0.01, beta1: 0.9, beta2: 0.999, epsilon: 1e-7 };
  model.configureTraining(JSON.stringify({ loss: 'binaryCrossEntropy', optimizer, weightDecay: 0, clipNorm: null }));
  // A different, deterministic visiting order per job.
  const order = Uint32Array.from({ length: samples }, (_, i) => (i * 7 + seedOffset) % samples);
  const ends = Uint32Array.from({ length: samples / 25 }, (_, b) => (b + 1) * 25);
  const [losses, correct] = [new Float64Array(ends.length), new Uint32Array(ends.length)];
  for (let epoch = 0; epoch < 20; epoch++) model.trainBatches(x, y, samples, order, ends, losses, correct);
  const parameters = initial.map((_, i) => model.parameter(i));
  model.dispose();
  return parameters;
}
