/**
 * Results as Markdown: per case, a table of every row with its speedup over the ts baseline,
 * a table of ferronet's speedups over each peer, and the targets of issues 5 and 14, met or
 * missed. `npm run bench` prints this; bench/report.ts makes it from a saved JSON-lines file.
 */

import { isFerronet } from './rows.js';
import { CASES, GEMM_SIZES, INFERENCE_BATCHES, learned, PACES, type CaseName, type Result } from './spec.js';

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

/** A loss as text: JSON turns NaN and infinities into null. */
function lossText(loss: number | null | undefined): string {
  return typeof loss === 'number' ? loss.toFixed(3) : 'NaN';
}

/** The first and last training loss, flagged when the loss did not fall (see `learned`). */
function lossNote(result: Result): string | undefined {
  const fell = learned(result);
  if (fell === undefined) return undefined;
  const losses = `loss ${lossText(result.firstLoss)} → ${lossText(result.lastLoss)}`;
  return fell ? losses : `**${losses}: the loss did not fall, so this row's network did not learn**`;
}

/** Where a training row did less work than the case's reference pace (`PACES.fast`). */
function paceNote(name: CaseName, result: Result): string | undefined {
  const reference = name === 'mlp' ? [PACES.fast.mlpSamples, PACES.fast.mlpEpochs] : name === 'cnn' ? [PACES.fast.cnnSamples, PACES.fast.cnnEpochs] : undefined;
  if (reference === undefined || result.samples === undefined || result.epochs === undefined) return undefined;
  const [samples, epochs] = reference as [number, number];
  if (result.samples === samples && result.epochs === epochs) return undefined;
  return `${number(result.samples)} samples per epoch, ${result.epochs} timed (reference ${number(samples)}, ${epochs}: too slow for it)`;
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
    const notes = [
      first?.kernel && `kernel ${first.kernel}`,
      first && lossNote(first),
      first && paceNote(name, first),
      typeof first?.cpuPerWall === 'number' && `CPU ${first.cpuPerWall.toFixed(2)} s per s`,
      first?.note,
      first?.error && `**error:** ${first.error}`,
    ].filter(Boolean);
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
  if (name === 'gemm') return found?.gflops;
  return name === 'mlp' || name === 'cnn' ? found?.samplesPerSec : found?.ms;
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
  add({ case: 'mlp', text: 'MLP training, wasm 1 thread ≥ 2× tfjs-backend-wasm', measured: get('mlp', 'wasm', one), reference: tfjsWasm, referenceText: 'tfjs-wasm', needed: 2 });
  for (const [label, threads] of Object.entries(THREADS)) {
    add({ case: 'planar', text: `planar 10,000 steps, native ${label} < 20 ms`, measured: get('planar', 'native', threads), reference: 20, referenceText: 'limit', needed: 1 }, false);
  }
  add({ case: 'planar', text: 'planar 10,000 steps, wasm 1 thread < 60 ms', measured: get('planar', 'wasm', one), reference: 60, referenceText: 'limit', needed: 1 }, false);
  // Issue 14: against JAX and PyTorch on the same CPU, 1 thread against 1 and all against all.
  for (const [label, threads] of Object.entries(THREADS)) {
    const native = get('mlp', 'native', threads);
    add({ case: 'mlp', text: `[14] MLP training, native ${label} ≥ 1.3× JAX`, measured: native, reference: get('mlp', 'jax', threads), referenceText: `jax, ${label}`, needed: 1.3 });
    add({ case: 'mlp', text: `[14] MLP training, native ${label} ≥ 2× PyTorch`, measured: native, reference: get('mlp', 'torch', threads), referenceText: `torch, ${label}`, needed: 2 });
  }
  for (const [label, threads] of Object.entries(THREADS)) {
    const jax = get('planar', 'jax', threads);
    add({ case: 'planar', text: `[14] planar, native ${label} in ≤ 1/3 of JAX's time`, measured: get('planar', 'native', threads), reference: jax, referenceText: `jax, ${label}`, needed: 3 }, false);
  }
  add({ case: 'planar', text: '[14] planar, wasm 1 thread no slower than JAX (1 thread)', measured: get('planar', 'wasm', one), reference: get('planar', 'jax', one), referenceText: 'jax, 1 thread', needed: 1 }, false);
  for (const [label, threads] of Object.entries(THREADS)) {
    add({ case: 'cnn', text: `[14] CNN training, native ${label} ≥ 1.5× PyTorch`, measured: get('cnn', 'native', threads), reference: get('cnn', 'torch', threads), referenceText: `torch, ${label}`, needed: 1.5 });
  }
  // The issue's thread gains: all threads against one, on the same backend and run.
  for (const backend of ['wasm', 'native']) {
    const needed = backend === 'wasm' ? 1.6 : 1.48;
    const text = `[14] MLP training, ${backend} all threads ≥ ${needed}× its 1 thread${backend === 'native' ? ' (raised from 1.48×)' : ''}`;
    add({ case: 'mlp', text, measured: get('mlp', backend, THREADS['all threads']), reference: get('mlp', backend, one), referenceText: `${backend}, 1 thread`, needed });
  }
  add({ case: 'cnn', text: '[14] CNN training, wasm 1 thread ≥ 5× tfjs-cpu', measured: get('cnn', 'wasm', one), reference: get('cnn', 'tfjs-cpu', anyThreads), referenceText: 'tfjs-cpu', needed: 5 });
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
  if (goals) sections.push(`### Targets of issues 5 and 14 ([14]: against JAX and PyTorch)\n\n${goals}`);
  return `${sections.join('\n\n')}\n`;
}
