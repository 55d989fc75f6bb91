/**
 * `npx tsx bench/report.ts RESULTS.jsonl [--svg FILE]`: the Markdown report of a saved run
 * (`npm run -s bench -- --json > RESULTS.jsonl`) on stdout, and its GEMM plot as SVG.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { formatReport } from './format.js';
import { gemmSvg } from './plot.js';
import type { Result } from './spec.js';

const { values, positionals } = parseArgs({ options: { svg: { type: 'string' } }, allowPositionals: true });
const [file] = positionals;
if (file === undefined) throw new Error('usage: report.ts RESULTS.jsonl [--svg FILE]');
// Only JSON lines: a file saved through `npm run` without -s also holds npm's banner.
const results = readFileSync(file, 'utf8')
  .split('\n')
  .filter((line) => line.startsWith('{'))
  .map((line) => JSON.parse(line) as Result);
process.stdout.write(formatReport(results));
if (values.svg !== undefined) writeFileSync(values.svg, gemmSvg(results));
