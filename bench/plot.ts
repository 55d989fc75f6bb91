/**
 * The GEMM plot of BENCHMARKS.md: GFLOP/s by n, one line per backend and thread count, as a
 * plain SVG string (no plotting dependency). n is spaced by log2, GFLOP/s on a log10 axis so
 * the ts baseline and OpenBLAS fit on one chart.
 */

import { GEMM_SIZES, type Result } from './spec.js';

const WIDTH = 760;
const HEIGHT = 440;
const PLOT = { left: 64, right: 560, top: 40, bottom: 390 };
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf', '#393b79', '#637939'];

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** An SVG chart of every successful GEMM result. */
export function gemmSvg(results: readonly Result[]): string {
  const series = new Map<string, { n: number; gflops: number }[]>();
  for (const r of results) {
    if (r.case !== 'gemm' || r.n === undefined || r.gflops === undefined || r.gflops <= 0) continue;
    const key = `${r.backend}/${r.threads}`;
    series.set(key, [...(series.get(key) ?? []), { n: r.n, gflops: r.gflops }]);
  }
  const values = [...series.values()].flat().map((p) => p.gflops);
  const low = Math.floor(Math.log10(Math.min(...values, 1)));
  const high = Math.ceil(Math.log10(Math.max(...values, 10)));
  const [first, last] = [Math.log2(Math.min(...GEMM_SIZES)), Math.log2(Math.max(...GEMM_SIZES))];
  const x = (n: number): number => PLOT.left + ((Math.log2(n) - first) / (last - first)) * (PLOT.right - PLOT.left);
  const y = (gflops: number): number => PLOT.bottom - ((Math.log10(gflops) - low) / (high - low)) * (PLOT.bottom - PLOT.top);

  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="white"/>`,
    `<text x="${(PLOT.left + PLOT.right) / 2}" y="22" text-anchor="middle" font-size="14">sgemm, n x n: GFLOP/s (log scale)</text>`,
  ];
  for (let power = low; power <= high; power++) {
    const at = y(10 ** power).toFixed(1);
    parts.push(`<line x1="${PLOT.left}" x2="${PLOT.right}" y1="${at}" y2="${at}" stroke="#ddd"/>`);
    parts.push(`<text x="${PLOT.left - 6}" y="${at}" text-anchor="end" dominant-baseline="middle">${10 ** power}</text>`);
  }
  for (const n of GEMM_SIZES) {
    const at = x(n).toFixed(1);
    parts.push(`<line x1="${at}" x2="${at}" y1="${PLOT.top}" y2="${PLOT.bottom}" stroke="#eee"/>`);
    parts.push(`<text x="${at}" y="${PLOT.bottom + 18}" text-anchor="middle">${n}</text>`);
  }
  parts.push(`<text x="${(PLOT.left + PLOT.right) / 2}" y="${PLOT.bottom + 38}" text-anchor="middle">n</text>`);
  parts.push(`<rect x="${PLOT.left}" y="${PLOT.top}" width="${PLOT.right - PLOT.left}" height="${PLOT.bottom - PLOT.top}" fill="none" stroke="#444"/>`);
  [...series.entries()].forEach(([key, points], index) => {
    const color = PALETTE[index % PALETTE.length] ?? 'black';
    const sorted = points.sort((a, b) => a.n - b.n);
    const path = sorted.map((p) => `${x(p.n).toFixed(1)},${y(p.gflops).toFixed(1)}`).join(' ');
    parts.push(`<polyline points="${path}" fill="none" stroke="${color}" stroke-width="2"/>`);
    for (const p of sorted) parts.push(`<circle cx="${x(p.n).toFixed(1)}" cy="${y(p.gflops).toFixed(1)}" r="3" fill="${color}"/>`);
    const legendY = PLOT.top + 8 + index * 20;
    parts.push(`<line x1="${PLOT.right + 20}" x2="${PLOT.right + 44}" y1="${legendY}" y2="${legendY}" stroke="${color}" stroke-width="2"/>`);
    parts.push(`<text x="${PLOT.right + 50}" y="${legendY}" dominant-baseline="middle">${escape(key)}</text>`);
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
