/** Kernels read and write memory in place: no copies on native, live views on wasm. */

import { describe, expect, it } from 'vitest';
import * as nativeBinding from '../../ts/backends/native/generated/index.js';
import { backend, singleThreadedWasm } from '../helpers.js';

describe('native backend', () => {
  it('writes into the caller\'s Float32Array, subarrays at an offset included', async () => {
    const native = await backend('native');
    const storage = new Float32Array(12).fill(-1);
    const c = storage.subarray(5, 9); // a 2x2 result at byte offset 20
    const cTensor = native.tensor(c);
    expect(cTensor.data).toBe(c);
    native.gemm(false, false, 2, 2, 3, 1, native.tensor([1, 2, 3, 4, 5, 6]), native.tensor([1, 0, 0, 1, 1, 1]), 0, cTensor);
    expect(Array.from(storage)).toEqual([-1, -1, -1, -1, -1, 4, 5, 10, 11, -1, -1, -1]);
  });

  it('binding writes in place without the tensor wrapper', () => {
    const storage = new Float32Array(8);
    const y = storage.subarray(3, 7);
    nativeBinding.reluForward(Float32Array.of(-1, 2, -3, 4), y);
    expect(Array.from(storage)).toEqual([0, 0, 0, 0, 2, 0, 4, 0]);
  });

  it('binding refuses an output that shares memory with an input', () => {
    const storage = new Float32Array(8);
    expect(() => nativeBinding.reluForward(storage.subarray(0, 4), storage.subarray(2, 6))).toThrow(
      'y: must not share memory with x',
    );
  });
});

describe('wasm backend', () => {
  // Growing a memory detaches its ArrayBuffer, and every view on it reads as empty; a shared
  // memory (the threaded module's) keeps its old SharedArrayBuffer, which stops at the old size.
  it.each([
    ['single-threaded', singleThreadedWasm, 0],
    ['threaded', () => backend('wasm'), 4],
  ] as const)('%s module: tensor views survive memory growth', async (_, load, oldViewLength) => {
    const wasm = await load();
    const x = wasm.tensor([-1, 2, -3, 4]);
    const y = wasm.tensor(4);
    const before = y.data;
    const bufferBefore = before.buffer;
    // 64 MiB is more than the module's initial memory, so this allocation must grow it.
    const big = wasm.tensor(16 * 1024 * 1024);
    expect(before.length).toBe(oldViewLength);
    expect(y.data.buffer).not.toBe(bufferBefore);
    wasm.reluForward(x, y);
    expect(Array.from(y.data)).toEqual([0, 2, 0, 4]);
    expect(Array.from(x.data)).toEqual([-1, 2, -3, 4]);
    big.data[big.length - 1] = 1; // the new view reaches the grown end
    expect(big.data[big.length - 1]).toBe(1);
    big.dispose();
    x.dispose();
    y.dispose();
  });

  it('a kernel writes where the view reads, with no copy back', async () => {
    const wasm = await backend('wasm');
    const y = wasm.tensor(3);
    const view = y.data;
    wasm.sigmoidForward(wasm.tensor([0, 0, 0]), y);
    expect(Array.from(view)).toEqual([0.5, 0.5, 0.5]);
  });
});
