/**
 * Turns a binding's raw kernels (over its own buffer type) into a backend's public kernels
 * over {@link Tensor}s: every call is checked once, then the tensors are unwrapped and the raw
 * kernel runs. The list of kernels comes from the checks table, which the type system keeps
 * complete, and assigning a generated binding to `Kernels<B>` makes tsc compare its
 * signatures with ours.
 */

import type { Kernels, Tensor } from './backend.js';
import type { KernelChecks } from './kernel-checks.js';

type AnyFunction = (...args: unknown[]) => unknown;

export function bindKernels<B, T extends Tensor>(
  raw: Kernels<B>,
  checks: KernelChecks,
  isOwnTensor: (value: unknown) => value is T,
  unwrap: (tensor: T) => B,
): Kernels<Tensor> {
  const bound: Record<string, AnyFunction> = {};
  for (const name of Object.keys(checks) as (keyof KernelChecks)[]) {
    const check = checks[name] as AnyFunction;
    const kernel = (raw[name] as AnyFunction).bind(raw);
    // The rest array is the call's own: unwrapping in place allocates nothing more.
    bound[name] = (...args) => {
      check(...args);
      for (let i = 0; i < args.length; i++) {
        const arg = args[i];
        if (isOwnTensor(arg)) args[i] = unwrap(arg);
      }
      return kernel(...args);
    };
  }
  return bound as unknown as Kernels<Tensor>;
}
