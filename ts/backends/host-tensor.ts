import type { Tensor } from './backend.js';

/** A tensor over an ordinary `Float32Array`, for the backends that compute in the JS heap's memory (ts, native). */
export class HostTensor implements Tensor {
  readonly length: number;
  #data: Float32Array | null;

  constructor(data: Float32Array) {
    this.#data = data;
    this.length = data.length;
  }

  /** A tensor of `source` zeros, or around `source` itself when it is a `Float32Array` (no copy). */
  static from(source: number | ArrayLike<number>): HostTensor {
    if (source instanceof Float32Array) return new HostTensor(source);
    return new HostTensor(typeof source === 'number' ? new Float32Array(source) : Float32Array.from(source));
  }

  get data(): Float32Array {
    if (!this.#data) throw new RangeError('tensor: used after dispose()');
    return this.#data;
  }

  get disposed(): boolean {
    return this.#data === null;
  }

  overlaps(other: Tensor): boolean {
    if (!(other instanceof HostTensor) || this.disposed || other.disposed) return false;
    const a = this.data;
    const b = other.data;
    if (a.buffer !== b.buffer || a.length === 0 || b.length === 0) return false;
    return a.byteOffset < b.byteOffset + b.byteLength && b.byteOffset < a.byteOffset + a.byteLength;
  }

  dispose(): void {
    this.#data = null;
  }
}

export function isHostTensor(value: unknown): value is HostTensor {
  return value instanceof HostTensor;
}
