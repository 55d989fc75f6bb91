/**
 * ferronet in Node: the native addon when it was built for this machine, the wasm module's
 * bytes read from disk (Node's fetch does not read file: URLs), and files for save and load.
 */

import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import type { Platform } from './index.js';
import { BUNDLED_WASM_URL } from '../backends/wasm/index.js';

export const nodePlatform: Platform = {
  async loadNative() {
    // Imported on demand: a machine without the addon still loads ferronet and falls back.
    const { loadNativeBackend } = await import('../backends/native/index.js');
    return loadNativeBackend();
  },
  defaultWasmSource: () => readFile(BUNDLED_WASM_URL),
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
