/**
 * The seeded generator's stream, pinned to an independent implementation of the same
 * algorithms (scripts/fixtures/make_random_reference.py, written from the published
 * definitions of splitmix32 and xoshiro128**): every network's initial weights and every
 * shuffled order come from it, so any change to a step of the stream fails here.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Random } from '../ts/random.js';

interface SeedReference {
  seed: number;
  state: number[];
  nextUint32: number[];
  uniform: number[];
  below10: number[];
  belowLarge: number[];
  normal: number[];
  shuffle10: number[];
}

const fixture = JSON.parse(readFileSync(new URL('./fixtures/random-reference.json', import.meta.url), 'utf8')) as { seeds: SeedReference[]; largeBound: number };

function draws(seed: number, count: number, draw: (random: Random) => number): number[] {
  const random = new Random(seed);
  return Array.from({ length: count }, () => draw(random));
}

describe.each(fixture.seeds.map((reference) => [reference.seed, reference] as const))('seed %d', (seed, reference) => {
  it('seeds the state through splitmix32', () => {
    expect(Array.from(new Random(seed).state())).toEqual(reference.state);
  });

  it('draws the xoshiro128** stream, and uniform() from it', () => {
    expect(draws(seed, 8, (random) => random.nextUint32())).toEqual(reference.nextUint32);
    // x / 2^32 is exact in float64, so these agree to the bit.
    expect(draws(seed, 4, (random) => random.uniform())).toEqual(reference.uniform);
  });

  it('draws below(bound) without modulo bias, rejecting draws past the last whole multiple', () => {
    expect(draws(seed, 8, (random) => random.below(10))).toEqual(reference.below10);
    expect(draws(seed, 8, (random) => random.below(fixture.largeBound))).toEqual(reference.belowLarge);
  });

  it('draws normal deviates by Box-Muller, cos then sin of each pair', () => {
    // Python's libm and V8's may round log, sin and cos differently in the last bit.
    draws(seed, 6, (random) => random.normal()).forEach((value, i) => {
      const expected = reference.normal[i] as number;
      expect(Math.abs(value - expected), `normal ${i}: ${value} vs ${expected}`).toBeLessThanOrEqual(8 * Number.EPSILON * Math.max(1, Math.abs(expected)));
    });
  });

  it('shuffles by Fisher-Yates from the last index down', () => {
    expect(Array.from(new Random(seed).shuffle(Uint32Array.from({ length: 10 }, (_, i) => i)))).toEqual(reference.shuffle10);
  });
});

it('uses only the low 32 bits of the seed', () => {
  expect(new Random(-1).state()).toEqual(new Random(2 ** 32 - 1).state());
  expect(new Random(2 ** 32 + 5).state()).toEqual(new Random(5).state());
  expect(new Random(5).state()).not.toEqual(new Random(6).state());
});

it('continues a stream from its state', () => {
  const random = new Random(9);
  random.nextUint32();
  const copy = new Random(0);
  copy.setState(random.state());
  const next = (generator: Random): number[] => Array.from({ length: 4 }, () => generator.nextUint32());
  expect(next(copy)).toEqual(next(random));
});
