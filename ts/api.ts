/**
 * Everything ferronet's two entry points share: ts/index.ts (Node) and ts/browser.ts
 * (browsers and bundlers) each set their platform and re-export this.
 */

export { Network, type NetworkOptions, type LayerWeights, type LayerTrace, type EvaluationResult, type LoadOptions, type TrainingRecord } from './network.js';
export { ModelFileError, type JsonObject, type JsonValue } from './io/model-file.js';
export type { KerasLayerJson, TfjsArtifacts, TfjsModelJson, TfjsWeightSpec } from './interop/tfjs.js';
export {
  Trainer,
  TrainingDivergedError,
  type TrainerOptions,
  type FitOptions,
  type FitProgress,
  type EpochLogs,
  type History,
  type LabeledData,
  type EarlyStoppingOptions,
  type CheckpointLoadOptions,
  type ResumedTraining,
  type LayerGradients,
} from './trainer.js';
export {
  SCHEDULES,
  type ScheduleConfig,
  type ScheduleFunction,
  type ResolvedSchedule,
  type ResolvedPlateauSchedule,
  type StepSchedule,
  type ExponentialSchedule,
  type CosineSchedule,
  type PlateauSchedule,
} from './schedules/index.js';
export { availableBackends, loadBackend, setWasmSource, setWasmThreads, type BackendStatus, type WasmSource } from './backends/index.js';
export type { Backend, BackendModel, BackendName, BatchGradients, Evaluation, Kernels, KernelName, OptimizerState, Tensor, TrainingData, TrainingSettings, TrainOutcome } from './backends/backend.js';
export {
  ACTIVATIONS,
  INITIALIZERS,
  LAYER_TYPES,
  type ActivationConfig,
  type ActivationLayer,
  type ActivationName,
  type BatchNormConfig,
  type BatchNormLayer,
  type Conv2dConfig,
  type Conv2dLayer,
  type DenseConfig,
  type DenseLayer,
  type DropoutConfig,
  type DropoutLayer,
  type FlattenConfig,
  type FlattenLayer,
  type InitializerName,
  type LayerConfig,
  type LayerType,
  type Padding,
  type ParameterName,
  type Pool2dConfig,
  type Pool2dLayer,
  type ResolvedLayer,
} from './layers/index.js';
export { LOSSES, type LossName } from './losses/index.js';
export {
  OPTIMIZERS,
  type OptimizerName,
  type OptimizerConfig,
  type SgdConfig,
  type MomentumConfig,
  type AdamConfig,
  type AdamWConfig,
  type RmspropConfig,
  type OptimizerSettings,
} from './optimizers/index.js';
export { Random, type NumberArray } from './random.js';
export { planarDataset, type Dataset } from './datasets/planar.js';
