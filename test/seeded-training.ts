/**
 * What the runs that train to compare backends or builds share: the Node child processes of
 * test/backends/ and the Chromium worker of test/browser/threads.test.ts. So: no test runner
 * and no Node built-ins here, and only types from ferronet, whose entry each side imports itself.
 */

import type { Network, Random } from '../ts/index.js';

/** `samples` rows of `features` uniform values in [0, 1), then a class index 0..classes-1 for each. */
export function randomClassification(random: Random, samples: number, features: number, classes = 10): { x: Float32Array; y: Uint8Array } {
  const x = Float32Array.from({ length: samples * features }, () => random.uniform());
  const y = Uint8Array.from({ length: samples }, () => Math.floor(random.uniform() * classes));
  return { x, y };
}

/** Every parameter of `net`, layer by layer, as one list of numbers (to compare or send as JSON). */
export function flatParameters(net: Network): number[] {
  return net.getWeights().flatMap((layer) => Object.values(layer).flatMap((values: Float32Array) => Array.from(values)));
}
