import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Training tests do real work; two cores run them in parallel.
    testTimeout: 60_000,
    // The memory tests call gc() to measure what is really retained.
    execArgv: ['--expose-gc'],
  },
});
