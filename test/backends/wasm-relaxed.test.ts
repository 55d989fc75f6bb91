/**
 * The relaxed-simd builds, which the loader picks where the engine validates relaxed-simd:
 * Chromium (test/browser/threads.test.ts), and Node 20 only with --experimental-wasm-relaxed-simd,
 * under which a child process runs them here. Their multiply-adds are fused, so their results
 * round differently from the simd128 builds': the GEMM must differ from simd128's somewhere
 * (else the build is not relaxed) and match ts as closely as simd128 does; training must match ts.
 */

import { expect, it } from 'vitest';
import { relaxedSimd } from 'wasm-feature-detect';
import type { BackendStatus } from '../../ts/index.js';
import { expectClose, largestMagnitude, runJsonChild } from '../helpers.js';

interface Run {
  status: BackendStatus;
  relaxedGemm: number[];
  simd128Gemm: number[];
  tsGemm: number[];
  wasm: { loss: number[]; parameters: number[] };
  ts: { loss: number[]; parameters: number[] };
}

it('this Node does not validate relaxed-simd by default, so it loads the simd128 builds', async () => {
  // Node 22 and later do; there the default would be the relaxed builds, and this test says so.
  expect(await relaxedSimd()).toBe(false);
});

it('with the flag: loads the threaded relaxed-simd build, whose fused GEMM and training match ts', async () => {
  const run = await runJsonChild<Run>('test/backends/wasm-relaxed-run.ts', [], ['--experimental-wasm-relaxed-simd']);
  expect(run.status).toMatchObject({ name: 'wasm', available: true, instructionSet: 'wasm-relaxed-simd' });
  const scale = largestMagnitude(Float32Array.from(run.tsGemm));
  expectClose(Float32Array.from(run.relaxedGemm), Float32Array.from(run.tsGemm), 1e-5, scale);
  expectClose(Float32Array.from(run.simd128Gemm), Float32Array.from(run.tsGemm), 1e-5, scale);
  expect(run.relaxedGemm.some((value, i) => value !== run.simd128Gemm[i])).toBe(true);
  expectClose(Float32Array.from(run.wasm.loss), Float32Array.from(run.ts.loss), 1e-5);
  expect(run.wasm.loss.at(-1)).toBeLessThan(run.wasm.loss[0] as number);
  expectClose(Float32Array.from(run.wasm.parameters), Float32Array.from(run.ts.parameters), 1e-4);
}, 60_000);
