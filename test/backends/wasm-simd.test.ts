/**
 * The shipped wasm module really computes with simd128: the build passes `+simd128`, but a
 * toolchain change that dropped it would still pass every numeric test, only slower.
 */

import { readFile } from 'node:fs/promises';
import binaryen from 'binaryen';
import { expect, it } from 'vitest';
import { BUNDLED_WASM_URL } from '../../ts/backends/wasm/index.js';

it('holds simd128 multiply-adds in its GEMM microkernel', async () => {
  const module = binaryen.readBinary(await readFile(BUNDLED_WASM_URL));
  const text = module.emitText();
  module.dispose();
  // The microkernel's inner loop: packed loads, lane-wise multiplies and adds of 4 floats.
  for (const instruction of ['v128.load', 'f32x4.mul', 'f32x4.add', 'f32x4.splat']) {
    expect(text.split(instruction).length - 1, instruction).toBeGreaterThan(10);
  }
});
