/**
 * ferronet in browsers, workers and bundles: no native addon, the wasm module fetched from
 * beside the script (or from wherever `setWasmSource` says), and no file system.
 */

import type { Platform } from './index.js';
import { BUNDLED_WASM_URL } from '../backends/wasm/index.js';

const noFiles = (call: string, instead: string) => (): Promise<never> =>
  Promise.reject(new TypeError(`${call}: there is no file system in ferronet's browser build; use ${instead}`));

export const browserPlatform: Platform = {
  loadNative: () => Promise.reject(new Error("the native addon needs Node.js; this is ferronet's browser build")),
  defaultWasmSource: () => Promise.resolve(BUNDLED_WASM_URL),
  readFile: noFiles('Network.load', 'Network.fromBytes(bytes)'),
  writeFileAtomically: noFiles('save', 'net.toBytes()'),
};
