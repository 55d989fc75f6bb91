/**
 * Comma-separated values as RFC 4180 writes them: a header row of column names, then one
 * record per line; fields may be quoted (`"a, b"`, with `""` for a quote) and lines may end in
 * CRLF. Errors name the file, line and column, like a compiler's.
 */

/** A parsed CSV file: column names and text fields, with the line each record began on. */
export interface CsvTable {
  /** The header's names, in order. */
  columns: string[];
  /** One array of fields per record, as long as `columns`. */
  rows: string[][];
  /** The 1-based line on which each record starts (for error messages). */
  lines: number[];
}

/** Parses CSV text; `source` names it in errors. Blank lines are skipped. */
export function parseCsv(text: string, source: string): CsvTable {
  const records: { fields: string[]; line: number }[] = [];
  let fields: string[] = [];
  let field = '';
  let quoted = false;
  let fieldWasQuoted = false;
  let line = 1;
  let recordLine = 1;
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  const endField = (): void => {
    fields.push(fieldWasQuoted ? field : field.trim());
    field = '';
    fieldWasQuoted = false;
  };
  const endRecord = (): void => {
    endField();
    if (fields.length > 1 || fields[0] !== '') records.push({ fields, line: recordLine });
    fields = [];
  };
  for (let i = 0; i < body.length; i++) {
    const char = body[i] as string;
    if (quoted) {
      if (char === '"' && body[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') {
        quoted = false;
      } else {
        if (char === '\n') line++;
        field += char;
      }
    } else if (char === '"' && field.trim() === '' && !fieldWasQuoted) {
      quoted = true;
      fieldWasQuoted = true;
      field = '';
    } else if (char === ',') {
      endField();
    } else if (char === '\n' || char === '\r') {
      if (char === '\r' && body[i + 1] === '\n') i++;
      endRecord();
      line++;
      recordLine = line;
    } else if (fieldWasQuoted) {
      // Only spaces may follow a closing quote.
      if (char.trim() !== '') throw new RangeError(`${source}:${line}: unexpected ${JSON.stringify(char)} after the closing quote of field ${fields.length + 1}`);
    } else {
      field += char;
    }
  }
  if (quoted) throw new RangeError(`${source}:${recordLine}: a quoted field of this record never closes`);
  endRecord();

  const [header, ...data] = records;
  if (!header) throw new RangeError(`${source}: empty; expected a header line of column names`);
  const columns = header.fields;
  const duplicate = columns.find((name, i) => columns.indexOf(name) !== i);
  if (duplicate !== undefined) throw new RangeError(`${source}:${header.line}: column ${JSON.stringify(duplicate)} appears twice in the header`);
  for (const record of data) {
    if (record.fields.length !== columns.length) {
      throw new RangeError(`${source}:${record.line}: ${record.fields.length} fields, but the header has ${columns.length} columns`);
    }
  }
  return { columns, rows: data.map((record) => record.fields), lines: data.map((record) => record.line) };
}

/** Decimal numbers as people write them: `3`, `-0.5`, `.5`, `1e-3`. Not `0x10`, `Infinity` or an empty field. */
const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Whether a field reads as a number. */
export function isNumber(field: string): boolean {
  return NUMBER.test(field);
}

/**
 * The values of the columns at `indices`, row-major as `[rows][indices.length]`. A field that
 * is not a number (or overflows float32) throws a RangeError naming its line and column.
 */
export function numericColumns(table: CsvTable, indices: readonly number[], source: string): Float32Array {
  const out = new Float32Array(table.rows.length * indices.length);
  table.rows.forEach((row, r) => {
    indices.forEach((column, c) => {
      const field = row[column] as string;
      const value = Math.fround(Number(field));
      if (!isNumber(field) || !Number.isFinite(value)) {
        const what = field === '' ? 'an empty field' : JSON.stringify(field);
        const why = isNumber(field) ? 'beyond the range of float32' : 'not a number';
        throw new RangeError(`${source}:${table.lines[r] as number}: column ${column + 1} (${JSON.stringify(table.columns[column])}): ${what} is ${why}`);
      }
      out[r * indices.length + c] = value;
    });
  });
  return out;
}
