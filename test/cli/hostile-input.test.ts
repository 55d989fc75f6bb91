/**
 * Input made to hurt: fields of megabytes, columns by the hundred thousand, a class per row,
 * model files with absurd lengths. Each ends in a short, clear error or a correct result, soon.
 * The data are generated small but large enough that the quadratic or unbounded code these
 * tests replaced fails them (it took seconds to minutes, or repeated megabytes in a message).
 */

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { csvTrainingExamples } from '../../ts/cli/data.js';
import { ModelFileError, Network, type JsonObject, type LayerConfig } from '../../ts/index.js';
import { clip, describe as describeValue, quote } from '../../ts/validation.js';
import { expectOneLineError, ferronetIn } from './helpers.js';

const directory = await mkdtemp(join(tmpdir(), 'ferronet-hostile-'));
const ferronet = ferronetIn(directory);
afterAll(() => rm(directory, { recursive: true, force: true }));

const MEGABYTE_OF_X = 'x'.repeat(1_000_000);

/** The message of what `run` throws or rejects with. */
async function messageOf(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected an error');
}

/** Milliseconds `run` takes to settle, and its error's message. */
async function timedMessage(run: () => unknown): Promise<{ milliseconds: number; message: string }> {
  const started = performance.now();
  const message = await messageOf(run);
  return { milliseconds: performance.now() - started, message };
}

describe('messages quote at most 60 characters of what they were given', () => {
  it('clips, escapes and counts', () => {
    expect(clip('short')).toBe('short');
    expect(clip('y'.repeat(60))).toBe('y'.repeat(60));
    expect(clip('y'.repeat(61))).toBe(`${'y'.repeat(60)}…`);
    // A cut inside a surrogate pair would leave half an emoji: the cut moves before it.
    expect(clip(`${'y'.repeat(59)}😀tail`)).toBe(`${'y'.repeat(59)}…`);
    expect(quote('two\nlines')).toBe('"two\\nlines"');
    expect(quote(MEGABYTE_OF_X)).toBe(`"${'x'.repeat(60)}…" (1,000,000 characters)`);
    expect(describeValue(MEGABYTE_OF_X)).toBe(quote(MEGABYTE_OF_X));
  });

  it('in the API: names, keys and values of any length', async () => {
    const bad = (layer: object): Promise<Network> => Network.create({ inputSize: 2, layers: [layer as LayerConfig], backend: 'ts' });
    expect(await messageOf(() => bad({ units: 1, activation: MEGABYTE_OF_X }))).toBe(
      `layers[0].activation: expected one of 'linear', 'relu', 'leakyRelu', 'tanh', 'sigmoid', 'softmax', got "${'x'.repeat(60)}…" (1,000,000 characters)`,
    );
    const unknownKey = await messageOf(() => bad({ units: 1, [MEGABYTE_OF_X]: 1 }));
    expect(unknownKey).toMatch(/^layers\[0\]\.x{50}…: expected one of units, activation, alpha, useBias, type, got "x{60}…" \(1,000,000 characters\)$/);
    const net = await Network.create({ inputSize: 2, layers: [{ units: 1 }], backend: 'ts' });
    net.metadata = { notes: { [MEGABYTE_OF_X]: (() => 0) as unknown as JsonObject } };
    expect(() => net.toBytes()).toThrow(new TypeError(`metadata.notes.${'x'.repeat(45)}…: expected a JSON value, got a function`));
    net.dispose();
  });

  it('in the API: metadata that contains itself, or nests past 100 levels, is a short RangeError, not a stack overflow', async () => {
    const net = await Network.create({ inputSize: 2, layers: [{ units: 1 }], backend: 'ts' });
    const cyclic: JsonObject = {};
    cyclic.self = cyclic;
    net.metadata = { cyclic };
    const message = await messageOf(() => net.toBytes());
    expect(message).toMatch(/^metadata\.cyclic\.self\.self\.self.{0,60}: expected JSON nested at most 100 levels deep \(an object that contains itself never ends\), got deeper$/);
    const nested = (depth: number): JsonObject => (depth === 0 ? {} : { a: nested(depth - 1) });
    net.metadata = nested(100);
    const back = await Network.fromBytes(net.toBytes());
    expect(back.metadata).toEqual(nested(100));
    back.dispose();
    net.metadata = nested(101);
    expect(() => net.toBytes()).toThrow(RangeError);
    net.dispose();
  });

  it('in a model file: a header length of 4 GiB is a short error, read from 20 bytes', async () => {
    const net = await Network.create({ inputSize: 2, layers: [{ units: 1 }], backend: 'ts' });
    const bytes = net.toBytes();
    net.dispose();
    const view = new DataView(bytes.buffer);
    const [headerLength, count] = [view.getUint32(12, true), view.getUint32(16, true)];
    const most = 2 ** 32 - 1;
    for (const [offset, says] of [
      [12, 20 + most + 4 * count + 4],
      [16, 20 + headerLength + 4 * most + 4],
    ] as const) {
      const damaged = bytes.slice();
      new DataView(damaged.buffer).setUint32(offset, most, true);
      await expect(Network.fromBytes(damaged)).rejects.toThrow(new ModelFileError(`bytes: truncated: ${bytes.length} bytes, the file says it has ${says}`));
    }
  });
});

describe('train csv', () => {
  it('names the line and column of a 5 MB field that is not a number, in one short line', async () => {
    await writeFile(join(directory, 'long-field.csv'), `a,label\n1,x\n${'z'.repeat(5_000_000)},y\n`);
    const run = await ferronet('train', 'csv', 'long-field.csv', '--label', 'label');
    expectOneLineError(run, 1, `ferronet: long-field.csv:3: column 1 ("a"): "${'z'.repeat(60)}…" (5,000,000 characters) is not a number\n`);
    expect(run.stderr.length).toBeLessThan(200);
  });

  it('clips option names, values and column names from the command line', async () => {
    const long = 'q'.repeat(10_000);
    expectOneLineError(await ferronet('train', 'planar', `--${long}`), 2, `ferronet: Unknown option '--${'q'.repeat(58)}…' (see ferronet train --help)\n`);
    expectOneLineError(await ferronet('train', 'planar', '--epochs', long), 2, `ferronet: --epochs: expected a positive integer, got "${'q'.repeat(60)}…" (10,000 characters) (see ferronet train --help)\n`);
    await writeFile(join(directory, 'small.csv'), 'a,label\n1,x\n2,y\n');
    expectOneLineError(
      await ferronet('train', 'csv', 'small.csv', '--label', long),
      1,
      `ferronet: small.csv: no column "${'q'.repeat(60)}…" (10,000 characters) (named by --label); the columns are a, label\n`,
    );
    expectOneLineError(await ferronet(long), 2, `ferronet: unknown command "${'q'.repeat(60)}…" (10,000 characters) (expected `);
    expectOneLineError(await ferronet('export', 'm.fnet', '--format', 'onnx', long), 2, `ferronet: unexpected "${'q'.repeat(60)}…" (10,000 characters)`);
    expectOneLineError(await ferronet('import', `${long}.h5`, '--out', 'm.fnet'), 2, `ferronet: "${'q'.repeat(60)}…" (10,003 characters): expected a TensorFlow.js model.json or a .safetensors file`);
  });

  it('refuses --features that name the label, or a column twice', async () => {
    await writeFile(join(directory, 'features.csv'), 'a,b,label\n1,2,x\n2,1,y\n');
    const train = (features: string): ReturnType<typeof ferronet> => ferronet('train', 'csv', 'features.csv', '--label', 'label', '--features', features, '--epochs', '1');
    expectOneLineError(await train('a,label'), 2, 'ferronet: --features names the label column "label": the model would read the answer it is to predict');
    expectOneLineError(await train('a,b,a'), 2, 'ferronet: --features names the column "a" twice');
  });

  it('refuses a class per row at once, suggesting --task regression for numbers', async () => {
    const names = `x,label\n${Array.from({ length: 100_000 }, (_, i) => `${i % 7},id${i}`).join('\n')}\n`;
    await writeFile(join(directory, 'names.csv'), names);
    const { milliseconds, message } = await timedMessage(() => csvTrainingExamples(join(directory, 'names.csv'), 'label', undefined, undefined));
    expect(message).toBe(
      `${join(directory, 'names.csv')}: column "label" holds 100,000 distinct values in 100,000 rows, too many classes (at most 1,000, and beyond 20 at most half the rows); ` +
        'choose another --label (names and identifiers are not classes)',
    );
    // It took 20 s and then failed for 8 GB of one-hot targets; now it counts and stops.
    expect(milliseconds).toBeLessThan(1500);
    const numbers = `x,label\n${Array.from({ length: 2_000 }, (_, i) => `${i % 7},${i}`).join('\n')}\n`;
    await writeFile(join(directory, 'numbers.csv'), numbers);
    expectOneLineError(
      await ferronet('train', 'csv', 'numbers.csv', '--label', 'label', '--task', 'classification'),
      1,
      'ferronet: numbers.csv: column "label" holds 2,000 distinct values in 2,000 rows, too many classes (at most 1,000, and beyond 20 at most half the rows); to predict it as a number, use --task regression\n',
    );
  });

  it('refuses more class probabilities (rows x classes) than it evaluates at once, before training', async () => {
    // 300,000 rows of 900 classes: 270 million probabilities to evaluate, 1 GiB of float32.
    const rows = Array.from({ length: 300_000 }, (_, i) => `${i % 3},c${i % 900}`);
    await writeFile(join(directory, 'many.csv'), `x,label\n${rows.join('\n')}\n`);
    expect(await messageOf(() => csvTrainingExamples(join(directory, 'many.csv'), 'label', undefined, undefined))).toBe(
      `${join(directory, 'many.csv')}: 300,000 rows of 900 classes need 270,000,000 class probabilities to evaluate, more than ferronet takes at once (268,435,456); use fewer rows or classes`,
    );
  });

  it('evaluates and predicts only what holds examples, and no more class probabilities than it evaluates at once', async () => {
    const classes = Array.from({ length: 900 }, (_, i) => `c${i}`);
    const net = await Network.create({ inputSize: 1, layers: [{ units: 900, activation: 'softmax' }], backend: 'ts' });
    net.metadata = { data: { source: 'csv', features: ['x'], mean: [0], std: [1], target: { task: 'classification', column: 'label', classes } } };
    await net.save(join(directory, 'classes.fnet'));
    net.dispose();
    await writeFile(join(directory, 'header.csv'), 'x,label\n');
    expectOneLineError(await ferronet('predict', 'classes.fnet', 'header.csv'), 1, 'ferronet: header.csv: holds no examples (a header, but no data)\n');
    const rows = Array.from({ length: 300_000 }, (_, i) => `${i % 3},c${i % 900}`);
    await writeFile(join(directory, 'many-rows.csv'), `x,label\n${rows.join('\n')}\n`);
    expectOneLineError(
      await ferronet('evaluate', 'classes.fnet', 'many-rows.csv'),
      1,
      'ferronet: many-rows.csv: 300,000 rows of 900 classes need 270,000,000 class probabilities to evaluate, more than ferronet takes at once (268,435,456); use fewer rows or classes\n',
    );
  });

  it('predicts with a model of 200,000 classes (too many to spread into Math.max)', async () => {
    const net = await Network.create({ inputSize: 1, layers: [{ units: 200_000, activation: 'softmax' }], backend: 'ts', seed: 3 });
    await net.save(join(directory, 'wide-softmax.fnet'));
    const expected = net.predict(Float32Array.of(1));
    net.dispose();
    await writeFile(join(directory, 'one.csv'), 'x\n1\n');
    // To a file: the 2 MB line would pass the test helper's limit on output.
    const run = await ferronet('predict', 'wide-softmax.fnet', 'one.csv', '--out', 'wide-softmax.csv');
    expect(run.stderr).toBe('');
    const [header, row] = (await readFile(join(directory, 'wide-softmax.csv'), 'utf8')).trimEnd().split('\n');
    expect(header?.split(',')).toHaveLength(200_001);
    const best = expected.reduce((top, p, index) => (p > (expected[top] as number) ? index : top), 0);
    expect(row?.split(',')[0]).toBe(String(best));
  });

  it('reads 60,000 feature columns in time linear in the text, and lists a few of them in a message', async () => {
    const columns = Array.from({ length: 60_000 }, (_, i) => `c${i}`);
    const values = (shift: number): string => columns.map((_, i) => (i * 7 + shift) % 10).join(',');
    await writeFile(join(directory, 'wide.csv'), `${columns.join(',')},label\n${values(0)},0\n${values(1)},1\n`);
    const started = performance.now();
    const { examples, features } = await csvTrainingExamples(join(directory, 'wide.csv'), 'label', undefined, undefined);
    // Looking each column up by indexOf, and the header's duplicates the same way, took 9 s.
    expect(performance.now() - started).toBeLessThan(1500);
    expect(features).toHaveLength(60_000);
    expect(examples.x.subarray(59_998, 60_002)).toEqual(Float32Array.of(6, 3, 1, 8));
    expect(await messageOf(() => csvTrainingExamples(join(directory, 'wide.csv'), 'kind', undefined, undefined))).toBe(
      `${join(directory, 'wide.csv')}: no column "kind" (named by --label); the columns are c0, c1, c2, c3, c4, c5, c6, c7, … (60,001 in all)`,
    );
  });

  it('lists a column name that holds a comma or a line break in quotes', async () => {
    await writeFile(join(directory, 'odd-names.csv'), '"a, b","two\nlines",label\n1,2,x\n3,4,y\n');
    expect(await messageOf(() => csvTrainingExamples(join(directory, 'odd-names.csv'), 'kind', undefined, undefined))).toBe(
      `${join(directory, 'odd-names.csv')}: no column "kind" (named by --label); the columns are "a, b", "two\\nlines", label`,
    );
  });
});
