/**
 * Argument checks for the public boundary. Each throws a `TypeError` (wrong kind of value)
 * or a `RangeError` (right kind, wrong value or shape) whose message names the argument,
 * says what was expected and what was given.
 */

/** The most characters of someone's text that an error message repeats. */
const QUOTED_CHARACTERS = 60;

/**
 * `text` cut to its first 60 characters and an ellipsis when longer, so that a message
 * repeating a field, a name or a key stays short however large the input.
 */
export function clip(text: string): string {
  if (text.length <= QUOTED_CHARACTERS) return text;
  // A cut between the two halves of a surrogate pair would leave half a character.
  const code = text.charCodeAt(QUOTED_CHARACTERS - 1);
  const end = code >= 0xd800 && code <= 0xdbff ? QUOTED_CHARACTERS - 1 : QUOTED_CHARACTERS;
  return `${text.slice(0, end)}…`;
}

/**
 * Someone's text as an error message quotes it: {@link clip}ped, in JSON quotes with control
 * characters and line breaks escaped (the message stays one line), and the full length when
 * clipped: `"aaaa…" (50,000,000 characters)`.
 */
export function quote(text: string): string {
  const quoted = JSON.stringify(clip(text));
  return text.length > QUOTED_CHARACTERS ? `${quoted} (${text.length.toLocaleString('en-US')} characters)` : quoted;
}

/** A short description of a value for error messages: `a Float64Array of length 3`, `-1`, a {@link quote}d string. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (value === undefined) return 'undefined';
  if (typeof value === 'number') return String(value);
  if (typeof value === 'string') return quote(value);
  if (typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  if (ArrayBuffer.isView(value)) {
    const length = 'length' in value ? `of length ${String(value.length)}` : `of ${value.byteLength} bytes`;
    return `a ${value.constructor.name} ${length}`;
  }
  if (Array.isArray(value)) return `an Array of length ${value.length}`;
  if (typeof value === 'function') return 'a function';
  const name = (value as { constructor?: { name?: string } }).constructor?.name;
  return name && name !== 'Object' ? `a ${name}` : 'an object';
}

/**
 * Throws `argument: expected <expected>, got <got>`, where `got` is already a description. The
 * argument is {@link clip}ped: its path may hold a key of someone's object (`layers[0].<key>`).
 */
export function reject(kind: 'type' | 'range', argument: string, expected: string, got: string): never {
  const message = `${clip(argument)}: expected ${expected}, got ${got}`;
  throw kind === 'type' ? new TypeError(message) : new RangeError(message);
}

/** Like {@link reject}, describing `value` for the message. */
export function fail(kind: 'type' | 'range', argument: string, expected: string, value: unknown): never {
  reject(kind, argument, expected, describe(value));
}

/** A non-negative integer that indexes memory (a shape, a count, a step). */
export function checkSize(argument: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') fail('type', argument, 'a non-negative integer', value);
  if (!Number.isSafeInteger(value) || value < 0) fail('range', argument, 'a non-negative integer', value);
}

/** An integer at least 1. */
export function checkPositiveInteger(argument: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') fail('type', argument, 'a positive integer', value);
  if (!Number.isSafeInteger(value) || value < 1) fail('range', argument, 'a positive integer', value);
}

export function checkFinite(argument: string, value: unknown): asserts value is number {
  if (typeof value !== 'number') fail('type', argument, 'a finite number', value);
  if (!Number.isFinite(value)) fail('range', argument, 'a finite number', value);
}

/** A finite number in `[low, high]`, or `(low, high)` / half-open as `open` says. */
export function checkInRange(
  argument: string,
  value: unknown,
  low: number,
  high: number,
  open: { low?: boolean; high?: boolean } = {},
): asserts value is number {
  const expected = `a number in ${open.low ? '(' : '['}${low}, ${high}${open.high ? ')' : ']'}`;
  if (typeof value !== 'number') fail('type', argument, expected, value);
  const aboveLow = open.low ? value > low : value >= low;
  const belowHigh = open.high ? value < high : value <= high;
  if (!(aboveLow && belowHigh)) fail('range', argument, expected, value);
}

export function checkBoolean(argument: string, value: unknown): asserts value is boolean {
  if (typeof value !== 'boolean') fail('type', argument, 'a boolean', value);
}

/** One of a fixed set of names. */
export function checkOneOf<T extends string>(
  argument: string,
  value: unknown,
  allowed: readonly T[],
): asserts value is T {
  const expected = `one of ${allowed.map((name) => `'${name}'`).join(', ')}`;
  if (typeof value !== 'string') fail('type', argument, expected, value);
  if (!(allowed as readonly string[]).includes(value)) fail('range', argument, expected, value);
}

export function checkFloat32Array(argument: string, value: unknown, length?: number, rule?: string): asserts value is Float32Array {
  const expected = length === undefined ? 'a Float32Array' : `a Float32Array of length ${length}${rule ? ` (${rule})` : ''}`;
  if (!(value instanceof Float32Array)) fail('type', argument, expected, value);
  if (length !== undefined && value.length !== length) fail('range', argument, expected, value);
}

/** Index of the first element that is NaN or infinite, or -1. */
function firstNonFinite(values: ArrayLike<number>): number {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) return i;
  }
  return -1;
}

/**
 * Rejects NaN and infinities, naming the first offending element by its index along every
 * axis: `trailing` gives the extents of all axes but the first (a row's length, or a sample's
 * shape); without it the index is flat.
 */
export function checkAllFinite(argument: string, values: ArrayLike<number>, trailing: number | readonly number[] = []): void {
  const at = firstNonFinite(values);
  if (at < 0) return;
  const extents = typeof trailing === 'number' ? [trailing] : trailing;
  const indices: number[] = [];
  let rest = at;
  for (let axis = extents.length - 1; axis >= 0; axis--) {
    const extent = extents[axis] as number;
    indices.unshift(rest % extent);
    rest = Math.floor(rest / extent);
  }
  const where = [rest, ...indices].map((index) => `[${index}]`).join('');
  throw new RangeError(`${argument}: expected finite values, got ${String(values[at])} at ${argument}${where}`);
}
