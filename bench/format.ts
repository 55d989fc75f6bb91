/**
 * Results as Markdown: per case, a table of every row with its speedup over the ts baseline,
 * a table of ferronet's speedups over each peer, and issue 5's targets, met or missed.
 * `npm run bench` prints this; bench/report.ts makes it from a saved JSON-lines file.
 */

import { isFerronet } from './rows.js';
import { CASES, GEMM_SIZES, INFERENCE_BATCHES, type CaseName, type Result } from './spec.js';

/** One figure of a case: which result holds it, and whether more is better. */
interface Column {
  label: string;
  match: (result: Result) => boolean;
  value: (result: Result) => number | undefined;
  higherIsBetter: boolean;
}

const [smallBatch, largeBatch] = INFERENCE_BATCHES;

const COLUMNS: Record<CaseName, Column[]> = {
  gemm: GEMM_SIZES.map((n) => ({ label: `n=${n}`, match: (r) => r.n === n, value: (r) => r.gflops, higherIsBetter: true })),
  mlp: [{ label: 'samples/s', match: () => true, value: (r) => r.samplesPerSec, higherIsBetter: true }],
  planar: [{ label: 'ms', match: () => true, value: (r) => r.ms, higherIsBetter: false }],
  inference: [
    { label: `batch ${smallBatch} latency (ms)`, match: (r) => r.batch === smallBatch, value: (r) => r.latencyMs, higherIsBetter: false },
    { label: `batch ${largeBatch} (samples/s)`, match: (r) => r.batch === largeBatch, value: (r) => r.samplesPerSec, higherIsBetter: true },
  ],
  cnn: [{ label: 'samples/s', match: () => true, value: (r) => r.samplesPerSec, higherIsBetter: true }],
};

const TITLES: Record<CaseName, string> = {
  gemm: 'sgemm C = A B, n x n (GFLOP/s, higher is better)',
  mlp: 'MLP 784-256-128-10 training on Fashion-MNIST (samples/s, higher is better)',
  planar: 'planar 2-4-1, 10,000 full-batch steps (ms, lower is better)',
  inference: 'MLP 784-256-128-10 inference',
  cnn: 'CNN conv32-pool-conv64-pool-dense128-10 training on Fashion-MNIST (samples/s, higher is better)',
};

/** A row of a table: one backend at one thread count. */
interface Line {
  key: string;
  backend: string;
  threads: number;
  results: Result[];
}

function lines(results: readonly Result[], name: CaseName): Line[] {
  const byKey = new Map<string, Line>();
  for (const result of results.filter((r) => r.case === name)) {
    const key = `${result.backend}/${result.threads}`;
    const line = byKey.get(key) ?? { key, backend: result.backend, threads: result.threads, results: [] };
    line.results.push(result);
    byKey.set(key, line);
  }
  return [...byKey.values()];
}

function figure(line: Line | undefined, column: Column): number | undefined {
  const result = line?.results.find((r) => r.error === undefined && column.match(r));
  return result && column.value(result);
}

/** How many times faster `value` is than `reference` (above 1: faster). */
function speedup(value: number | undefined, reference: number | undefined, higherIsBetter: boolean): number | undefined {
  if (value === undefined || reference === undefined || value <= 0 || reference <= 0) return undefined;
  return higherIsBetter ? value / reference : reference / value;
}

/** Three significant digits, without exponent notation. */
function number(value: number): string {
  if (value >= 1000) return Math.round(value).toLocaleString('en-US');
  return value.toPrecision(3);
}

function times(ratio: number | undefined): string {
  return ratio === undefined ? '–' : `${number(ratio)}×`;
}

function table(header: string[], body: string[][]): string {
  const rule = header.map(() => '---');
  return [header, rule, ...body].map((cells) => `| ${cells.join(' | ')} |`).join('\n');
}

function mainTable(name: CaseName, caseLines: Line[]): string {
  const baseline = caseLines.find((line) => line.backend === 'ts');
  const columns = COLUMNS[name];
  const header = ['backend', 'threads', ...columns.map((c) => `${c.label} (vs ts)`), 'notes'];
  const body = caseLines.map((line) => {
    const cells = columns.map((column) => {
      const value = figure(line, column);
      if (value === undefined) return '–';
      return `${number(value)} (${times(speedup(value, figure(baseline, column), column.higherIsBetter))})`;
    });
    const first = line.results[0];
    const losses = first?.firstLoss !== undefined && first.lastLoss !== undefined && `loss ${first.firstLoss.toFixed(3)} → ${first.lastLoss.toFixed(3)}`;
    const notes = [first?.kernel && `kernel ${first.kernel}`, losses, first?.note, first?.error && `**error:** ${first.error}`].filter(Boolean);
    return [line.backend, String(line.threads), ...cells, notes.join('; ')];
  });
  return table(header, body);
}

function peerTable(name: CaseName, caseLines: Line[]): string | undefined {
  const ours = caseLines.filter((line) => isFerronet(line.backend));
  const peers = caseLines.filter((line) => !isFerronet(line.backend) && line.results.some((r) => r.error === undefined));
  if (ours.length === 0 || peers.length === 0) return undefined;
  const columns = COLUMNS[name];
  const body = ours.flatMap((line) =>
    columns.map((column) => [
      `${line.key}${columns.length > 1 ? ` ${column.label}` : ''}`,
      ...peers.map((peer) => times(speedup(figure(line, column), figure(peer, column), column.higherIsBetter))),
    ]),
  );
  return table(['ferronet ÷ peer', ...peers.map((peer) => peer.key)], body);
}

/** A target of issue 5: a ferronet figure against a reference figure or a fixed limit. */
interface Target {
  case: CaseName;
  text: string;
  measured: number | undefined;
  reference: number | undefined;
  referenceText: string;
  /** The speedup over the reference that meets the target. */
  needed: number;
  higherIsBetter: boolean;
}

const THREADS = { '1 thread': (t: number) => t === 1, 'all threads': (t: number) => t > 1 } as const;
const anyThreads = (): boolean => true;

/** The headline figure of a case (GFLOP/s, samples/s or ms) for one backend, thread count and size. */
function headline(results: readonly Result[], name: CaseName, backend: string, threads: (t: number) => boolean, n?: number): number | undefined {
  const found = results.find(
    (r) => r.error === undefined && r.case === name && r.backend === backend && threads(r.threads) && (n === undefined || r.n === n),
  );
  return name === 'gemm' ? found?.gflops : name === 'mlp' ? found?.samplesPerSec : found?.ms;
}

function targets(results: readonly Result[]): Target[] {
  const list: Target[] = [];
  const add = (target: Omit<Target, 'higherIsBetter'>, higherIsBetter = true): void => {
    list.push({ ...target, higherIsBetter });
  };
  const get = headline.bind(null, results);
  const one = THREADS['1 thread'];
  const kernel = results.find((r) => r.backend === 'numpy' && r.threads === 1 && r.kernel)?.kernel ?? 'OpenBLAS';
  add({
    case: 'gemm',
    text: 'native sgemm, 1 thread, n=1024 ≥ 90% of OpenBLAS (1 thread)',
    measured: get('gemm', 'native', one, 1024),
    reference: get('gemm', 'numpy', one, 1024),
    referenceText: `numpy/1 (${kernel})`,
    needed: 0.9,
  });
  for (const n of [64, 128]) {
    for (const [label, threads] of Object.entries(THREADS)) {
      const [measured, reference] = [get('gemm', 'native', threads, n), get('gemm', 'numpy', threads, n)];
      add({ case: 'gemm', text: `native sgemm n=${n}, ${label}, faster than numpy's matmul`, measured, reference, referenceText: `numpy, ${label}`, needed: 1 });
    }
  }
  const tfjsWasm = get('mlp', 'tfjs-wasm', anyThreads);
  for (const [label, threads] of Object.entries(THREADS)) {
    const measured = get('mlp', 'native', threads);
    add({ case: 'mlp', text: `MLP training, native ${label} ≥ 10× tfjs-backend-wasm`, measured, reference: tfjsWasm, referenceText: 'tfjs-wasm', needed: 10 });
    add({ case: 'mlp', text: `MLP training, native ${label} ≥ 100× ts`, measured, reference: get('mlp', 'ts', anyThreads), referenceText: 'ts', needed: 100 });
  }
  add({ case: 'mlp', text: 'MLP training, wasm ≥ 2× tfjs-backend-wasm', measured: get('mlp', 'wasm', anyThreads), reference: tfjsWasm, referenceText: 'tfjs-wasm', needed: 2 });
  for (const [label, threads] of Object.entries(THREADS)) {
    add({ case: 'planar', text: `planar 10,000 steps, native ${label} < 20 ms`, measured: get('planar', 'native', threads), reference: 20, referenceText: 'limit', needed: 1 }, false);
  }
  add({ case: 'planar', text: 'planar 10,000 steps, wasm < 60 ms', measured: get('planar', 'wasm', anyThreads), reference: 60, referenceText: 'limit', needed: 1 }, false);
  // A run of some cases (--only) reports only their targets.
  return list.filter((target) => results.some((r) => r.case === target.case));
}

function targetTable(results: readonly Result[]): string | undefined {
  const list = targets(results);
  if (list.length === 0) return undefined;
  const body = list.map((target) => {
    const achieved = speedup(target.measured, target.reference, target.higherIsBetter);
    const verdict =
      achieved === undefined ? 'not measured' : achieved >= target.needed ? 'met' : `**missed**: needs ${number(target.needed / achieved)}× more`;
    return [
      target.text,
      target.measured === undefined ? '–' : number(target.measured),
      `${target.referenceText}: ${target.reference === undefined ? '–' : number(target.reference)}`,
      `${times(achieved)} (needs ${number(target.needed)}×)`,
      verdict,
    ];
  });
  return table(['target', 'measured', 'reference', 'speedup over reference', 'verdict'], body);
}

/** The whole report for a run's results. */
export function formatReport(results: readonly Result[]): string {
  const sections: string[] = [];
  for (const name of CASES) {
    const caseLines = lines(results, name);
    if (caseLines.length === 0) continue;
    sections.push(`### ${TITLES[name]}\n\n${mainTable(name, caseLines)}`);
    const peers = peerTable(name, caseLines);
    if (peers) sections.push(`ferronet's speedup over each peer (above 1: ferronet is faster):\n\n${peers}`);
  }
  const goals = targetTable(results);
  if (goals) sections.push(`### Targets of issue 5\n\n${goals}`);
  return `${sections.join('\n\n')}\n`;
}
