/** Runs one row of one case in a child process with the row's environment, and collects its results. */

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import { removePeerInputs, writePeerInputs } from './peer-inputs.js';
import type { Row } from './rows.js';
import { GEMM_SIZES, PACES, type CaseName, type Result } from './spec.js';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const NUMPY_SCRIPT = fileURLToPath(new URL('./numpy_gemm.py', import.meta.url));
const VENV_PYTHON = fileURLToPath(new URL('../.venv/bin/python3', import.meta.url));

/**
 * The Python of every Python row (numpy, torch, jax): `FERRONET_BENCH_PYTHON` when set (for
 * example a virtual environment with PyTorch and JAX, which setup never installs), else the
 * project's `.venv` (made by `npm run setup`, with numpy), else `python3` on the PATH.
 */
export function benchPython(): string {
  const chosen = process.env.FERRONET_BENCH_PYTHON;
  if (chosen !== undefined && chosen !== '') return chosen;
  return existsSync(VENV_PYTHON) ? VENV_PYTHON : 'python3';
}

/** A row that takes longer is stuck (the slowest peers need about two minutes, tfjs-cpu's CNN about ten). */
const ROW_TIMEOUT_MS = 30 * 60_000;

function childEnv(row: Row): NodeJS.ProcessEnv {
  // A variable the row maps to undefined is left out, even when the caller has it set.
  return Object.fromEntries(Object.entries({ ...process.env, ...row.env }).filter(([, value]) => value !== undefined));
}

function command(row: Row, name: CaseName, inputs: string | undefined): [string, string[]] {
  if (row.runner === 'numpy') return [benchPython(), [NUMPY_SCRIPT, row.backend, String(row.threads), ...GEMM_SIZES.map(String)]];
  if (row.runner === 'python') {
    const script = fileURLToPath(new URL(`./${row.script ?? ''}`, import.meta.url));
    return [benchPython(), [script, name, row.backend, String(row.threads), inputs ?? '']];
  }
  return [process.execPath, ['--import', 'tsx', CHILD, name, row.backend, String(row.threads)]];
}

/**
 * Runs `row` on case `name`. The child writes one JSON result per line to file descriptor 3,
 * keeping its stdout free for libraries that print banners (shown on our stderr). Each result
 * is passed to `onResult` as it arrives; a child that fails without saying why becomes an
 * error result.
 */
export function runRow(row: Row, name: CaseName, onResult: (result: Result) => void): Promise<void> {
  const [load = 0] = loadavg();
  const load1 = Math.round(load * 100) / 100;
  let reported = 0;
  const report = (result: Result): void => {
    reported++;
    onResult({ ...result, load1 });
  };
  const fail = (error: string): void => {
    report({ case: name, backend: row.backend, threads: row.threads, error });
  };
  let inputs: string | undefined;
  if (row.runner === 'python') {
    try {
      inputs = writePeerInputs(name, row.pace ?? PACES.fast);
    } catch (error) {
      fail(`preparing the inputs: ${error instanceof Error ? error.message : String(error)}`);
      return Promise.resolve();
    }
  }
  const [file, args] = command(row, name, inputs);
  const child = spawn(file, args, { env: childEnv(row), stdio: ['ignore', 2, 2, 'pipe'] });
  // Not spawn's own timeout option: its timer outlives a child that never started and would
  // keep this process alive for the whole timeout.
  const timer = setTimeout(() => child.kill('SIGTERM'), ROW_TIMEOUT_MS);
  let pending = '';
  child.stdio[3]?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) report(JSON.parse(line) as Result);
  });
  return new Promise((resolve) => {
    const done = (): void => {
      clearTimeout(timer);
      if (inputs !== undefined) removePeerInputs(inputs);
      resolve();
    };
    child.on('error', (error) => {
      fail(`${file}: ${error.message}`);
      // A child that never started may emit no 'close': free its pipes here.
      for (const stream of child.stdio) stream?.destroy();
      done();
    });
    child.on('close', (code, signal) => {
      if (code !== 0 && reported === 0) fail(`the child process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`);
      done();
    });
  });
}
