/**
 * How backends load in browsers, workers and bundles: no native addon, and the wasm module
 * fetched from beside the script (or from wherever {@link setWasmSource} says).
 */

import { BUNDLED_WASM_URL } from './wasm/index.js';
import type { Platform } from './index.js';

export const browserPlatform: Platform = {
  loadNative: () => Promise.reject(new Error("the native addon needs Node.js; this is ferronet's browser build")),
  defaultWasmSource: () => Promise.resolve(BUNDLED_WASM_URL),
};
