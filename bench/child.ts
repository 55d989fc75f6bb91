/**
 * One row of one case, in a process of its own: `child.ts CASE BACKEND THREADS`. Writes its
 * results, or the error that stopped it, as JSON lines to file descriptor 3 (see spawn.ts).
 */

import { writeSync } from 'node:fs';
import { runCase } from './cases.js';
import { CASES, type CaseName, type Result } from './spec.js';
import { loadSubject } from './subjects/index.js';

const [name = '', backend = '', requested = '1'] = process.argv.slice(2);

function emit(result: Omit<Result, 'case' | 'backend' | 'threads'>, threads = Number(requested)): void {
  // Key order is the JSON line's: what, who, parameters, threads, figures.
  const { n, batch, steps, samples, epochs, ...rest } = result;
  writeSync(3, `${JSON.stringify({ case: name, backend, n, batch, steps, samples, epochs, threads, ...rest })}\n`);
}

try {
  if (!(CASES as readonly string[]).includes(name)) throw new Error(`unknown case '${name}' (${CASES.join(', ')})`);
  const caseName = name as CaseName;
  const subject = await loadSubject(backend, Number(requested));
  const note = subject.notes?.[caseName];
  await runCase(caseName, subject, (measurement) => {
    emit({ ...measurement, ...(note ? { note } : {}) }, subject.threads);
  });
} catch (error) {
  emit({ error: error instanceof Error ? error.message : String(error) });
  process.exitCode = 1;
}
