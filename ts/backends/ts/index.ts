/** The pure-TypeScript backend: plain loops, the reference every other backend is tested against. */

import type { Backend, Kernels } from '../backend.js';
import { bindKernels } from '../bind.js';
import { HostTensor, isHostTensor } from '../host-tensor.js';
import { kernelChecks } from '../kernel-checks.js';
import * as activations from './activations.js';
import * as bias from './bias.js';
import { gemm } from './gemm.js';
import * as losses from './losses.js';
import { TsModel } from './model.js';
import * as optimizers from './optimizers.js';

/** The plain-loop kernels over `Float32Array`s, unchecked. */
export const tsKernels: Kernels<Float32Array> = {
  gemm,
  ...bias,
  ...activations,
  meanSquaredError: losses.meanSquaredError,
  binaryCrossEntropy: losses.binaryCrossEntropy,
  softmaxCrossEntropy: losses.softmaxCrossEntropy,
  ...optimizers,
};

export function createTsBackend(): Backend {
  return {
    name: 'ts',
    instructionSet: 'javascript',
    threads: 1,
    threadsReason: 'the ts backend is plain loops on the calling thread',
    tensor: (source) => HostTensor.from(source),
    ...bindKernels(tsKernels, kernelChecks(isHostTensor), isHostTensor, (tensor) => tensor.data),
    createModel: (inputShape, layers) => new TsModel(inputShape, layers),
    safetensorsIndex: null,
  };
}
