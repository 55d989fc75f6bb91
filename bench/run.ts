/**
 * `npm run bench`: every case on every row, one child process per row at a time (never two
 * benchmarks at once), then a Markdown report. Options:
 *
 *   --json           one JSON result per line on stdout instead of the report (progress on stderr)
 *   --only LIST      only these cases, comma-separated: gemm, mlp, planar, inference, cnn
 *   --backend LIST   only these rows' backends, comma-separated (e.g. native,numpy)
 *   --max-wait S     before each row, wait up to S seconds (default 120, 0: never) until the
 *                    cores the row needs are idle (a 1-thread row tolerates work on other cores)
 */

import { availableParallelism } from 'node:os';
import { parseArgs } from 'node:util';
import { formatReport } from './format.js';
import { waitForIdle } from './idle.js';
import { ROWS } from './rows.js';
import { runRow } from './spawn.js';
import { CASES, type CaseName, type Result } from './spec.js';

const { values: options } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    only: { type: 'string' },
    backend: { type: 'string' },
    'max-wait': { type: 'string', default: '120' },
  },
});

const only = options.only?.split(',');
const unknownCase = only?.find((name) => !(CASES as readonly string[]).includes(name));
if (unknownCase !== undefined) throw new Error(`--only: expected cases among ${CASES.join(', ')}, got '${unknownCase}'`);
const cases = CASES.filter((name) => only?.includes(name) ?? true);
const backends = options.backend?.split(',');
const rows = ROWS.filter((row) => backends?.includes(row.backend) ?? true);
if (rows.length === 0) throw new Error(`--backend: no row is named ${backends?.join(', ')} (${[...new Set(ROWS.map((r) => r.backend))].join(', ')})`);

const maxWaitMs = Number(options['max-wait']) * 1000;
if (!(maxWaitMs >= 0)) throw new Error(`--max-wait: expected seconds, got '${options['max-wait']}'`);

const results: Result[] = [];
for (const name of cases as readonly CaseName[]) {
  for (const row of rows.filter((r) => r.cases.includes(name))) {
    if (maxWaitMs > 0) {
      // Busy fraction that still leaves `threads` cores free, with 10% of slack for daemons.
      const limit = Math.max(0, 1 - row.threads / availableParallelism()) + 0.1;
      await waitForIdle(limit, maxWaitMs, (busy) => {
        process.stderr.write(`bench: waiting for an idle machine (${Math.round(100 * busy)}% busy)\n`);
      });
    }
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
