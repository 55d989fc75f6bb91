/**
 * Finding and loading backends. `'auto'` takes the first that loads of native (Node only),
 * wasm and ts; {@link availableBackends} says what loaded here and why the others did not.
 *
 * How native and wasm load depends on where ferronet runs: this module asks the entry
 * point's platform (ts/platform/) and imports neither platform itself.
 */

import { BACKEND_NAMES, type Backend, type BackendName } from './backend.js';
import { createTsBackend } from './ts/index.js';
import { loadWasmBackend, type WasmSource } from './wasm/index.js';
import { checkOneOf, fail } from '../validation.js';
import { currentPlatform } from '../platform/index.js';

/** What loading one backend gave on this machine. */
export interface BackendStatus {
  /** The backend tried. */
  name: BackendName;
  /** Whether it loaded. */
  available: boolean;
  /** Why it did not load, when it did not. */
  reason?: string;
}

let wasmSource: WasmSource | null = null;
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
  wasm: async () => loadWasmBackend(wasmSource ?? (await currentPlatform().defaultWasmSource())),
  ts: () => Promise.resolve(createTsBackend()),
};

/**
 * Tells the wasm backend where its module is, for bundlers and servers that move the `.wasm`
 * file away from the package's own copy: a URL (fetched and compiled as it streams when the
 * server sends `application/wasm`), a `Response`, the file's bytes, or a compiled
 * `WebAssembly.Module`. Call it before the first network is created; by default the browser
 * build fetches the file beside its own script and the Node build reads it from disk.
 *
 * ```ts
 * import wasmUrl from 'ferronet/ferronet.wasm?url'; // Vite
 * setWasmSource(wasmUrl);
 * ```
 */
export function setWasmSource(source: WasmSource): void {
  const isSource =
    typeof source === 'string' ||
    source instanceof URL ||
    (typeof Response === 'function' && source instanceof Response) ||
    source instanceof ArrayBuffer ||
    ArrayBuffer.isView(source) ||
    source instanceof WebAssembly.Module;
  if (!isSource) fail('type', 'source', 'a URL, a string, a Response, an ArrayBuffer or view, or a WebAssembly.Module', source);
  if (loading.has('wasm')) throw new Error('setWasmSource: the wasm backend has already loaded; call setWasmSource before creating a network');
  wasmSource = source;
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
        await loadOnce(name);
        return { name, available: true };
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
