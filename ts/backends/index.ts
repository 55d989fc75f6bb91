/**
 * Finding and loading backends. `'auto'` takes the first that loads of native (Node only),
 * wasm and ts; {@link availableBackends} says what loaded here and why the others did not.
 *
 * How native and wasm load depends on where ferronet runs: this module asks the entry
 * point's platform (ts/platform/) and imports neither platform itself.
 */

import { BACKEND_NAMES, type Backend, type BackendName } from './backend.js';
import { relaxedSimd } from 'wasm-feature-detect';
import { createTsBackend } from './ts/index.js';
import { loadWasmBackend, type WasmSource } from './wasm/index.js';
import { loadThreadedWasmBackend } from './wasm/threads.js';
import { checkOneOf, checkPositiveInteger, fail } from '../validation.js';
import { currentPlatform, type Platform } from '../platform/index.js';

/** What loading one backend gave on this machine. */
export interface BackendStatus {
  /** The backend tried. */
  name: BackendName;
  /** Whether it loaded. */
  available: boolean;
  /** Why it did not load, when it did not. */
  reason?: string;
  /** The instruction set its kernels compute with (`avx512`, `avx2`, `neon`, `wasm-simd`, `wasm-relaxed-simd`, `javascript`), when it loaded. */
  instructionSet?: string;
  /** Threads its kernels compute on, when it loaded. */
  threads?: number;
  /** Why it computes on one thread where more were asked for or the machine has more, when it does. */
  threadsReason?: string;
}

let wasmSources: { single: WasmSource; threaded: WasmSource | null } | null = null;
let wasmThreads: number | null = null;
const loading = new Map<BackendName, Promise<Backend>>();

function loadOnce(name: BackendName): Promise<Backend> {
  let backend = loading.get(name);
  if (!backend) {
    backend = loaders[name]();
    loading.set(name, backend);
    // A failed load is forgotten, so that a call after setWasmSource() can try again.
    backend.catch(() => loading.delete(name));
  }
  return backend;
}

const loaders: Record<BackendName, () => Promise<Backend>> = {
  native: () => currentPlatform().loadNative(),
  wasm: loadWasm,
  ts: () => Promise.resolve(createTsBackend()),
};

/**
 * The threaded module where it can run and more than one thread is wanted, else the
 * single-threaded one saying why; of the package's own copies, the relaxed-simd builds where
 * the engine validates relaxed-simd.
 */
async function loadWasm(): Promise<Backend> {
  const platform = currentPlatform();
  const relaxed = wasmSources === null && (await relaxedSimd());
  const threads = wasmThreads ?? platform.availableThreads();
  let reason = whyOneThread(platform, threads);
  if (reason === null) {
    const source = wasmSources ? (wasmSources.threaded as WasmSource) : await platform.defaultWasmSource({ threaded: true, relaxed });
    try {
      return await loadThreadedWasmBackend(source, threads, platform.startPoolThread);
    } catch (error) {
      reason = `the threaded module did not start: ${error instanceof Error ? error.message : String(error)}`;
    }
  }
  return loadWasmBackend(wasmSources?.single ?? (await platform.defaultWasmSource({ threaded: false, relaxed })), reason);
}

/** Why the wasm backend must run on one thread here, or null when the threaded module may load. */
function whyOneThread(platform: Platform, threads: number): string | null {
  if (threads === 1) return wasmThreads === 1 ? 'setWasmThreads(1) asked for one' : 'this machine offers one thread';
  if (wasmSources && !wasmSources.threaded) return 'setWasmSource was given no threaded module';
  return platform.wasmThreadsUnavailable();
}

/**
 * Tells the wasm backend where its modules are, for bundlers and servers that move the `.wasm`
 * files away from the package's own copies: a URL (fetched and compiled as it streams when the
 * server sends `application/wasm`), a `Response`, the file's bytes, or a compiled
 * `WebAssembly.Module`. `source` is the single-threaded module (`ferronet/ferronet.wasm`),
 * `threadedSource` the threaded one (`ferronet/ferronet-threads.wasm`); without it the
 * backend runs on one thread. Call it before the first network is created; by default the
 * browser build fetches the files beside its own script and the Node build reads them from disk.
 *
 * ```ts
 * import wasmUrl from 'ferronet/ferronet.wasm?url'; // Vite
 * import threadedUrl from 'ferronet/ferronet-threads.wasm?url';
 * setWasmSource(wasmUrl, threadedUrl);
 * ```
 */
export function setWasmSource(source: WasmSource, threadedSource?: WasmSource): void {
  checkWasmSource('source', source);
  if (threadedSource !== undefined) checkWasmSource('threadedSource', threadedSource);
  checkNotLoaded('setWasmSource');
  wasmSources = { single: source, threaded: threadedSource ?? null };
}

/**
 * How many threads the wasm backend computes on: by default as many as the machine offers
 * (`os.availableParallelism()` in Node, `navigator.hardwareConcurrency` in browsers). More than
 * one needs shared memory and a thread that may block: Node, or a Web Worker in a
 * cross-origin isolated page; elsewhere the backend runs on one thread and
 * {@link availableBackends} says why. Call it before the first network is created.
 */
export function setWasmThreads(threads: number): void {
  checkPositiveInteger('threads', threads);
  checkNotLoaded('setWasmThreads');
  wasmThreads = threads;
}

function checkWasmSource(argument: string, source: unknown): void {
  const isSource =
    typeof source === 'string' ||
    source instanceof URL ||
    (typeof Response === 'function' && source instanceof Response) ||
    source instanceof ArrayBuffer ||
    ArrayBuffer.isView(source) ||
    source instanceof WebAssembly.Module;
  if (!isSource) fail('type', argument, 'a URL, a string, a Response, an ArrayBuffer or view, or a WebAssembly.Module', source);
}

function checkNotLoaded(call: string): void {
  if (loading.has('wasm')) throw new Error(`${call}: the wasm backend has already loaded; call ${call} before creating a network`);
}

/**
 * Loads a backend by name, or the fastest that loads here for `'auto'`. Each loads once per
 * process; one that failed is tried again on the next call.
 */
export async function loadBackend(name: BackendName | 'auto' = 'auto'): Promise<Backend> {
  checkOneOf('backend', name, ['auto', ...BACKEND_NAMES]);
  if (name !== 'auto') return loadOnce(name);
  for (const candidate of BACKEND_NAMES) {
    try {
      return await loadOnce(candidate);
    } catch {
      // Try the next one; availableBackends() reports why this one failed.
    }
  }
  return loadOnce('ts');
}

/** Tries every backend and reports which loaded, with the reason for each that did not. */
export async function availableBackends(): Promise<BackendStatus[]> {
  return Promise.all(
    BACKEND_NAMES.map(async (name): Promise<BackendStatus> => {
      try {
        const { instructionSet, threads, threadsReason } = await loadOnce(name);
        return { name, available: true, instructionSet, threads, ...(threadsReason === undefined ? {} : { threadsReason }) };
      } catch (error) {
        return { name, available: false, reason: error instanceof Error ? error.message : String(error) };
      }
    }),
  );
}

/**
 * The safetensors index of the first compiled backend that loads here, native then wasm (the
 * ts backend has no file parsers); rejects saying why neither loaded.
 */
export async function safetensorsReader(): Promise<(file: Uint8Array) => string> {
  const reasons: string[] = [];
  for (const name of ['native', 'wasm'] as const) {
    try {
      const { safetensorsIndex } = await loadOnce(name);
      if (safetensorsIndex) return safetensorsIndex;
    } catch (error) {
      reasons.push(`${name}: ${error instanceof Error ? error.message : String(error)}`);
    }
  }
  throw new Error(`reading safetensors needs the native or the wasm module, and neither loaded (${reasons.join('; ')})`);
}

export type { Backend, BackendName, KernelName, Kernels, Tensor } from './backend.js';
export type { WasmSource } from './wasm/index.js';
