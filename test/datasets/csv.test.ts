/** CSV reading: RFC 4180 quoting, and errors that point at the line and column. */

import { describe, expect, it } from 'vitest';
import { numericColumns, parseCsv } from '../../ts/datasets/csv.js';

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
