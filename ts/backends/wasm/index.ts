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

/** The generated bindings either module has, besides its loaders: the threaded one adds only its pool's two calls. */
export type WasmBindings = Omit<typeof bindings, 'default' | 'initSync'>;

/** Which of the package's four wasm builds: one thread or threads, simd128 or relaxed-simd. */
export interface WasmBuild {
  /** Built with atomics over a shared memory, its products split over a pool of workers. */
  threaded: boolean;
  /** Built with relaxed-simd: fused multiply-adds, where the engine validates them. */
  relaxed: boolean;
}

/**
 * The modules shipped beside this file. Each is written as `new URL('<literal>',
 * import.meta.url)` so that bundlers (Vite, webpack, Rollup plugins) see the files and emit
 * them with the bundle. The relaxed-simd builds share their glue with the simd128 ones.
 */
const BUNDLED = {
  single: new URL('./generated/ferronet_wasm_bg.wasm', import.meta.url),
  singleRelaxed: new URL('./generated/ferronet_wasm_relaxed_bg.wasm', import.meta.url),
  threaded: new URL('./generated/ferronet_wasm_threads_bg.wasm', import.meta.url),
  threadedRelaxed: new URL('./generated/ferronet_wasm_threads_relaxed_bg.wasm', import.meta.url),
};

/** The single-threaded simd128 module, which every engine with wasm SIMD runs. */
export const BUNDLED_WASM_URL = BUNDLED.single;

/** Where the package's copy of `build` is. */
export function bundledWasmUrl({ threaded, relaxed }: WasmBuild): URL {
  if (threaded) return relaxed ? BUNDLED.threadedRelaxed : BUNDLED.threaded;
  return relaxed ? BUNDLED.singleRelaxed : BUNDLED.single;
}

/**
 * Instantiates the single-threaded module (once per page or process) and returns the backend
 * over it; `threadsReason` says why it is not the threaded one. A URL or `Response` goes
 * through wasm-bindgen's loader, which compiles while the file downloads
 * (`instantiateStreaming`) when the server sends `application/wasm`.
 */
export async function loadWasmBackend(source: WasmSource, threadsReason: string): Promise<Backend> {
  const { memory } = await init({ module_or_path: source });
  return wasmBackend(bindings, memory, 1, threadsReason);
}

/** The backend over a module instance: `threads` is its pool's size. */
export function wasmBackend(raw: WasmBindings, memory: WebAssembly.Memory, threads: number, threadsReason?: string): Backend {
  // Assigning the generated bindings to our interface makes tsc check their signatures.
  const kernels: Kernels<bindings.Tensor> = raw;
  return {
    name: 'wasm',
    instructionSet: raw.instructionSet(),
    threads,
    ...(threadsReason === undefined ? {} : { threadsReason }),
    tensor(source) {
      const length = typeof source === 'number' ? source : source.length;
      const tensor = new WasmTensor(new raw.Tensor(length), memory);
      if (typeof source !== 'number') tensor.data.set(source);
      return tensor;
    },
    ...bindKernels(kernels, kernelChecks(isWasmTensor), isWasmTensor, (tensor) => tensor.handle),
    createModel: (inputShape, layers) => new WasmModel(raw, memory, inputShape, layers),
    safetensorsIndex: (file) => raw.safetensorsIndex(file),
  };
}
