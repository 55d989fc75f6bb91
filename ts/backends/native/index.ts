/**
 * The native backend: ferronet's Rust kernels as a Node addon built by napi-rs. Float32Arrays
 * are read and written in place, so a tensor is an ordinary `Float32Array`, possibly the
 * caller's own.
 *
 * The package ships one binary per platform beside napi-rs's generated loader
 * (`generated/ferronet.linux-x64-gnu.node`, `generated/ferronet.linux-arm64-gnu.node`, ...),
 * and that loader picks the one for this machine when it is imported.
 */

import { readdir } from 'node:fs/promises';
import type { Backend, Kernels } from '../backend.js';
import { bindKernels } from '../bind.js';
import { HostTensor, isHostTensor } from '../host-tensor.js';
import { kernelChecks } from '../kernel-checks.js';
import { NativeModel } from './model.js';

const GENERATED = new URL('./generated/', import.meta.url);

/** Loads the addon (`generated/` is written by `scripts/build.sh native`); rejects saying why it cannot here. */
export async function loadNativeBackend(): Promise<Backend> {
  const binding = await import('./generated/index.js').catch(async (error: unknown) => {
    throw new Error(await whyNotLoaded(error), { cause: error });
  });
  // Assigning the generated binding to our interface makes tsc check its signatures.
  const raw: Kernels<Float32Array> = binding;
  return {
    name: 'native',
    instructionSet: binding.instructionSet(),
    threads: binding.threads(),
    tensor: (source) => HostTensor.from(source),
    ...bindKernels(raw, kernelChecks(isHostTensor), isHostTensor, (tensor) => tensor.data),
    createModel: (inputShape, layers) => new NativeModel(binding.Model, inputShape, layers),
    safetensorsIndex: (file) => binding.safetensorsIndex(file),
  };
}

/**
 * The loader's own message blames an npm bug with optional dependencies, which misleads here:
 * say which platform this is and what the loader tried, or why the binary it found failed.
 */
async function whyNotLoaded(error: unknown): Promise<string> {
  const files = await readdir(GENERATED).catch(() => null);
  if (files === null) return 'the native addon was not built (no generated/ folder beside the native backend): run scripts/build.sh native';
  const shipped = files.flatMap((file) => /^ferronet\.(.+)\.node$/.exec(file)?.[1] ?? []);
  const failures = loaderFailures(error);
  const missing = failures.map((message) => /^Cannot find module '([^']+)'/.exec(message)?.[1]);
  const platform = `${process.platform}-${process.arch}`;
  if (missing.length > 0 && missing.every((name) => name !== undefined)) {
    return (
      `no native binary for ${platform} in this installation (napi-rs's loader looked for ${missing.join(', ')}; ` +
      `this package has binaries for: ${shipped.length > 0 ? shipped.join(', ') : 'none'})`
    );
  }
  return `the native addon for ${platform} did not load: ${failures.join('; ')}`;
}

/**
 * The first line of each failure napi-rs's loader met, in the order it met them: it nests one
 * error per file or package it tried as the `cause` chain of its summary.
 */
function loaderFailures(error: unknown): string[] {
  const failures: string[] = [];
  for (let current: unknown = error; current instanceof Error; current = current.cause) {
    if (current === error && current.cause instanceof Error) continue;
    failures.unshift(current.message.split('\n', 1)[0] ?? '');
  }
  return failures;
}
