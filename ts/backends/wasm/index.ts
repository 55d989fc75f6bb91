/**
 * The WebAssembly backend: ferronet's Rust kernels compiled to wasm32 with simd128. Tensors
 * live in the module's linear memory and JavaScript sees them through views that are rebuilt
 * whenever that memory grows.
 */

import type { Backend, Kernels, Tensor } from '../backend.js';
import { bindKernels } from '../bind.js';
import { kernelChecks } from '../kernel-checks.js';
import init, * as bindings from './generated/ferronet_wasm.js';
import { WasmModel } from './model.js';

/** Where to find the `.wasm` file: a URL or path string, a `Response`, raw bytes or a compiled module. */
export type WasmSource = string | URL | Response | BufferSource | WebAssembly.Module;

class WasmTensor implements Tensor {
  readonly length: number;
  #handle: bindings.Tensor | null;
  #view: Float32Array;

  constructor(
    handle: bindings.Tensor,
    private readonly memory: WebAssembly.Memory,
  ) {
    this.#handle = handle;
    this.length = handle.length;
    this.#view = new Float32Array(memory.buffer, handle.pointer, this.length);
  }

  get handle(): bindings.Tensor {
    if (!this.#handle) throw new RangeError('tensor: used after dispose()');
    return this.#handle;
  }

  get data(): Float32Array {
    // Growing the memory detaches the old ArrayBuffer, and every view on it reads as empty.
    if (this.#view.buffer !== this.memory.buffer) {
      this.#view = new Float32Array(this.memory.buffer, this.handle.pointer, this.length);
    }
    return this.#view;
  }

  get disposed(): boolean {
    return this.#handle === null;
  }

  /** Distinct wasm tensors are distinct allocations: only a tensor overlaps itself. */
  overlaps(other: Tensor): boolean {
    return other === this && this.length > 0;
  }

  dispose(): void {
    this.#handle?.free();
    this.#handle = null;
  }
}

function isWasmTensor(value: unknown): value is WasmTensor {
  return value instanceof WasmTensor;
}

/**
 * The module shipped beside this file. Written as `new URL('<literal>', import.meta.url)` so
 * that bundlers (Vite, webpack, Rollup plugins) see the file and emit it with the bundle.
 */
export const BUNDLED_WASM_URL = new URL('./generated/ferronet_wasm_bg.wasm', import.meta.url);

/**
 * Instantiates the module (once per page or process) and returns the backend over it. A URL
 * or `Response` goes through wasm-bindgen's loader, which compiles while the file downloads
 * (`instantiateStreaming`) when the server sends `application/wasm`.
 */
export async function loadWasmBackend(source: WasmSource): Promise<Backend> {
  const exports = await init({ module_or_path: source });
  const memory = exports.memory;
  // Assigning the generated bindings to our interface makes tsc check their signatures.
  const raw: Kernels<bindings.Tensor> = bindings;
  return {
    name: 'wasm',
    tensor(source) {
      const length = typeof source === 'number' ? source : source.length;
      const tensor = new WasmTensor(new bindings.Tensor(length), memory);
      if (typeof source !== 'number') tensor.data.set(source);
      return tensor;
    },
    ...bindKernels(raw, kernelChecks(isWasmTensor), isWasmTensor, (tensor) => tensor.handle),
    createModel: (inputShape, layers) => new WasmModel(bindings, memory, inputShape, layers),
    safetensorsIndex: (file) => bindings.safetensorsIndex(file),
  };
}
