/**
 * The order in which a fit visits its batches, cut into calls to a backend. Each epoch visits
 * every sample once, in a fresh seeded order (or in order), in batches of `batchSize` (the
 * last may be smaller); a call covers whole batches of one epoch, or whole epochs when nothing
 * needs to see the network between epochs.
 */

import type { Random } from './random.js';

/** The batches of one call, in buffers the plan reuses from call to call. */
export interface PlannedCall {
  /** Sample rows in visiting order. */
  indices: Uint32Array;
  /** End offset of each batch within `indices`. */
  ends: Uint32Array;
  /** Epoch of the first batch (0-based, within this fit). */
  epoch: number;
  /** Its batch within that epoch. */
  batch: number;
}

/** Most batches one call may plan. */
const MAX_BATCHES_PER_CALL = 1 << 16;

/**
 * Most indices a call spanning epochs may hold (1 MiB): the buffer is reused from call to
 * call, and a small one stays in cache, where a larger one would be fresh memory, whose
 * first writes (page faults) cost more than the calls it saves.
 */
const MAX_INDICES_PER_CALL = 1 << 18;

export class BatchPlan {
  /** Batches in one epoch. */
  readonly batchesPerEpoch: number;
  readonly #samples: number;
  readonly #batchSize: number;
  readonly #epochs: number;
  readonly #random: Random | null;
  /** The current epoch's order, used by calls that stay within an epoch. */
  readonly #order: Uint32Array;
  /** 0..n-1, copied in at the start of every epoch. */
  readonly #identity: Uint32Array;
  #indices = new Uint32Array(0);
  /** Leading epochs of `#indices` that already hold 0..n-1, which an unshuffled plan keeps rather than rewrites. */
  #inOrderEpochs = 0;
  #ends = new Uint32Array(0);
  #epoch = 0;
  #batch = 0;

  /** `random` shuffles each epoch; `null` visits the samples in order. */
  constructor(samples: number, batchSize: number, epochs: number, random: Random | null) {
    this.#samples = samples;
    this.#batchSize = batchSize;
    this.#epochs = epochs;
    this.#random = random;
    this.batchesPerEpoch = Math.ceil(samples / batchSize);
    this.#order = new Uint32Array(samples);
    this.#identity = Uint32Array.from({ length: samples }, (_, i) => i);
  }

  /** Whether every epoch has been planned. */
  get done(): boolean {
    return this.#epoch >= this.#epochs;
  }

  /** Whether the next call begins an epoch. */
  get atEpochStart(): boolean {
    return this.#batch === 0;
  }

  /** Samples in batch `batch` of an epoch. */
  rowsOf(batch: number): number {
    return Math.min(this.#batchSize, this.#samples - batch * this.#batchSize);
  }

  /**
   * Plans the next call: up to `budget` batches from where the last call ended, crossing into
   * later epochs only when `acrossEpochs` (then a call is whole epochs).
   */
  next(budget: number, acrossEpochs: boolean): PlannedCall {
    const { batchesPerEpoch } = this;
    const wanted = Math.max(1, Math.min(budget, MAX_BATCHES_PER_CALL));
    const start = { epoch: this.#epoch, batch: this.#batch };
    const wholeEpochs = Math.min(
      Math.floor(wanted / batchesPerEpoch),
      Math.floor(MAX_INDICES_PER_CALL / this.#samples),
      this.#epochs - this.#epoch,
    );
    if (acrossEpochs && this.#batch === 0 && wholeEpochs > 1) {
      const indices = this.#reserve(wholeEpochs * this.#samples, wholeEpochs * batchesPerEpoch);
      const kept = this.#random === null ? this.#inOrderEpochs : 0;
      for (let e = 0; e < wholeEpochs; e++) {
        if (e >= kept) this.#shuffleEpoch(indices, e * this.#samples);
        this.#writeEnds(e * batchesPerEpoch, 0, batchesPerEpoch, e * this.#samples);
      }
      if (this.#random === null) this.#inOrderEpochs = Math.max(kept, wholeEpochs);
      this.#epoch += wholeEpochs;
      return { indices, ends: this.#ends.subarray(0, wholeEpochs * batchesPerEpoch), ...start };
    }
    if (this.#batch === 0) this.#shuffleEpoch(this.#order, 0);
    const count = Math.min(wanted, batchesPerEpoch - this.#batch);
    const first = this.#batch * this.#batchSize;
    const indices = this.#order.subarray(first, Math.min(first + count * this.#batchSize, this.#samples));
    this.#reserve(0, count);
    this.#writeEnds(0, this.#batch, count, -first);
    this.#batch += count;
    if (this.#batch === batchesPerEpoch) {
      this.#epoch += 1;
      this.#batch = 0;
    }
    return { indices, ends: this.#ends.subarray(0, count), ...start };
  }

  /**
   * Writes an epoch's order at `target[offset..]`: 0..n-1, shuffled when the plan
   * shuffles, so epoch k's order depends on the seed and k alone.
   */
  #shuffleEpoch(target: Uint32Array, offset: number): void {
    target.set(this.#identity, offset);
    this.#random?.shuffle(target.subarray(offset, offset + this.#samples));
  }

  /** Writes the ends of `count` batches starting at batch `batch` of an epoch, shifted by `offset`, at `ends[at..]`. */
  #writeEnds(at: number, batch: number, count: number, offset: number): void {
    for (let b = 0; b < count; b++) {
      this.#ends[at + b] = Math.min((batch + b + 1) * this.#batchSize, this.#samples) + offset;
    }
  }

  /** Grows the reusable buffers to `indices` indices and `batches` ends; returns the index buffer. */
  #reserve(indices: number, batches: number): Uint32Array {
    if (this.#indices.length < indices) {
      this.#indices = new Uint32Array(indices);
      this.#inOrderEpochs = 0;
    }
    if (this.#ends.length < batches) this.#ends = new Uint32Array(batches);
    return this.#indices.subarray(0, indices);
  }
}
