/** CSV reading: RFC 4180 quoting, and errors that point at the line and column. */

import { describe, expect, it } from 'vitest';
import { isNumber, numericColumns, parseCsv } from '../../ts/datasets/csv.js';

describe('parseCsv', () => {
  it('reads a header and records, with quotes, CRLF, a BOM, spaces and blank lines', () => {
    const table = parseCsv('\uFEFFa, "b, c" ,name\r\n1,2,"say ""hi"""\r\n\r\n 3 ,4,"two\nlines"\n', 'x.csv');
    expect(table.columns).toEqual(['a', 'b, c', 'name']);
    expect(table.rows).toEqual([
      ['1', '2', 'say "hi"'],
      ['3', '4', 'two\nlines'],
    ]);
    expect(table.lines).toEqual([2, 4]);
  });

  it('names the line of a malformed record', () => {
    expect(() => parseCsv('a,b\n1,2\n3\n', 'x.csv')).toThrow('x.csv:3: 1 fields, but the header has 2 columns');
    expect(() => parseCsv('a,b\n1,"2\n', 'x.csv')).toThrow('x.csv:2: a quoted field of this record never closes');
    expect(() => parseCsv('a,b\n1,"2"x\n', 'x.csv')).toThrow('x.csv:2: unexpected "x" after the closing quote of field 2');
    expect(() => parseCsv('a,a\n', 'x.csv')).toThrow('x.csv:1: column "a" appears twice in the header');
    expect(() => parseCsv('\n\n', 'x.csv')).toThrow('x.csv: empty; expected a header line of column names');
  });
});

describe('numericColumns', () => {
  const table = parseCsv('x,y,label\n1.5,-2e-3,a\n.5,+7,b\n', 'x.csv');

  it('reads the chosen columns row-major', () => {
    expect(Array.from(numericColumns(table, [1, 0], 'x.csv'))).toEqual([Math.fround(-2e-3), 1.5, 7, 0.5]);
  });

  it('names the line and column of a value it cannot read', () => {
    expect(() => numericColumns(table, [2], 'x.csv')).toThrow('x.csv:2: column 3 ("label"): "a" is not a number');
    const bad = parseCsv('x,y\n1,2\n3,\n4,0x10\n5,1e99\n', 'd.csv');
    expect(() => numericColumns(bad, [1], 'd.csv')).toThrow('d.csv:3: column 2 ("y"): an empty field is not a number');
    expect(() => numericColumns({ ...bad, rows: bad.rows.slice(2), lines: bad.lines.slice(2) }, [1], 'd.csv')).toThrow('d.csv:4: column 2 ("y"): "0x10" is not a number');
    expect(() => numericColumns({ ...bad, rows: bad.rows.slice(3), lines: bad.lines.slice(3) }, [1], 'd.csv')).toThrow(
      'd.csv:5: column 2 ("y"): "1e99" is beyond the range of float32',
    );
  });
});

describe('hostile text', () => {
  it('reads NaN, Infinity and hex as fields that are not numbers', () => {
    const table = parseCsv('x\nNaN\nInfinity\n-Infinity\n0x10\n', 'h.csv');
    expect(table.rows.map(([field]) => isNumber(field as string))).toEqual([false, false, false, false]);
    expect(() => numericColumns(table, [0], 'h.csv')).toThrow('h.csv:2: column 1 ("x"): "NaN" is not a number');
  });

  it('counts lines across quoted line breaks, CRLF and lone CR', () => {
    const table = parseCsv('a,b\r\n"1\r\n2",x\r"3",y\n\n4,z', 'h.csv');
    expect(table.rows).toEqual([
      ['1\r\n2', 'x'],
      ['3', 'y'],
      ['4', 'z'],
    ]);
    expect(table.lines).toEqual([2, 4, 6]);
    expect(() => parseCsv('a,b\n"x\ny",1\n2\n', 'h.csv')).toThrow('h.csv:4: 1 fields, but the header has 2 columns');
  });

  it('refuses binary data and UTF-16 text, whose NUL bytes no CSV text holds', () => {
    // What readFile(path, 'utf8') makes of a file saved as UTF-16: every other character is a NUL.
    const utf16 = Buffer.from('a,b\n1,2\n', 'utf16le').toString('utf8');
    expect(() => parseCsv(utf16, 'u.csv')).toThrow('u.csv: holds NUL bytes, so it is binary data or UTF-16 text; expected CSV text in UTF-8');
  });

  it('quotes at most 60 characters of a field, a name or a stray character in its messages', () => {
    const long = 'x'.repeat(5_000_000);
    const table = parseCsv(`${'n'.repeat(100)},b\n1,2\n${long},3\n`, 'h.csv');
    const message = (() => {
      try {
        numericColumns(table, [0], 'h.csv');
      } catch (error) {
        return (error as Error).message;
      }
      return '';
    })();
    expect(message).toBe(`h.csv:3: column 1 ("${'n'.repeat(60)}…" (100 characters)): "${'x'.repeat(60)}…" (5,000,000 characters) is not a number`);
    expect(() => parseCsv(`a,a\n`.replaceAll('a', long), 'h.csv')).toThrow(`h.csv:1: column "${'x'.repeat(60)}…" (5,000,000 characters) appears twice in the header`);
  });

  it('takes time linear in the text: 60,000 columns, a long run of digits, a million escaped quotes', () => {
    // Each of these took seconds before (a quadratic duplicate check, a backtracking number
    // pattern, quotes unescaped by replaceAll); each takes milliseconds now.
    const columns = Array.from({ length: 60_000 }, (_, i) => `c${i}`);
    let started = performance.now();
    const wide = parseCsv(`${columns.join(',')}\n${columns.map((_, i) => i % 10).join(',')}\n`, 'w.csv');
    expect(wide.columns).toHaveLength(60_000);
    expect(performance.now() - started).toBeLessThan(1000);
    started = performance.now();
    expect(isNumber(`${'1'.repeat(100_000)}x`)).toBe(false);
    expect(isNumber(`${'1'.repeat(100_000)}.5e3`)).toBe(true);
    expect(performance.now() - started).toBeLessThan(100);
    started = performance.now();
    const quotes = parseCsv(`q\n"${'""'.repeat(1_000_000)}"\n`, 'q.csv');
    expect(quotes.rows[0]?.[0]).toBe('"'.repeat(1_000_000));
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
