/**
 * Comma-separated values as RFC 4180 writes them: a header row of column names, then one
 * record per line; fields may be quoted (`"a, b"`, with `""` for a quote) and lines may end in
 * CRLF. Errors name the file, line and column, like a compiler's, and quote at most the start of
 * a field, however long it is.
 */

import { quote } from '../validation.js';

/** A parsed CSV file: column names and text fields, with the line each record began on. */
export interface CsvTable {
  /** The header's names, in order. */
  columns: string[];
  /** One array of fields per record, as long as `columns`. */
  rows: string[][];
  /** The 1-based line on which each record starts (for error messages). */
  lines: number[];
}

/** Spaces and tabs at a field's edges (any white space but the line breaks that end records). */
const SPACES = /[^\S\r\n]*/y;
/** An unquoted field: everything up to the next comma or line break. */
const UNQUOTED = /[^,\r\n]*/y;

/**
 * Parses CSV text; `source` names it in errors. Blank lines are skipped. Fields are sliced out
 * of `text` (never built a character at a time), so time and memory grow with the text's length
 * alone, however long one field or line is.
 */
export function parseCsv(text: string, source: string): CsvTable {
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  // Text has no NUL characters; binary files and UTF-16 text (Excel's "Unicode text") do.
  if (body.includes('\0')) throw new RangeError(`${source}: holds NUL bytes, so it is binary data or UTF-16 text; expected CSV text in UTF-8`);
  let columns: string[] | null = null;
  const rows: string[][] = [];
  const lines: number[] = [];
  let fields: string[] = [];
  let line = 1;
  let recordLine = 1;
  let at = 0;
  for (;;) {
    const start = skip(SPACES, body, at);
    if (body[start] === '"') {
      const { value, end } = quotedField(body, start, source, recordLine);
      line += count(value, '\n');
      fields.push(value);
      at = skip(SPACES, body, end);
      const next = body[at];
      if (next !== undefined && next !== ',' && next !== '\r' && next !== '\n') {
        throw new RangeError(`${source}:${line}: unexpected ${quote(next)} after the closing quote of field ${fields.length}`);
      }
    } else {
      at = skip(UNQUOTED, body, start);
      fields.push(body.slice(start, at).trim());
    }
    if (body[at] === ',') {
      at++;
      continue;
    }
    if (fields.length > 1 || fields[0] !== '') {
      if (columns === null) {
        columns = fields;
        checkUnique(columns, source, recordLine);
      } else {
        if (fields.length !== columns.length) throw new RangeError(`${source}:${recordLine}: ${fields.length} fields, but the header has ${columns.length} columns`);
        rows.push(fields);
        lines.push(recordLine);
      }
    }
    fields = [];
    if (at >= body.length) break;
    at += body[at] === '\r' && body[at + 1] === '\n' ? 2 : 1;
    line++;
    recordLine = line;
  }

  if (columns === null) throw new RangeError(`${source}: empty; expected a header line of column names`);
  return { columns, rows, lines };
}

function checkUnique(columns: readonly string[], source: string, line: number): void {
  const seen = new Set<string>();
  for (const name of columns) {
    if (seen.has(name)) throw new RangeError(`${source}:${line}: column ${quote(name)} appears twice in the header`);
    seen.add(name);
  }
}

/** Where the sticky `pattern` stops matching, from `from` (it matches the empty string, so always). */
function skip(pattern: RegExp, text: string, from: number): number {
  pattern.lastIndex = from;
  pattern.test(text);
  return pattern.lastIndex;
}

/** The field whose opening quote is at `open`, unescaped, and the index after its closing quote. */
function quotedField(body: string, open: number, source: string, recordLine: number): { value: string; end: number } {
  // Pieces between `""` escapes are joined a few thousand at a time: a field of millions of
  // escapes then costs about its own length, where replaceAll('""', '"') takes ~40 bytes a match.
  const joined: string[] = [];
  let pieces: string[] = [];
  let from = open + 1;
  for (;;) {
    const close = body.indexOf('"', from);
    if (close < 0) throw new RangeError(`${source}:${recordLine}: a quoted field of this record never closes`);
    pieces.push(body.slice(from, close));
    from = close + 1;
    // `""` is one quote inside the field; a lone `"` closes it.
    if (body[from] !== '"') break;
    from++;
    if (pieces.length === 4096) {
      joined.push(pieces.join('"'));
      pieces = [];
    }
  }
  joined.push(pieces.join('"'));
  return { value: joined.join('"'), end: from };
}

function count(text: string, character: string): number {
  let found = 0;
  for (let at = text.indexOf(character); at >= 0; at = text.indexOf(character, at + 1)) found++;
  return found;
}

/**
 * Decimal numbers as people write them: `3`, `-0.5`, `.5`, `1e-3`. Not `0x10`, `Infinity` or an
 * empty field. Each part can match in one way only, so a long run of digits that fails to be a
 * number fails in linear time (no backtracking through ways of splitting it).
 */
const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** Whether a field reads as a number. */
export function isNumber(field: string): boolean {
  return NUMBER.test(field);
}

/**
 * The values of the columns at `indices`, row-major as `[rows][indices.length]`. A field that
 * is not a number (or overflows float32) throws a RangeError naming its line and column.
 */
export function numericColumns(table: CsvTable, indices: readonly number[], source: string): Float32Array {
  const width = indices.length;
  const out = new Float32Array(table.rows.length * width);
  table.rows.forEach((row, r) => {
    for (let c = 0; c < width; c++) {
      const column = indices[c] as number;
      const field = row[column] as string;
      const value = Math.fround(Number(field));
      if (!isNumber(field) || !Number.isFinite(value)) {
        const what = field === '' ? 'an empty field' : quote(field);
        const why = isNumber(field) ? 'beyond the range of float32' : 'not a number';
        throw new RangeError(`${source}:${table.lines[r] as number}: column ${column + 1} (${quote(table.columns[column] as string)}): ${what} is ${why}`);
      }
      out[r * width + c] = value;
    }
  });
  return out;
}
