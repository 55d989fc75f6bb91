/**
 * The wasm backend on threads: Node gets the threaded module (a pool of worker_threads over one
 * shared memory) unless setWasmThreads(1) asks for the single-threaded one, and the two train
 * bit-identically, since the kernels split products by output tiles and never split a sum.
 * The browser's side (cross-origin isolation, main thread or worker) is test/browser/threads.test.ts.
 */

import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import { availableBackends, setWasmThreads, type BackendStatus } from '../../ts/index.js';
import { browserPlatform } from '../../ts/platform/browser.js';
import { expectedStatuses, runJsonChild, wasmInstructionSet } from '../helpers.js';

interface Run {
  status: BackendStatus;
  mlp: { loss: number[]; parameters: number[] };
  cnn: { loss: number[]; parameters: number[] };
}

function trainWith(threads: number): Promise<Run> {
  return runJsonChild<Run>('test/backends/wasm-threads-run.ts', [String(threads)]);
}

describe('threaded and single-threaded wasm modules', () => {
  const runs = Promise.all([trainWith(1), trainWith(2)]);

  it('load as asked, each saying how many threads it computes on', async () => {
    const [single, threaded] = await runs;
    const instructionSet = await wasmInstructionSet();
    expect(single.status).toEqual({ name: 'wasm', available: true, instructionSet, threads: 1, threadsReason: 'setWasmThreads(1) asked for one' });
    expect(threaded.status).toEqual({ name: 'wasm', available: true, instructionSet, threads: 2 });
  }, 120_000);

  it('train an MLP and a CNN bit-identically', async () => {
    const [single, threaded] = await runs;
    for (const network of ['mlp', 'cnn'] as const) {
      expect(threaded[network].loss).toEqual(single[network].loss);
      expect(threaded[network].loss.at(-1)).toBeLessThan(threaded[network].loss[0] as number);
      expect(threaded[network].parameters.length).toBeGreaterThan(10_000);
      // toEqual would pass NaN == NaN; the losses above are finite, and so must the weights be.
      expect(threaded[network].parameters.every(Number.isFinite)).toBe(true);
      expect(threaded[network].parameters).toEqual(single[network].parameters);
    }
  }, 120_000);
});

it('Node defaults to as many threads as it offers', async () => {
  const wasm = (await availableBackends()).find((status) => status.name === 'wasm');
  expect(wasm).toEqual((await expectedStatuses(availableParallelism()))[1]);
  expect(() => setWasmThreads(2)).toThrow('setWasmThreads: the wasm backend has already loaded; call setWasmThreads before creating a network');
});

it('setWasmThreads takes a positive integer, naming the argument', () => {
  expect(() => setWasmThreads(0)).toThrow(RangeError);
  expect(() => setWasmThreads(0)).toThrow(/^threads: /);
  expect(() => setWasmThreads(1.5)).toThrow(/^threads: /);
  expect(() => setWasmThreads('2' as never)).toThrow(TypeError);
});

it('a page that is not cross-origin isolated gets one thread, and is told which headers would give it more', () => {
  // Node has SharedArrayBuffer but no crossOriginIsolated, as a page served without the headers.
  expect(browserPlatform.wasmThreadsUnavailable()).toBe(
    'shared memory needs a cross-origin isolated page: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp',
  );
});
