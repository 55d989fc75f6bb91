/**
 * Property tests: random shapes and values thrown at the kernels, below and above the checks.
 * Below (the raw native and wasm bindings) a call may succeed or throw an Error, but must never
 * crash the process or poison the module; above (the validated backends) every rejection must
 * be a TypeError or RangeError.
 *
 * Wild argument lists rarely get past the type checks, so each kernel also gets arguments made
 * for its signature: valid types and extents, every tensor of the right length or off by a
 * little. Those must run when every length is right and, when one is not, be refused naming
 * the first wrong tensor, its expected length and its rule, above and below the checks alike.
 * Every property runs from a fixed seed, so a failure reproduces.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES, type Backend, type KernelName } from '../../ts/backends/backend.js';
import * as nativeBinding from '../../ts/backends/native/generated/index.js';
// Node's wasm backend is the threaded module, which loadBackend('wasm') instantiates.
import * as wasmBinding from '../../ts/backends/wasm/generated/ferronet_wasm_threads.js';
import { tsKernels } from '../../ts/backends/ts/index.js';
import { loadBackend } from '../../ts/index.js';

const KERNELS = Object.keys(tsKernels) as KernelName[];
const RUNS = 300;
const SEED = 20_150;

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
      { numRuns: RUNS * 4, seed: SEED },
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
      { numRuns: RUNS, seed: SEED },
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
      { numRuns: RUNS * 4, seed: SEED },
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
      { numRuns: RUNS, seed: SEED },
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
      { numRuns: RUNS * 2, seed: SEED },
    );
  });
});

/** The extents a kernel call is made of; each tensor's length follows from them. */
interface Extents {
  m: number;
  n: number;
  k: number;
  rows: number;
  cols: number;
  /** The length of an elementwise kernel's first tensor, which the others must match. */
  length: number;
}

/** One argument slot of a kernel, as its signature in ts/backends/backend.ts has it. */
type Slot =
  | { kind: 'flag' }
  | { kind: 'extent'; extent: keyof Extents }
  | { kind: 'scalar' }
  | { kind: 'rate' }
  | { kind: 'step' }
  | { kind: 'tensor'; name: string; length: (e: Extents, lengths: Record<string, number>) => number; rule: string | null };

const flag: Slot = { kind: 'flag' };
const scalar: Slot = { kind: 'scalar' };
const rate: Slot = { kind: 'rate' };
const sized = (name: keyof Extents): Slot => ({ kind: 'extent', extent: name });
/**
 * A tensor whose length the kernel checks against `rule` (from the extents, or the actual
 * lengths of the tensors before it); `rule` null for the one the others are measured against.
 */
const tensor = (name: string, length: (e: Extents, lengths: Record<string, number>) => number, rule: string | null): Slot => ({ kind: 'tensor', name, length, rule });
const same = (name: string, of: string): Slot => tensor(name, (_, lengths) => lengths[of] as number, `length of ${of}`);
const first = (name: string): Slot => tensor(name, (e) => e.length, null);

const elementwiseForward = [first('x'), same('y', 'x')];
const elementwiseBackward = [first('y'), same('dy', 'y'), same('dx', 'y')];
const rowsByCols = (name: string): Slot => tensor(name, (e) => e.rows * e.cols, 'rows*cols');

const SIGNATURES: Record<KernelName, Slot[]> = {
  gemm: [flag, flag, sized('m'), sized('n'), sized('k'), scalar, tensor('a', (e) => e.m * e.k, 'm*k'), tensor('b', (e) => e.k * e.n, 'k*n'), scalar, tensor('c', (e) => e.m * e.n, 'm*n')],
  biasAdd: [sized('rows'), sized('cols'), tensor('bias', (e) => e.cols, 'cols'), rowsByCols('x')],
  columnSums: [sized('rows'), sized('cols'), rowsByCols('x'), tensor('sums', (e) => e.cols, 'cols')],
  linearForward: elementwiseForward,
  linearBackward: elementwiseBackward,
  reluForward: elementwiseForward,
  reluBackward: elementwiseBackward,
  leakyReluForward: [scalar, ...elementwiseForward],
  leakyReluBackward: [scalar, ...elementwiseBackward],
  tanhForward: elementwiseForward,
  tanhBackward: elementwiseBackward,
  sigmoidForward: elementwiseForward,
  sigmoidBackward: elementwiseBackward,
  softmaxForward: [sized('rows'), sized('cols'), rowsByCols('x'), rowsByCols('y')],
  softmaxBackward: [sized('rows'), sized('cols'), rowsByCols('y'), rowsByCols('dy'), rowsByCols('dx')],
  meanSquaredError: [first('predictions'), same('targets', 'predictions'), same('gradient', 'predictions')],
  binaryCrossEntropy: [first('predictions'), same('targets', 'predictions'), same('gradient', 'predictions')],
  softmaxCrossEntropy: [sized('rows'), sized('cols'), rowsByCols('predictions'), same('targets', 'predictions'), same('gradient', 'predictions')],
  sgdUpdate: [rate, first('params'), same('gradients', 'params')],
  momentumUpdate: [rate, scalar, first('params'), same('gradients', 'params'), same('velocity', 'params')],
  rmspropUpdate: [rate, scalar, scalar, first('params'), same('gradients', 'params'), same('v', 'params')],
  adamUpdate: [rate, scalar, scalar, scalar, { kind: 'step' }, first('params'), same('gradients', 'params'), same('m', 'params'), same('v', 'params')],
};

/** A kernel's arguments with tensors given as lengths, and the first tensor whose length is wrong. */
interface KernelCall {
  kernel: KernelName;
  /** Each slot's value; a tensor's is its length. */
  values: (number | boolean)[];
  wrong: { name: string; expected: number; got: number; rule: string } | null;
}

const extentsArgument = fc.record({
  m: fc.integer({ min: 0, max: 5 }),
  n: fc.integer({ min: 0, max: 5 }),
  k: fc.integer({ min: 0, max: 5 }),
  rows: fc.integer({ min: 0, max: 5 }),
  cols: fc.integer({ min: 0, max: 5 }),
  length: fc.integer({ min: 0, max: 12 }),
});
/** How far a checked tensor's length is from its rule's: mostly right, else off by a little. */
const lengthOffset = fc.oneof({ arbitrary: fc.constant(0), weight: 4 }, { arbitrary: fc.constantFrom(-2, -1, 1, 3), weight: 1 });

/**
 * A slot's value; for a tensor, how far its length is from its rule's (the length itself
 * follows once the lengths before it are known).
 */
function slotValue(slot: Slot, extents: Extents): fc.Arbitrary<number | boolean> {
  switch (slot.kind) {
    case 'flag':
      return fc.boolean();
    case 'extent':
      return fc.constant(extents[slot.extent]);
    case 'scalar':
      return fc.double({ min: -2, max: 2, noNaN: true });
    case 'rate':
      return fc.double({ min: 0, max: 2, noNaN: true });
    case 'step':
      return fc.integer({ min: 1, max: 1000 });
    case 'tensor':
      return slot.rule === null ? fc.constant(0) : lengthOffset;
  }
}

const kernelCall: fc.Arbitrary<KernelCall> = fc.constantFrom(...KERNELS).chain((kernel) =>
  extentsArgument.chain((extents) =>
    fc.tuple(...SIGNATURES[kernel].map((slot) => slotValue(slot, extents))).map((drawn): KernelCall => {
      const lengths: Record<string, number> = {};
      let wrong: KernelCall['wrong'] = null;
      const values = SIGNATURES[kernel].map((slot, i) => {
        if (slot.kind !== 'tensor') return drawn[i] as number | boolean;
        const expected = slot.length(extents, lengths);
        const length = Math.max(0, expected + (drawn[i] as number));
        lengths[slot.name] = length;
        if (wrong === null && slot.rule !== null && length !== expected) wrong = { name: slot.name, expected, got: length, rule: slot.rule };
        return length;
      });
      return { kernel, values, wrong };
    }),
  ),
);

/** The call's arguments with each tensor made by `make` from its length. */
function argumentsOf(call: KernelCall, make: (length: number) => unknown): unknown[] {
  return SIGNATURES[call.kernel].map((slot, i) => (slot.kind === 'tensor' ? make(call.values[i] as number) : call.values[i]));
}

/** Asserts that `outcome` is what `call` must give: it ran, or `kind` with a message matching `message`. */
function expectOutcome(outcome: unknown, call: KernelCall, kind: ErrorConstructor, message: string | RegExp | null): void {
  if (call.wrong === null) {
    expect(outcome, `${call.kernel}(${call.values.join(', ')})`).toBe('returned');
  } else {
    expect(outcome, `${call.kernel}(${call.values.join(', ')})`).toBeInstanceOf(kind);
    if (typeof message === 'string') expect((outcome as Error).message).toBe(message);
    else expect((outcome as Error).message).toMatch(message as RegExp);
  }
}

describe('arguments made for each kernel', () => {
  it.each(BACKEND_NAMES)('validated %s backend: runs them, or names the first wrong tensor', async (name) => {
    const backend: Backend = await loadBackend(name);
    fc.assert(
      fc.property(kernelCall, (call) => {
        const kernel = (backend[call.kernel] as (...a: unknown[]) => unknown).bind(backend);
        const outcome = outcomeOf(() => kernel(...argumentsOf(call, (length) => backend.tensor(length))));
        const { wrong } = call;
        const message = wrong && `${wrong.name}: expected a tensor of this backend of length ${wrong.expected} (${wrong.rule}), got a tensor of length ${wrong.got}`;
        expectOutcome(outcome, call, RangeError, message);
      }),
      { numRuns: RUNS * 2, seed: SEED },
    );
  });

  /**
   * The raw bindings' own length checks, which protect memory below the validated layer: the
   * same tensor and lengths, in their own words (some measure against another tensor where the
   * validated checks use the extents, as softmaxForward's y against x rather than rows*cols).
   */
  const rawMessage = ({ wrong }: KernelCall): RegExp | null => wrong && new RegExp(`^${wrong.name}: expected length ${wrong.expected} \\([a-z* ]+\\), got ${wrong.got}$`);

  it('raw native binding: runs them, or names the first wrong tensor', () => {
    fc.assert(
      fc.property(kernelCall, (call) => {
        const kernel = nativeBinding[call.kernel] as (...a: unknown[]) => unknown;
        const outcome = outcomeOf(() => kernel(...argumentsOf(call, (length) => new Float32Array(length))));
        expectOutcome(outcome, call, Error, rawMessage(call));
      }),
      { numRuns: RUNS * 2, seed: SEED },
    );
  });

  it('raw wasm binding: runs them, or names the first wrong tensor', async () => {
    await loadBackend('wasm');
    fc.assert(
      fc.property(kernelCall, (call) => {
        const kernel = wasmBinding[call.kernel] as (...a: unknown[]) => unknown;
        const tensors: wasmBinding.Tensor[] = [];
        const args = argumentsOf(call, (length) => {
          const made = new wasmBinding.Tensor(length);
          tensors.push(made);
          return made;
        });
        const outcome = outcomeOf(() => kernel(...args));
        for (const made of tensors) made.free();
        expectOutcome(outcome, call, Error, rawMessage(call));
      }),
      { numRuns: RUNS * 2, seed: SEED },
    );
  });

  it('reaches every kernel, with right and with wrong lengths', () => {
    const calls = fc.sample(kernelCall, { numRuns: RUNS * 2, seed: SEED });
    for (const kernel of KERNELS) {
      const own = calls.filter((call) => call.kernel === kernel);
      expect(own.some((call) => call.wrong === null), `${kernel} with right lengths`).toBe(true);
      expect(own.some((call) => call.wrong !== null), `${kernel} with a wrong length`).toBe(true);
    }
  });
});
