/**
 * The wasm backend on several threads: the threaded module (the same kernels built with
 * atomics, crates/wasm/src/threads.rs) instantiated over one shared memory by the calling
 * thread and by one worker per pool thread. The kernels split each large matrix product over
 * the pool by output tiles, so results are bit-identical to the single-threaded module's.
 *
 * The calling thread is one of the pool's threads, and blocks (`Atomics.wait`) while it waits
 * for the workers' share of a product, which a page's main thread may not do; the platform
 * decides where threads are possible (ts/platform/).
 */

import type { Backend } from '../backend.js';
import { wasmBackend, type WasmSource } from './index.js';

/**
 * Starts one worker that instantiates `module` over `memory` and then waits to lend itself
 * to the pool for good; resolves once the worker has instantiated the module, rejects if it failed.
 */
export type StartPoolThread = (module: WebAssembly.Module, memory: WebAssembly.Memory) => Promise<void>;

/**
 * Instantiates the threaded module with a pool of `threads` threads, the calling one and
 * `threads - 1` workers, and returns the backend over it.
 */
export async function loadThreadedWasmBackend(source: WasmSource, threads: number, startPoolThread: StartPoolThread): Promise<Backend> {
  const threaded = await import('./generated/ferronet_wasm_threads.js');
  // Compiled here rather than by wasm-bindgen's loader: every worker needs the module itself.
  const module = await compile(source);
  const { memory } = await threaded.default({ module_or_path: module });
  // The workers wait for the pool's threads, and making the pool waits for every thread to run.
  await Promise.all(Array.from({ length: threads - 1 }, () => startPoolThread(module, memory)));
  threaded.startThreadPool(threads);
  return wasmBackend(threaded, memory, threaded.poolThreads());
}

async function compile(source: WasmSource): Promise<WebAssembly.Module> {
  if (source instanceof WebAssembly.Module) return source;
  if (source instanceof ArrayBuffer || ArrayBuffer.isView(source)) return WebAssembly.compile(source);
  const response = typeof source === 'string' || source instanceof URL ? await fetch(source) : source;
  if (!response.ok) throw new Error(`fetching ${response.url} failed: ${response.status} ${response.statusText}`);
  // Streaming compilation needs the application/wasm type; any other server gets the slow path.
  return response.headers.get('Content-Type') === 'application/wasm'
    ? WebAssembly.compileStreaming(response)
    : WebAssembly.compile(await response.arrayBuffer());
}
