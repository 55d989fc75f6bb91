/**
 * Finding and loading backends. `'auto'` takes the first that loads of native (Node only),
 * wasm and ts; {@link availableBackends} says what loaded here and why the others did not.
 */

import { BACKEND_NAMES, type Backend, type BackendName } from './backend.js';
import { createTsBackend } from './ts/index.js';
import { checkOneOf } from '../validation.js';

/** What loading one backend gave on this machine. */
export interface BackendStatus {
  /** The backend tried. */
  name: BackendName;
  /** Whether it loaded. */
  available: boolean;
  /** Why it did not load, when it did not. */
  reason?: string;
}

const loading = new Map<BackendName, Promise<Backend>>();

function loadOnce(name: BackendName): Promise<Backend> {
  let backend = loading.get(name);
  if (!backend) {
    backend = loaders[name]();
    loading.set(name, backend);
  }
  return backend;
}

const loaders: Record<BackendName, () => Promise<Backend>> = {
  native: async () => {
    const isNode = typeof process !== 'undefined' && typeof process.versions.node === 'string';
    if (!isNode) throw new Error('the native addon needs Node.js');
    const { loadNativeBackend } = await import('./native/index.js');
    return loadNativeBackend();
  },
  wasm: async () => {
    const { loadWasmBackend } = await import('./wasm/index.js');
    return loadWasmBackend();
  },
  ts: () => Promise.resolve(createTsBackend()),
};

/** Loads a backend by name, or the fastest that loads here for `'auto'`. Each loads once per process. */
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

export type { Backend, BackendName, KernelName, Kernels, Tensor } from './backend.js';
