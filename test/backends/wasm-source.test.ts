/** setWasmSource: where the wasm module comes from, checked at the boundary, fixable after a failed load. */

import { readFile } from 'node:fs/promises';
import { expect, it } from 'vitest';
import { BUNDLED_WASM_URL } from '../../ts/backends/wasm/index.js';
import { loadBackend, setWasmSource } from '../../ts/index.js';

it('refuses what is not a module source, naming the argument', () => {
  expect(() => setWasmSource(42)).toThrow(
    new TypeError('source: expected a URL, a string, a Response, an ArrayBuffer or view, or a WebAssembly.Module, got 42'),
  );
  expect(() => setWasmSource(new Uint8Array(8), {})).toThrow(
    new TypeError('threadedSource: expected a URL, a string, a Response, an ArrayBuffer or view, or a WebAssembly.Module, got an object'),
  );
});

it('loads from the bytes it was given, after a bad source failed, and is fixed once loaded', async () => {
  setWasmSource(Uint8Array.of(0, 97, 115, 109)); // a wasm header and nothing else
  await expect(loadBackend('wasm')).rejects.toThrow(WebAssembly.CompileError);
  const bytes = await readFile(BUNDLED_WASM_URL);
  setWasmSource(bytes);
  const wasm = await loadBackend('wasm');
  expect(wasm.name).toBe('wasm');
  // Given no threaded module, it runs the one it was given, on one thread, and says why.
  expect([wasm.threads, wasm.threadsReason, wasm.instructionSet]).toEqual([1, 'setWasmSource was given no threaded module', 'wasm-simd']);
  expect(() => setWasmSource(bytes)).toThrow('setWasmSource: the wasm backend has already loaded; call setWasmSource before creating a network');
});
