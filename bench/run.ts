/**
 * `npm run bench`: every case on every row, one child process per row at a time (never two
 * benchmarks at once), then a Markdown report. Options:
 *
 *   --json           one JSON result per line on stdout instead of the report (progress on stderr)
 *   --only CASE      one case: gemm, mlp, planar or inference
 *   --backend LIST   only these rows' backends, comma-separated (e.g. native,numpy)
 */

import { parseArgs } from 'node:util';
import { formatReport } from './format.js';
import { ROWS } from './rows.js';
import { runRow } from './spawn.js';
import { CASES, type CaseName, type Result } from './spec.js';

const { values: options } = parseArgs({
  options: { json: { type: 'boolean', default: false }, only: { type: 'string' }, backend: { type: 'string' } },
});

const cases = options.only === undefined ? CASES : CASES.filter((name) => name === options.only);
if (cases.length === 0) throw new Error(`--only: expected one of ${CASES.join(', ')}, got '${options.only}'`);
const backends = options.backend?.split(',');
const rows = ROWS.filter((row) => backends?.includes(row.backend) ?? true);
if (rows.length === 0) throw new Error(`--backend: no row is named ${backends?.join(', ')} (${[...new Set(ROWS.map((r) => r.backend))].join(', ')})`);

const results: Result[] = [];
for (const name of cases as readonly CaseName[]) {
  for (const row of rows.filter((r) => r.cases.includes(name))) {
    const started = performance.now();
    process.stderr.write(`bench: ${name} ${row.backend}/${row.threads} ...\n`);
    await runRow(row, name, (result) => {
      results.push(result);
      if (options.json) process.stdout.write(`${JSON.stringify(result)}\n`);
    });
    process.stderr.write(`bench: ${name} ${row.backend}/${row.threads} done in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
  }
}
if (!options.json) process.stdout.write(formatReport(results));
