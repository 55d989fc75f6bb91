/**
 * Wrong arguments into any kernel throw a TypeError or RangeError that names the argument,
 * on every backend, and leave the outputs untouched.
 */

import { describe, expect, it } from 'vitest';
import { BACKEND_NAMES } from '../../ts/backends/backend.js';
import * as nativeBinding from '../../ts/backends/native/generated/index.js';
import type { WasmBindings } from '../../ts/backends/wasm/index.js';
import { backend, singleThreadedWasm } from '../helpers.js';

describe.each(BACKEND_NAMES)('%s backend', (name) => {
  it('names a tensor of the wrong length', async () => {
    const b = await backend(name);
    const c = b.tensor([7, 7, 7, 7]);
    expect(() => b.gemm(false, false, 2, 2, 3, 1, b.tensor(5), b.tensor(6), 0, c)).toThrow(
      new RangeError('a: expected a tensor of this backend of length 6 (m*k), got a tensor of length 5'),
    );
    expect(() => b.gemm(true, false, 2, 2, 3, 1, b.tensor(6), b.tensor(7), 0, c)).toThrow(/^b: .*length 6 \(k\*n\)/);
    expect(() => b.gemm(false, true, 2, 2, 3, 1, b.tensor(6), b.tensor(6), 0, b.tensor(5))).toThrow(/^c: .*length 4 \(m\*n\)/);
    expect(Array.from(c.data)).toEqual([7, 7, 7, 7]);
  });

  it('names every kind of bad argument', async () => {
    const b = await backend(name);
    const x = b.tensor(6);
    const y = b.tensor(6);
    const cases: [() => unknown, ErrorConstructor, RegExp][] = [
      [() => b.softmaxForward(-1, 6, x, y), RangeError, /^rows: expected a non-negative integer, got -1$/],
      [() => b.softmaxForward(2.5, 6, x, y), RangeError, /^rows: expected a non-negative integer, got 2.5$/],
      [() => b.softmaxForward(2, 3, x, b.tensor(5)), RangeError, /^y: .*length 6 \(rows\*cols\), got a tensor of length 5$/],
      [() => b.biasAdd(2, 3, b.tensor(2), x), RangeError, /^bias: .*length 3 \(cols\)/],
      [() => b.columnSums(2, 3, x, b.tensor(2)), RangeError, /^sums: .*length 3 \(cols\)/],
      [() => b.reluForward(x, b.tensor(5)), RangeError, /^y: .*length 6 \(length of x\)/],
      [() => b.tanhBackward(x, b.tensor(5), y), RangeError, /^dy: .*length 6 \(length of y\)/],
      [() => b.reluForward(new Float32Array(6) as never, y), TypeError, /^x: expected a tensor of this backend, got a Float32Array of length 6$/],
      [() => b.gemm('no' as never, false, 1, 1, 1, 1, b.tensor(1), b.tensor(1), 0, b.tensor(1)), TypeError, /^transA: expected a boolean/],
      [() => b.gemm(false, false, 1, 1, 1, Number.NaN, b.tensor(1), b.tensor(1), 0, b.tensor(1)), RangeError, /^alpha: expected a finite number, got NaN$/],
      [() => b.leakyReluForward(Infinity, x, y), RangeError, /^alpha: expected a finite number, got Infinity$/],
      [() => b.sgdUpdate(-0.1, x, y), RangeError, /^learningRate: expected a finite number >= 0, got -0.1$/],
      [() => b.momentumUpdate(0.1, 0.9, x, y, x), RangeError, /^params: must not share memory with velocity$/],
      [() => b.adamUpdate(0.1, 0.9, 0.99, 1e-8, 0, x, y, b.tensor(6), b.tensor(6)), RangeError, /^step: expected an integer in \[1, 4294967295\], got 0$/],
      [() => b.adamUpdate(0.1, 0.9, 0.99, 1e-8, 1, x, y, b.tensor(6), b.tensor(5)), RangeError, /^v: .*length 6 \(length of params\)/],
      [() => b.meanSquaredError(x, b.tensor(4), y), RangeError, /^targets: .*length 6 \(length of predictions\)/],
      [() => b.binaryCrossEntropy(x, y, b.tensor(2)), RangeError, /^gradient: .*length 6/],
      [() => b.softmaxCrossEntropy(2, 3, x, y, x), RangeError, /^gradient: must not share memory with predictions$/],
    ];
    for (const [call, type, message] of cases) {
      expect(call, String(message)).toThrow(type);
      expect(call).toThrow(message);
    }
  });

  it('refuses a disposed tensor', async () => {
    const b = await backend(name);
    const x = b.tensor(3);
    x.dispose();
    expect(x.disposed).toBe(true);
    expect(() => b.reluForward(x, b.tensor(3))).toThrow(new RangeError('x: expected a tensor of this backend, got a disposed tensor'));
  });
});

describe('raw bindings, below the checks, throw instead of crashing', () => {
  it('native', () => {
    expect(() => nativeBinding.gemm(false, false, 2, 2, 3, 1, new Float32Array(5), new Float32Array(6), 0, new Float32Array(4))).toThrow(
      'a: expected length 6 (m*k), got 5',
    );
    expect(() => nativeBinding.sgdUpdate(0.1, new Float32Array(3), new Float32Array(2))).toThrow('gradients: expected length 3');
    // napi-rs refuses a non-typed-array before our code runs, with its own words.
    expect(() => nativeBinding.reluForward([1, 2] as never, new Float32Array(2))).toThrow(expect.objectContaining({ name: 'Error', code: 'InvalidArg', message: 'Get TypedArray info failed' }));
  });

  it('threaded wasm', async () => {
    await backend('wasm'); // instantiates the threaded module, Node's default
    expectRawWasmThrows(await import('../../ts/backends/wasm/generated/ferronet_wasm_threads.js'));
  });

  it('single-threaded wasm', async () => {
    await singleThreadedWasm();
    expectRawWasmThrows(await import('../../ts/backends/wasm/generated/ferronet_wasm.js'));
  });
});

function expectRawWasmThrows(wasm: WasmBindings): void {
  const a = new wasm.Tensor(5);
  expect(() => wasm.gemm(false, false, 2, 2, 3, 1, a, new wasm.Tensor(6), 0, new wasm.Tensor(4))).toThrow(
    new RangeError('a: expected length 6 (m*k), got 5'),
  );
  expect(() => wasm.reluForward(a, a)).toThrow(/recursive use of an object/);
}
