/**
 * What the command line shows while it works: a live progress bar on a terminal, plain lines
 * elsewhere (CI logs), or one JSON object per line for scripts.
 */

import type { Backend } from '../backends/backend.js';
import { describeLayer } from '../layers/index.js';
import type { Network } from '../network.js';
import type { EpochLogs, FitProgress } from '../trainer.js';

/** How results are written: for people, for scripts, or not at all. */
export type OutputMode = 'text' | 'json' | 'quiet';

/** The part of a Node stream the reporter uses (tests pass their own). */
export interface Terminal {
  /** Whether it is a terminal (progress bars need one). */
  isTTY?: boolean;
  /** Its width in characters, on a terminal. */
  columns?: number;
  /** Writes text. */
  write(text: string): unknown;
}

/** Redraw the bar at most this often: smooth to the eye, cheap over ssh. */
const REDRAW_MS = 100;
/** Runs of more epochs than this print every k-th epoch line only (k a round number). */
const MAX_EPOCH_LINES = 50;
const BLOCKS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];

/** Formats whole numbers with thousands separators: `45,102`. */
export function count(value: number): string {
  return Math.round(value).toLocaleString('en-US');
}

/** A fraction as a percentage with two decimals: `88.61%`. */
export function percent(fraction: number): string {
  return `${(100 * fraction).toFixed(2)}%`;
}

/** A learning rate to three significant digits: `0.001`, `0.000812`, `1.2`. */
export function learningRate(rate: number): string {
  return String(Number(rate.toPrecision(3)));
}

/** Seconds as `0.04 s` or `4.2 s` under a minute, else `m:ss` (or `h:mm:ss`). */
export function duration(seconds: number): string {
  if (seconds < 0.995) return `${Math.max(0, seconds).toFixed(2)} s`;
  if (seconds < 59.95) return `${seconds.toFixed(1)} s`;
  const s = Math.round(seconds);
  const clock = `${Math.floor((s % 3600) / 60)}:${String(s % 60).padStart(2, '0')}`;
  return s >= 3600 ? `${Math.floor(s / 3600)}:${clock.padStart(5, '0')}` : clock;
}

/** What a backend computes with, for people: `avx512, 2 threads`, or `wasm-simd, 1 thread: <why>`. */
export function describeCompute(backend: Pick<Backend, 'instructionSet' | 'threads' | 'threadsReason'>): string {
  const threads = `${backend.instructionSet}, ${backend.threads} thread${backend.threads === 1 ? '' : 's'}`;
  return backend.threadsReason === undefined ? threads : `${threads}: ${backend.threadsReason}`;
}

/** A network's layers for people: `2 → 4 tanh → 1 sigmoid`, `28x28x1 → conv2d 32 3x3 same relu → … → 10 softmax`. */
export function describeLayers(network: Network): string {
  return [network.inputShape.join('x'), ...network.layers.map(describeLayer)].join(' → ');
}

/** Reports a command's progress and results in one {@link OutputMode}. */
export class Reporter {
  readonly mode: OutputMode;
  readonly #out: Terminal;
  readonly #err: Terminal;
  #bar = '';
  #lastDraw = -Infinity;
  #started = performance.now();
  /** When the current epoch started: the fit's start, then each epoch's end. */
  #epochStarted = performance.now();
  /** Whether accuracy means anything (classification) and is shown. */
  #accuracy = true;
  /** Epochs trained before this fit (a resumed run's checkpoint had them); the bar counts on from them. */
  #first = 0;

  constructor(mode: OutputMode, out: Terminal, err: Terminal) {
    this.mode = mode;
    this.#out = out;
    this.#err = err;
  }

  /** A line for people (text mode only). */
  info(line: string): void {
    if (this.mode !== 'text') return;
    this.#clearBar();
    this.#out.write(`${line}\n`);
    this.#redrawBar();
  }

  /** A JSON object on its own line (json mode only). */
  json(object: Record<string, unknown>): void {
    if (this.mode === 'json') this.#out.write(`${JSON.stringify(object)}\n`);
  }

  /**
   * Starts the clock of a fit; `accuracy` is false for regression, whose accuracy is
   * meaningless. `first` is the epochs trained before it (resuming from a checkpoint).
   */
  startFit(accuracy: boolean, first = 0): void {
    this.#started = performance.now();
    this.#epochStarted = this.#started;
    this.#accuracy = accuracy;
    this.#first = first;
  }

  /** Redraws the progress bar, on a terminal. */
  progress(progress: FitProgress): void {
    if (this.mode === 'quiet' || this.#err.isTTY !== true) return;
    const time = performance.now();
    if (this.#bar !== '' && time - this.#lastDraw < REDRAW_MS) return;
    this.#lastDraw = time;
    const first = this.#first;
    // The bar covers every epoch, those before a resumed fit too; the time left, this fit's.
    const fit = (progress.epoch + progress.batch / progress.batches) / progress.epochs;
    const done = (first + progress.epoch + progress.batch / progress.batches) / (first + progress.epochs);
    const elapsed = (time - this.#started) / 1000;
    const left = `epoch ${first + progress.epoch + 1}/${first + progress.epochs} `;
    const right =
      ` ${String(Math.floor(done * 100)).padStart(3)}% · batch ${progress.batch}/${progress.batches} · ` +
      `${count(progress.samplesPerSec)} samples/s · loss ${progress.loss.toFixed(4)} · lr ${learningRate(progress.learningRate)} · ETA ${duration(fit > 0 ? (elapsed * (1 - fit)) / fit : 0)}`;
    const width = Math.max(10, (this.#err.columns ?? 80) - left.length - right.length - 1);
    const eighths = Math.round(done * width * 8);
    const bar = ('█'.repeat(Math.floor(eighths / 8)) + (BLOCKS[eighths % 8] as string)).padEnd(width, ' ');
    this.#bar = `${left}${bar}${right}`;
    this.#err.write(`\r${this.#bar}\x1b[K`);
  }

  /**
   * An epoch's figures, its learning rate included: a line (text) or an object (json, with the
   * epoch's wall-clock `seconds`, validation included). Long runs print every k-th line.
   * `epoch` counts from 0 over every epoch, `epochs` those of the whole run.
   */
  epoch(epoch: number, epochs: number, logs: EpochLogs): void {
    const accuracy = (value: number | undefined): number | null => (this.#accuracy && value !== undefined ? value : null);
    const now = performance.now();
    const seconds = (now - this.#epochStarted) / 1000;
    this.#epochStarted = now;
    this.json({
      epoch: epoch + 1,
      loss: logs.loss,
      accuracy: accuracy(logs.accuracy),
      valLoss: logs.valLoss ?? null,
      valAccuracy: accuracy(logs.valAccuracy),
      learningRate: logs.learningRate,
      samplesPerSec: logs.samplesPerSec,
      seconds,
    });
    const every = epochs <= MAX_EPOCH_LINES ? 1 : roundUp(epochs / 10);
    if ((epoch + 1) % every !== 0 && epoch !== 0 && epoch + 1 !== epochs) return;
    const parts = [`epoch ${String(epoch + 1).padStart(String(epochs).length)}/${epochs}`, `loss ${logs.loss.toFixed(4)}`];
    if (this.#accuracy) parts.push(`accuracy ${percent(logs.accuracy)}`);
    if (logs.valLoss !== undefined) parts.push(`val loss ${logs.valLoss.toFixed(4)}`);
    if (this.#accuracy && logs.valAccuracy !== undefined) parts.push(`val accuracy ${percent(logs.valAccuracy)}`);
    parts.push(`lr ${learningRate(logs.learningRate)}`, `${count(logs.samplesPerSec)} samples/s`);
    if (this.mode !== 'text') return;
    // The bar shows the epoch just finished: drop it; the next progress report draws a fresh one.
    this.endFit();
    this.#out.write(`${parts.join('  ')}\n`);
  }

  /** Removes the progress bar for good. */
  endFit(): void {
    this.#clearBar();
    this.#bar = '';
  }

  #clearBar(): void {
    if (this.#bar !== '') this.#err.write('\r\x1b[K');
  }

  #redrawBar(): void {
    if (this.#bar !== '') this.#err.write(`\r${this.#bar}\x1b[K`);
  }
}

/** The smallest 1, 2 or 5 times a power of ten at least `value`. */
function roundUp(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((multiple) => multiple * power >= value) ?? 10) * power;
}
