/** What the CLI tests share: running the built `ferronet` command as users run it, and small IDX data sets. */

import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { expect } from 'vitest';
import type { Random } from '../../ts/random.js';
import { idx } from '../datasets/make-idx.js';
import { nativeInstructionSet } from '../helpers.js';

/** The built command (dist/cli/main.js, made by `npm run build`). */
export const CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

/** What `train`'s first line says the native backend computes with: this CPU's kernels (read from /proc/cpuinfo) on all its threads. */
export const NATIVE_COMPUTE = `${nativeInstructionSet()}, ${availableParallelism()} thread${availableParallelism() === 1 ? '' : 's'}`;

/** How a run of the command ended. */
export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `ferronet ARGS...` in `directory`, resolving with its exit status and output. */
export function ferronetIn(directory: string): (...args: string[]) => Promise<Run> {
  return (...args) =>
    new Promise((resolve) => {
      execFile(process.execPath, [CLI, ...args], { cwd: directory }, (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code) : 0, stdout, stderr });
      });
    });
}

/** A usage or data error: one line on stderr, no stack trace, the given exit status. */
export function expectOneLineError(run: Run, code: number, message: string | RegExp): void {
  expect(run.code).toBe(code);
  expect(run.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(run.stderr).not.toMatch(/\n\s+at /);
  expect(run.stderr).toMatch(message);
}

/**
 * Writes `count` tiny 4 x 4 "images" as Fashion-MNIST's files of `split` (`train`, `t10k`) into
 * `folder`: the label (0 to 3) is the row holding a bright bar.
 */
export async function writeBarImages(folder: string, split: string, count: number, random: Random): Promise<void> {
  const labels = Uint8Array.from({ length: count }, () => random.below(4));
  const pixels = new Uint8Array(count * 16);
  labels.forEach((label, i) => {
    for (let p = 0; p < 16; p++) pixels[i * 16 + p] = Math.floor(p / 4) === label ? 200 + random.below(56) : random.below(60);
  });
  await writeFile(join(folder, `${split}-images-idx3-ubyte.gz`), gzipSync(idx([count, 4, 4], pixels)));
  await writeFile(join(folder, `${split}-labels-idx1-ubyte`), idx([count], labels));
}
