/** Progress as people and scripts see it: a live bar on a terminal, lines or JSON elsewhere. */

import { expect, it } from 'vitest';
import { duration, learningRate, Reporter, type Terminal } from '../../ts/cli/report.js';

function terminal(isTTY: boolean): Terminal & { text: string } {
  return {
    isTTY,
    columns: 100,
    text: '',
    write(chunk: string) {
      this.text += chunk;
    },
  };
}

const logs = { loss: 0.5, accuracy: 0.8, valLoss: 0.6, valAccuracy: 0.75, samplesPerSec: 12345.6, learningRate: 0.001 };

it('draws a bar with batches, samples/s, loss and ETA on a terminal, and clears it for epoch lines', async () => {
  const [out, err] = [terminal(true), terminal(true)];
  const reporter = new Reporter('text', out, err);
  reporter.startFit(true);
  await new Promise((resolve) => setTimeout(resolve, 20));
  reporter.progress({ epoch: 0, epochs: 2, batch: 5, batches: 10, loss: 0.71234, samplesPerSec: 45100, learningRate: 0.001 });
  const bar = err.text.split('\r').at(-1) ?? '';
  expect(bar.endsWith('\x1b[K')).toBe(true); // erases what a longer bar left
  expect(bar.slice(0, -3)).toMatch(/^epoch 1\/2 █+[▏▎▍▌▋▊▉]? +25% · batch 5\/10 · 45,100 samples\/s · loss 0\.7123 · lr 0\.001 · ETA \d+\.\d+ s$/);
  expect(bar.slice(0, -3)).toHaveLength(99);
  reporter.progress({ epoch: 0, epochs: 2, batch: 6, batches: 10, loss: 0.7, samplesPerSec: 45100, learningRate: 0.001 });
  expect(err.text.split('\r')).toHaveLength(2); // redrawn at most every 100 ms
  reporter.epoch(0, 2, logs);
  expect(out.text).toBe('epoch 1/2  loss 0.5000  accuracy 80.00%  val loss 0.6000  val accuracy 75.00%  lr 0.001  12,346 samples/s\n');
  expect(err.text.endsWith('\r\x1b[K')).toBe(true); // the finished epoch's bar is cleared before its line
  reporter.info('a note');
  expect(err.text.endsWith('\r\x1b[K')).toBe(true); // and not drawn again until progress goes on
  reporter.progress({ epoch: 1, epochs: 2, batch: 1, batches: 10, loss: 0.7, samplesPerSec: 45100, learningRate: 0.001 });
  expect(err.text.split('\r').at(-1)).toMatch(/^epoch 2\/2 /);
  reporter.endFit();
  expect(err.text.endsWith('\r\x1b[K')).toBe(true);
});

it('prints plain lines off a terminal, every k-th epoch of long runs', () => {
  const [out, err] = [terminal(false), terminal(false)];
  const reporter = new Reporter('text', out, err);
  reporter.startFit(false);
  reporter.progress({ epoch: 0, epochs: 1, batch: 1, batches: 1, loss: 1, samplesPerSec: 1, learningRate: 0.001 });
  for (let epoch = 0; epoch < 300; epoch++) reporter.epoch(epoch, 300, logs);
  expect(err.text).toBe('');
  const lines = out.text.trimEnd().split('\n');
  expect(lines.map((line) => line.slice(0, 13))).toEqual(['epoch   1/300', 'epoch  50/300', 'epoch 100/300', 'epoch 150/300', 'epoch 200/300', 'epoch 250/300', 'epoch 300/300']);
  expect(lines[0]).toBe('epoch   1/300  loss 0.5000  val loss 0.6000  lr 0.001  12,346 samples/s'); // regression: no accuracy
});

it('writes JSON lines with nulls for what does not apply, and nothing at all when quiet', () => {
  const [out, err] = [terminal(false), terminal(true)];
  const reporter = new Reporter('json', out, err);
  reporter.startFit(false);
  reporter.info('not for scripts');
  reporter.epoch(0, 1, { loss: 0.5, accuracy: 0.1, samplesPerSec: 10, learningRate: 0.001 });
  expect(JSON.parse(out.text)).toEqual({ epoch: 1, loss: 0.5, accuracy: null, valLoss: null, valAccuracy: null, learningRate: 0.001, samplesPerSec: 10, seconds: expect.any(Number) as number });
  const quiet = [terminal(true), terminal(true)] as const;
  const silent = new Reporter('quiet', ...quiet);
  silent.info('x');
  silent.progress({ epoch: 0, epochs: 1, batch: 1, batches: 1, loss: 1, samplesPerSec: 1, learningRate: 0.001 });
  silent.epoch(0, 1, logs);
  expect(quiet[0].text + quiet[1].text).toBe('');
});

it('writes durations and learning rates for people', () => {
  expect([duration(0.042), duration(3.14), duration(59.9), duration(61), duration(3725)]).toEqual(['0.04 s', '3.1 s', '59.9 s', '1:01', '1:02:05']);
  expect([learningRate(0.001), learningRate(0.000812345), learningRate(1.2), learningRate(0.17573593), learningRate(1e-30)]).toEqual(['0.001', '0.000812', '1.2', '0.176', '1e-30']);
});

it('numbers a resumed fit after the epochs of its checkpoint, in the bar and the lines', () => {
  const [out, err] = [terminal(false), terminal(true)];
  const reporter = new Reporter('text', out, err);
  reporter.startFit(true, 2);
  reporter.progress({ epoch: 0, epochs: 2, batch: 5, batches: 10, loss: 0.7, samplesPerSec: 100, learningRate: 0.0005 });
  expect(err.text).toMatch(/^\repoch 3\/4 █+[▏▎▍▌▋▊▉]? +62% · batch 5\/10 · 100 samples\/s · loss 0\.7000 · lr 0\.0005 · ETA /);
  reporter.epoch(2, 4, logs);
  expect(out.text).toMatch(/^epoch 3\/4 {2}loss/);
});
