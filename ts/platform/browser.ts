/**
 * ferronet in browsers, workers and bundles: no native addon, the wasm modules fetched from
 * beside the script (or from wherever `setWasmSource` says), Web Workers for the threaded
 * module's pool where the page is cross-origin isolated, and no file system.
 */

import type { Platform } from './index.js';
import { bundledWasmUrl } from '../backends/wasm/index.js';

const noFiles = (call: string, instead: string) => (): Promise<never> =>
  Promise.reject(new TypeError(`${call}: there is no file system in ferronet's browser build; use ${instead}`));

export const browserPlatform: Platform = {
  loadNative: () => Promise.reject(new Error("the native addon needs Node.js; this is ferronet's browser build")),
  defaultWasmSource: (build) => Promise.resolve(bundledWasmUrl(build)),
  availableThreads: () => (typeof navigator === 'undefined' ? 1 : navigator.hardwareConcurrency),
  wasmThreadsUnavailable() {
    if (typeof SharedArrayBuffer === 'undefined' || !globalThis.crossOriginIsolated) {
      return 'shared memory needs a cross-origin isolated page: serve it with the headers Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp';
    }
    if (typeof document !== 'undefined') {
      return "a page's main thread may not block (Atomics.wait), which the threads' hand-offs need: train in a Web Worker (trainInWorker) to use threads";
    }
    if (typeof Worker === 'undefined') return 'this runtime has no Web Workers';
    return null;
  },
  startPoolThread(module, memory) {
    // One literal URL per worker script, so that bundlers find the script and emit it.
    const worker = new Worker(new URL('../backends/wasm/pool-thread.browser.mjs', import.meta.url), { type: 'module' });
    return new Promise((resolve, reject) => {
      worker.onmessage = () => {
        resolve();
      };
      worker.onerror = (event) => {
        reject(new Error(`a wasm pool thread failed to start: ${event.message || 'its script did not load'}`));
      };
      worker.postMessage({ module, memory });
    });
  },
  readFile: noFiles('Network.load', 'Network.fromBytes(bytes)'),
  writeFileAtomically: noFiles('save', 'net.toBytes()'),
};
