/**
 * How backends load in Node: the native addon when it was built for this machine, and the
 * wasm module's bytes read from disk (Node's fetch does not read file: URLs).
 */

import { readFile } from 'node:fs/promises';
import type { Platform } from './index.js';
import { BUNDLED_WASM_URL } from './wasm/index.js';

export const nodePlatform: Platform = {
  async loadNative() {
    // Imported on demand: a machine without the addon still loads ferronet and falls back.
    const { loadNativeBackend } = await import('./native/index.js');
    return loadNativeBackend();
  },
  defaultWasmSource: () => readFile(BUNDLED_WASM_URL),
};
