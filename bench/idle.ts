/**
 * Waiting for a quiet machine. Timings are wall-clock, so another process busy on the same
 * cores slows a row down; before each row the runner waits, up to a limit, until enough cores
 * have been idle for a moment.
 */

import { cpus } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';

function cpuTimes(): { busy: number; total: number } {
  let busy = 0;
  let total = 0;
  for (const { times } of cpus()) {
    const all = times.user + times.nice + times.sys + times.irq + times.idle;
    total += all;
    busy += all - times.idle;
  }
  return { busy, total };
}

/** Fraction of all cores busy (0 to 1) over the next `ms` milliseconds. */
async function busyFraction(ms: number): Promise<number> {
  const before = cpuTimes();
  await sleep(ms);
  const after = cpuTimes();
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}

/**
 * Resolves once the cores were at most `limit` busy over a two-second window, or after
 * `maxWaitMs` regardless, calling `onWait` with the busy fraction while it waits.
 */
export async function waitForIdle(limit: number, maxWaitMs: number, onWait: (busy: number) => void): Promise<void> {
  const deadline = performance.now() + maxWaitMs;
  for (;;) {
    const busy = await busyFraction(2000);
    if (busy <= limit || performance.now() >= deadline) return;
    onWait(busy);
  }
}
