/**
 * Property tests: random shapes and values thrown at the kernels, below and above the checks.
 * Below (the raw native and wasm bindings) a call may succeed or throw an Error, but must never
 * crash the process or poison the module; above (the validated backends) every rejection must
 * be a TypeError or RangeError.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, type Backend, type KernelName } from '../../ts/backends/backend.js';
import * as nativeBinding from '../../ts/backends/native/generated/index.js';
import * as wasmBinding from '../../ts/backends/wasm/generated/ferronet_wasm.js';
import { tsKernels } from '../../ts/backends/ts/index.js';
import { loadBackend } from '../../ts/index.js';

const KERNELS = Object.keys(tsKernels) as KernelName[];
const RUNS = 300;

/** Numbers a shape or scalar argument might be given: edge values, negatives, non-integers. */
const numberArgument = fc.oneof(
  fc.integer({ min: 0, max: 40 }),
  fc.constantFrom(-1, 0.5, NaN, Infinity, -Infinity, 2 ** 31, 2 ** 32 - 1, 2 ** 32, 2 ** 53),
  fc.double(),
);
const floats = fc.float32Array({ maxLength: 64 });
/** Anything at all in an argument slot, for the raw bindings. */
const wildArgument = fc.oneof(numberArgument, fc.boolean(), floats, fc.constantFrom(undefined, null, 'x', {}, [1, 2]), fc.float64Array({ maxLength: 8 }));

/** Input shapes of any rank and size, zeros and huge extents included. */
const inputShapeArgument = fc
  .array(fc.oneof(fc.integer({ min: 0, max: 12 }), fc.constantFrom(2 ** 20, 2 ** 32 - 1)), { maxLength: 4 })
  .map((extents) => Uint32Array.from(extents));
const extent = fc.oneof(fc.integer({ min: -1, max: 6 }), fc.constantFrom(2 ** 31, 2 ** 53, 0.5));
const pair = fc.tuple(extent, extent);
const paddingArgument = fc.constantFrom('same', 'valid', 'full');
const activationArgument = fc.constantFrom('relu', 'softmax', 'leakyRelu', 'nope');
/** Layer JSON as the bindings receive it: every kind with wild fields, plus strings that are not layers at all. */
const layerArgument = fc.oneof(
  fc
    .oneof(
      fc.record({ type: fc.constant('dense'), units: extent, activation: activationArgument, alpha: fc.double(), useBias: fc.boolean() }),
      fc.record({ type: fc.constant('conv2d'), filters: extent, kernelSize: pair, strides: pair, padding: paddingArgument, activation: activationArgument, alpha: fc.double(), useBias: fc.boolean() }),
      fc.record({ type: fc.constantFrom('maxPool2d', 'avgPool2d'), poolSize: pair, strides: pair, padding: paddingArgument }),
      fc.record({ type: fc.constant('batchNorm'), momentum: fc.double(), epsilon: fc.double() }),
      fc.record({ type: fc.constant('dropout'), rate: fc.double() }),
      fc.record({ type: fc.constantFrom('flatten', 'sparse') }),
      fc.record({ type: fc.constant('activation'), activation: activationArgument, alpha: fc.double() }),
    )
    .map((config) => JSON.stringify(config)),
  fc.string(),
);

function outcomeOf(call: () => unknown): unknown {
  try {
    call();
    return 'returned';
  } catch (error) {
    return error;
  }
}

describe('raw native binding', () => {
  it('returns or throws an Error for any arguments', () => {
    fc.assert(
      fc.property(fc.constantFrom(...KERNELS), fc.array(wildArgument, { maxLength: 11 }), (name, args) => {
        const kernel = nativeBinding[name] as (...a: unknown[]) => unknown;
        const outcome = outcomeOf(() => kernel(...args));
        expect(outcome === 'returned' || outcome instanceof Error).toBe(true);
      }),
      { numRuns: RUNS * 4 },
    );
  });

  it('builds models from any shapes and layer configurations without crashing', () => {
    fc.assert(
      fc.property(inputShapeArgument, fc.array(layerArgument, { maxLength: 4 }), (inputShape, layers) => {
        const outcome = outcomeOf(() => {
          const model = new nativeBinding.Model(inputShape);
          try {
            for (const layer of layers) model.addLayer(layer);
          } finally {
            model.dispose();
          }
        });
        expect(outcome === 'returned' || outcome instanceof Error).toBe(true);
      }),
      { numRuns: RUNS },
    );
  });
});

describe('raw wasm binding', () => {
  it('returns or throws an Error for any arguments, and keeps working', async () => {
    await loadBackend('wasm');
    const tensorArgument = fc.integer({ min: 0, max: 64 }).map((length) => new wasmBinding.Tensor(length));
    const argument = fc.oneof(numberArgument, fc.boolean(), tensorArgument, fc.constantFrom(undefined, null, 'x'));
    fc.assert(
      fc.property(fc.constantFrom(...KERNELS), fc.array(argument, { maxLength: 11 }), (name, args) => {
        const kernel = wasmBinding[name] as (...a: unknown[]) => unknown;
        const outcome = outcomeOf(() => kernel(...args));
        expect(outcome === 'returned' || outcome instanceof Error).toBe(true);
        for (const arg of args) if (arg instanceof wasmBinding.Tensor) arg.free();
      }),
      { numRuns: RUNS * 4 },
    );
    // The module still computes after all that.
    const [a, b] = [new wasmBinding.Tensor(1), new wasmBinding.Tensor(1)];
    expect(() => {
      wasmBinding.reluForward(a, b);
    }).not.toThrow();
  });

  it('builds models from any shapes and layer configurations without crashing, and keeps working', async () => {
    await loadBackend('wasm');
    fc.assert(
      fc.property(inputShapeArgument, fc.array(layerArgument, { maxLength: 4 }), (inputShape, layers) => {
        const outcome = outcomeOf(() => {
          const model = new wasmBinding.Model(inputShape);
          try {
            for (const layer of layers) model.addLayer(layer);
          } finally {
            model.free();
          }
        });
        expect(outcome === 'returned' || outcome instanceof Error).toBe(true);
      }),
      { numRuns: RUNS },
    );
    const model = new wasmBinding.Model(Uint32Array.of(2));
    model.addLayer(JSON.stringify({ type: 'dense', units: 1, activation: 'linear', alpha: 0, useBias: true }));
    expect(model.parameter(0)).toHaveLength(2);
    model.free();
  });

  it('refuses an allocation it cannot make with a RangeError', async () => {
    await loadBackend('wasm');
    expect(() => new wasmBinding.Tensor(2 ** 31)).toThrow(RangeError);
  });
});

describe.each(BACKEND_NAMES)('validated %s backend', (name) => {
  it('rejects bad calls only with TypeError or RangeError', async () => {
    const backend: Backend = await loadBackend(name);
    const argument = fc.oneof(
      numberArgument,
      fc.boolean(),
      fc.integer({ min: 0, max: 48 }).map((length) => backend.tensor(length)),
      floats,
      fc.constantFrom(undefined, null),
    );
    fc.assert(
      fc.property(fc.constantFrom(...KERNELS), fc.array(argument, { minLength: 2, maxLength: 10 }), (kernel, args) => {
        const call = (backend[kernel] as (...a: unknown[]) => unknown).bind(backend);
        const outcome = outcomeOf(() => call(...args));
        expect(outcome === 'returned' || outcome instanceof TypeError || outcome instanceof RangeError, String(outcome)).toBe(true);
      }),
      { numRuns: RUNS * 2 },
    );
  });
});
