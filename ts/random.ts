/** An array of numbers that {@link Random.shuffle} can permute in place. */
export type NumberArray = number[] | Float32Array | Float64Array | Int32Array | Uint32Array | Uint16Array | Uint8Array;

/**
 * ferronet's seeded random generator: xoshiro128** (Blackman & Vigna), seeded through
 * splitmix32. It drives weight initialization and shuffling in TypeScript for every backend,
 * so one seed gives the same starting weights and the same batches everywhere.
 */
export class Random {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;
  /** The second value of the last Box-Muller pair, or null. */
  #spareNormal: number | null = null;

  /** `seed` is any integer; only its low 32 bits matter. */
  constructor(seed: number) {
    let state = seed >>> 0;
    const splitmix32 = (): number => {
      state = (state + 0x9e3779b9) >>> 0;
      let z = state;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.#s0 = splitmix32();
    this.#s1 = splitmix32();
    this.#s2 = splitmix32();
    this.#s3 = splitmix32();
  }

  /** The generator's four state words, for a backend to continue the same stream (Box-Muller's spare is not part of it). */
  state(): Uint32Array {
    return Uint32Array.of(this.#s0, this.#s1, this.#s2, this.#s3);
  }

  /** Continues from `state` (four words from {@link Random.state}). */
  setState(state: Uint32Array): void {
    [this.#s0, this.#s1, this.#s2, this.#s3] = [state[0] ?? 0, state[1] ?? 0, state[2] ?? 0, state[3] ?? 0].map((word) => word | 0) as [number, number, number, number];
    this.#spareNormal = null;
  }

  /** A uniformly distributed 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.#s1, 5), 7), 9) >>> 0;
    const t = this.#s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= this.#s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }

  /** Uniform in `[0, 1)`, with 32 random bits. */
  uniform(): number {
    return this.nextUint32() / 4294967296;
  }

  /** Uniform integer in `[0, bound)`, without modulo bias. */
  below(bound: number): number {
    const limit = 4294967296 - (4294967296 % bound);
    let value = this.nextUint32();
    while (value >= limit) value = this.nextUint32();
    return value % bound;
  }

  /** A standard normal deviate (Box-Muller; the pair's second value is kept for the next call). */
  normal(): number {
    if (this.#spareNormal !== null) {
      const spare = this.#spareNormal;
      this.#spareNormal = null;
      return spare;
    }
    // 1 - uniform() is in (0, 1], so the logarithm is finite.
    const radius = Math.sqrt(-2 * Math.log(1 - this.uniform()));
    const angle = 2 * Math.PI * this.uniform();
    this.#spareNormal = radius * Math.sin(angle);
    return radius * Math.cos(angle);
  }

  /** Shuffles `values` in place (Fisher-Yates) and returns it. */
  shuffle<T extends NumberArray>(values: T): T {
    for (let i = values.length - 1; i > 0; i--) {
      const j = this.below(i + 1);
      const swap = values[i] as number;
      values[i] = values[j] as number;
      values[j] = swap;
    }
    return values;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
