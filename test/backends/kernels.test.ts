/**
 * Every kernel of the native and wasm backends against the pure-TypeScript reference, on
 * random data of awkward shapes.
 */

import { describe, expect, it } from 'vitest';
import type { Backend, KernelName } from '../../ts/backends/index.js';
import { Random } from '../../ts/random.js';
import { backend, expectClose, largestMagnitude, singleThreadedWasm, uniformArray } from '../helpers.js';

type Arg = number | boolean | Float32Array;

interface Case {
  kernel: KernelName;
  label: string;
  args: Arg[];
}

interface Outcome {
  result: unknown;
  /** The contents of every tensor argument after the call, in argument order. */
  tensors: Float32Array[];
}

function run(b: Backend, { kernel, args }: Case): Outcome {
  const tensors = args.map((arg) => (arg instanceof Float32Array ? b.tensor(arg.slice()) : arg));
  const call = (b[kernel] as (...a: unknown[]) => unknown).bind(b);
  const result = call(...tensors);
  const outputs = tensors.flatMap((t) => (typeof t === 'object' ? [t.data.slice()] : []));
  tensors.forEach((t) => {
    if (typeof t === 'object') t.dispose();
  });
  return { result, tensors: outputs };
}

const reference = await backend('ts');
const random = new Random(1234);
const uniform = (length: number, low = -1, high = 1): Float32Array => uniformArray(random, length, low, high);
const cases: Case[] = [];

const sizes = [1, 3, 7, 16, 33, 129];
for (const [m, n, k] of [
  ...sizes.map((s) => [s, s, s]),
  [1, 129, 7],
  [129, 1, 33],
  [7, 16, 1024],
  [64, 33, 784],
  [128, 10, 256],
]) {
  for (const transA of [false, true]) {
    for (const transB of [false, true]) {
      const [mm, nn, kk] = [m as number, n as number, k as number];
      cases.push({
        kernel: 'gemm',
        label: `m=${mm} n=${nn} k=${kk} transA=${transA} transB=${transB}`,
        args: [transA, transB, mm, nn, kk, 0.75, uniform(mm * kk), uniform(kk * nn), -0.5, uniform(mm * nn)],
      });
    }
  }
}

for (const [rows, cols] of [
  [1, 1],
  [3, 7],
  [33, 16],
  [129, 10],
]) {
  const [r, c] = [rows as number, cols as number];
  const shape = `${r}x${c}`;
  cases.push({ kernel: 'biasAdd', label: shape, args: [r, c, uniform(c), uniform(r * c)] });
  cases.push({ kernel: 'columnSums', label: shape, args: [r, c, uniform(r * c), uniform(c)] });
  cases.push({ kernel: 'softmaxForward', label: shape, args: [r, c, uniform(r * c, -20, 20), uniform(r * c)] });
  const probabilities = run(reference, { kernel: 'softmaxForward', label: '', args: [r, c, uniform(r * c, -3, 3), uniform(r * c)] })
    .tensors[1] as Float32Array;
  cases.push({ kernel: 'softmaxBackward', label: shape, args: [r, c, probabilities, uniform(r * c), uniform(r * c)] });
  const oneHot = new Float32Array(r * c);
  for (let row = 0; row < r; row++) oneHot[row * c + random.below(c)] = 1;
  cases.push({ kernel: 'softmaxCrossEntropy', label: shape, args: [r, c, probabilities, oneHot, uniform(r * c)] });
}

for (const length of [1, 7, 33, 1000]) {
  const label = `length ${length}`;
  for (const name of ['linear', 'relu', 'tanh', 'sigmoid'] as const) {
    cases.push({ kernel: `${name}Forward`, label, args: [uniform(length, -8, 8), uniform(length)] });
    const y = uniform(length, name === 'sigmoid' ? 0 : -1, 1);
    cases.push({ kernel: `${name}Backward`, label, args: [y, uniform(length), uniform(length)] });
  }
  cases.push({ kernel: 'leakyReluForward', label, args: [0.01, uniform(length, -8, 8), uniform(length)] });
  cases.push({ kernel: 'leakyReluBackward', label, args: [0.2, uniform(length), uniform(length), uniform(length)] });
  cases.push({ kernel: 'meanSquaredError', label, args: [uniform(length), uniform(length), uniform(length)] });
  const labels = Float32Array.from({ length }, () => random.below(2));
  cases.push({ kernel: 'binaryCrossEntropy', label, args: [uniform(length, 0, 1), labels, uniform(length)] });
  cases.push({ kernel: 'sgdUpdate', label, args: [0.1, uniform(length), uniform(length)] });
  cases.push({ kernel: 'momentumUpdate', label, args: [0.05, 0.9, uniform(length), uniform(length), uniform(length)] });
  cases.push({ kernel: 'rmspropUpdate', label, args: [1e-3, 0.9, 1e-7, uniform(length), uniform(length), uniform(length, 0, 0.01)] });
  for (const step of [1, 2, 100]) {
    cases.push({
      kernel: 'adamUpdate',
      label: `${label} step ${step}`,
      args: [1e-3, 0.9, 0.999, 1e-8, step, uniform(length), uniform(length), uniform(length, -0.1, 0.1), uniform(length, 0, 0.01)],
    });
  }
}

it('covers every kernel', () => {
  const covered = new Set(cases.map((c) => c.kernel));
  // Not kernels: the name, instruction set and threads, the tensor and model factories, and the safetensors reader (test/interop/safetensors.test.ts).
  const all = Object.keys(reference).filter((key) => !['name', 'instructionSet', 'threads', 'threadsReason', 'tensor', 'createModel', 'safetensorsIndex'].includes(key));
  expect([...covered].sort()).toEqual(all.sort());
});

/**
 * Kernels whose outputs are differences of f32 operands (an update subtracted from a
 * parameter, `dy - dot`): where the two nearly cancel, f32 rounding of the operands dominates
 * the result, so these are compared at 1e-5 of the output's scale rather than elementwise.
 */
const DIFFERENCES = new Set<KernelName>(['softmaxBackward', 'sgdUpdate', 'momentumUpdate', 'rmspropUpdate', 'adamUpdate']);

// Node's 'wasm' is the threaded module; pages without cross-origin isolation get the single-threaded one.
const COMPILED = { native: () => backend('native'), wasm: () => backend('wasm'), 'single-threaded wasm': singleThreadedWasm };

describe.each(Object.keys(COMPILED) as (keyof typeof COMPILED)[])('%s backend', (name) => {
  it.each(cases.map((c) => [`${c.kernel} ${c.label}`, c] as const))('%s matches ts', async (_, testCase) => {
    const expected = run(reference, testCase);
    const got = run(await COMPILED[name](), testCase);
    if (typeof expected.result === 'number') {
      expect(got.result).toBeTypeOf('number');
      expectClose([got.result as number], [expected.result], 1e-5);
    } else {
      expect(got.result).toBeUndefined();
    }
    got.tensors.forEach((tensor, i) => {
      const want = expected.tensors[i] as Float32Array;
      if (testCase.kernel === 'gemm') {
        // GEMM sums k products: compare to 1e-4 of the largest element, as BLAS tests do.
        expectClose(tensor, want, 1e-4, largestMagnitude(want));
      } else if (DIFFERENCES.has(testCase.kernel)) {
        expectClose(tensor, want, 1e-5, largestMagnitude(want));
      } else {
        expectClose(tensor, want, 1e-5);
      }
    });
  });
});
