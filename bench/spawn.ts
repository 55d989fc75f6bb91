/** Runs one row of one case in a child process with the row's environment, and collects its results. */

import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { fileURLToPath } from 'node:url';
import type { Row } from './rows.js';
import { GEMM_SIZES, type CaseName, type Result } from './spec.js';

const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));
const NUMPY_SCRIPT = fileURLToPath(new URL('./numpy_gemm.py', import.meta.url));
/** A row that takes longer is stuck (the slowest peers need about two minutes, tfjs-cpu's CNN about ten). */
const ROW_TIMEOUT_MS = 30 * 60_000;

function childEnv(row: Row): NodeJS.ProcessEnv {
  // A variable the row maps to undefined is left out, even when the caller has it set.
  return Object.fromEntries(Object.entries({ ...process.env, ...row.env }).filter(([, value]) => value !== undefined));
}

function command(row: Row, name: CaseName): [string, string[]] {
  if (row.runner === 'numpy') return ['python3', [NUMPY_SCRIPT, row.backend, String(row.threads), ...GEMM_SIZES.map(String)]];
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
  const [file, args] = command(row, name);
  const child = spawn(file, args, { env: childEnv(row), stdio: ['ignore', 2, 2, 'pipe'], timeout: ROW_TIMEOUT_MS });
  let reported = 0;
  const report = (result: Result): void => {
    reported++;
    onResult({ ...result, load1 });
  };
  const fail = (error: string): void => {
    report({ case: name, backend: row.backend, threads: row.threads, error });
  };
  let pending = '';
  child.stdio[3]?.on('data', (chunk: Buffer) => {
    const lines = (pending + chunk.toString('utf8')).split('\n');
    pending = lines.pop() ?? '';
    for (const line of lines.filter(Boolean)) report(JSON.parse(line) as Result);
  });
  return new Promise((resolve) => {
    child.on('error', (error) => {
      fail(`${file}: ${error.message}`);
      resolve();
    });
    child.on('close', (code, signal) => {
      if (code !== 0 && reported === 0) fail(`the child process ${signal ? `was killed by ${signal}` : `exited with code ${code}`}`);
      resolve();
    });
  });
}
