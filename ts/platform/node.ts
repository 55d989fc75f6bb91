/**
 * ferronet in Node: the native addon when it was built for this machine, the wasm modules'
 * bytes read from disk (Node's fetch does not read file: URLs), worker_threads for the
 * threaded wasm module's pool, and files for save and load.
 */

import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import type { Platform } from './index.js';
import { bundledWasmUrl } from '../backends/wasm/index.js';

export const nodePlatform: Platform = {
  async loadNative() {
    // Imported on demand: a machine without the addon still loads ferronet and falls back.
    const { loadNativeBackend } = await import('../backends/native/index.js');
    return loadNativeBackend();
  },
  defaultWasmSource: (build) => readFile(bundledWasmUrl(build)),
  availableThreads: () => availableParallelism(),
  // Node has shared memory everywhere, and its main thread may block on Atomics.wait.
  wasmThreadsUnavailable: () => null,
  startPoolThread(module, memory) {
    const worker = new Worker(new URL('../backends/wasm/pool-thread.node.mjs', import.meta.url), { workerData: { module, memory } });
    // A pool thread never ends; unreferenced, it does not keep the process alive once the rest is done.
    worker.unref();
    return new Promise((resolve, reject) => {
      worker.once('message', () => {
        resolve();
      });
      worker.once('error', reject);
      worker.once('exit', (code) => {
        reject(new Error(`a wasm pool thread exited with code ${code} before it started`));
      });
    });
  },
  readFile: (path) => readFile(path),
  async writeFileAtomically(path, bytes) {
    // Write beside the target, then rename: a crash or a second Ctrl-C never leaves half a file.
    const partial = `${path}.${String(process.pid)}.partial`;
    try {
      await writeFile(partial, bytes);
      await rename(partial, path);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  },
};
