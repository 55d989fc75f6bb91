/**
 * The native backend: ferronet's Rust kernels as a Node addon built by napi-rs. Float32Arrays
 * are read and written in place, so a tensor is an ordinary `Float32Array`, possibly the
 * caller's own.
 */

import type { Backend, Kernels } from '../backend.js';
import { bindKernels } from '../bind.js';
import { HostTensor, isHostTensor } from '../host-tensor.js';
import { kernelChecks } from '../kernel-checks.js';
import { NativeModel } from './model.js';

/** Loads the addon (`generated/` is written by `npm run build:native`); rejects with the loader's reasons. */
export async function loadNativeBackend(): Promise<Backend> {
  const binding = await import('./generated/index.js');
  // Assigning the generated binding to our interface makes tsc check its signatures.
  const raw: Kernels<Float32Array> = binding;
  return {
    name: 'native',
    tensor: (source) => HostTensor.from(source),
    ...bindKernels(raw, kernelChecks(isHostTensor), isHostTensor, (tensor) => tensor.data),
    createModel: (inputShape, layers) => new NativeModel(binding.Model, inputShape, layers),
    safetensorsIndex: (file) => binding.safetensorsIndex(file),
  };
}
