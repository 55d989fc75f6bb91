/**
 * ferronet: neural-network training for TypeScript with Rust kernels.
 *
 * ```ts
 * import { Network, Trainer } from 'ferronet';
 * const net = await Network.create({ inputSize: 2, layers: [{ units: 4, activation: 'tanh' }, { units: 1, activation: 'sigmoid' }] });
 * const history = await new Trainer(net, { optimizer: { name: 'sgd', learningRate: 1.2 }, batchSize: 400, shuffle: false })
 *   .fit(x, y, { epochs: 10000 });
 * ```
 *
 * @packageDocumentation
 */

export { Network, type NetworkOptions, type LayerWeights, type EvaluationResult, type LoadOptions, type TrainingRecord } from './network.js';
export { ModelFileError, type JsonObject, type JsonValue } from './io/model-file.js';
export {
  Trainer,
  TrainingDivergedError,
  type TrainerOptions,
  type FitOptions,
  type FitProgress,
  type EpochLogs,
  type History,
  type LabeledData,
} from './trainer.js';
export { availableBackends, loadBackend, type BackendStatus } from './backends/index.js';
export type { Backend, BackendModel, BackendName, Evaluation, Kernels, KernelName, Tensor, TrainingData, TrainOutcome } from './backends/backend.js';
export { ACTIVATIONS, INITIALIZERS, type ActivationName, type InitializerName, type LayerConfig, type LayerShape } from './layers/index.js';
export { LOSSES, type LossName } from './losses/index.js';
export {
  OPTIMIZERS,
  type OptimizerName,
  type OptimizerConfig,
  type SgdConfig,
  type MomentumConfig,
  type AdamConfig,
  type OptimizerSettings,
} from './optimizers/index.js';
export { Random, type NumberArray } from './random.js';
export { planarDataset, type Dataset } from './datasets/planar.js';
