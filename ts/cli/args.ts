/** Reading the command line: flags by a table, values by type, and mistakes as one-line usage errors. */

import { parseArgs } from 'node:util';
import { clip, quote } from '../validation.js';

/** A mistake on the command line: printed with a pointer to the help, exit status 2. */
export class UsageError extends Error {
  /** The command whose help to point to (`train`, ...), or null for the top level. */
  readonly command: string | null;
  constructor(message: string, command: string | null) {
    super(message);
    this.name = 'UsageError';
    this.command = command;
  }
}

/** One flag: its value's placeholder in the help (none for a switch) and what it does. */
export interface Flag {
  /** `N`, `DIR`, ...; absent for a switch such as `--quiet`. */
  value?: string;
  /** One line of help. */
  help: string;
}

/** Flags by name (without the dashes). */
export type Flags = Record<string, Flag>;

/** What a command line said: flag values as text (switches as `true`) and the positional words. */
export interface CommandLine {
  /** Each given flag's text, or `true` for a given switch. */
  flags: Record<string, string | true | undefined>;
  /** The words that are not flags, in order. */
  positionals: string[];
}

/** Splits `argv` by the flag table of `command`; unknown flags and missing values are UsageErrors. */
export function parseCommandLine(argv: string[], flags: Flags, command: string): CommandLine {
  const options = Object.fromEntries(Object.entries(flags).map(([name, flag]) => [name, { type: flag.value ? ('string' as const) : ('boolean' as const) }]));
  try {
    const { values, positionals } = parseArgs({ args: argv, options, allowPositionals: true, strict: true });
    return { flags: values as CommandLine['flags'], positionals };
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // An unknown option's advice is about positionals starting with '-', which ferronet has none of;
    // the option itself, as long as the command line allows, is clipped like any quoted text.
    const unknown = (error as { code?: unknown }).code === 'ERR_PARSE_ARGS_UNKNOWN_OPTION';
    const said = unknown ? (message.split('. ')[0] ?? message).replace(/^(Unknown option ')(.*)'$/s, (_, start: string, option: string) => `${start}${clip(option)}'`) : message;
    throw new UsageError(said.replace(/\s*\n\s*/g, ' ').replace(/\.$/, ''), command);
  }
}

/** Reads typed flag values, naming the flag in every complaint. */
export class FlagReader {
  readonly #line: CommandLine;
  readonly #command: string;

  constructor(line: CommandLine, command: string) {
    this.#line = line;
    this.#command = command;
  }

  /** Whether a switch was given. */
  has(name: string): boolean {
    return this.#line.flags[name] === true;
  }

  /** A flag's text, or `fallback`. */
  text(name: string, fallback: string): string;
  text(name: string, fallback?: string): string | undefined;
  text(name: string, fallback?: string): string | undefined {
    const value = this.#line.flags[name];
    return typeof value === 'string' ? value : fallback;
  }

  /** A whole number at least `minimum`. */
  integer(name: string, fallback: number, minimum = 1): number {
    const text = this.text(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^[+-]?\d+$/.test(text.trim()) || !Number.isSafeInteger(value) || value < minimum) {
      this.fail(name, minimum === 1 ? 'a positive integer' : `an integer of at least ${minimum}`, text);
    }
    return value;
  }

  /** Any whole number (seeds). */
  anyInteger(name: string, fallback: number): number {
    return this.integer(name, fallback, Number.MIN_SAFE_INTEGER);
  }

  /** A finite number above zero, such as `1e-3`. */
  positiveNumber(name: string, fallback: number): number {
    const text = this.text(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value <= 0) this.fail(name, 'a positive number', text);
    return value;
  }

  /** A finite number of at least zero, such as `0.05`. */
  nonNegativeNumber(name: string, fallback: number): number {
    const text = this.text(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text.trim() === '' || !Number.isFinite(value) || value < 0) this.fail(name, 'a non-negative number', text);
    return value;
  }

  /** A fraction in `[0, 1)`. */
  fraction(name: string, fallback: number): number {
    const text = this.text(name);
    if (text === undefined) return fallback;
    const value = Number(text);
    if (text.trim() === '' || !(value >= 0 && value < 1)) this.fail(name, 'a fraction in [0, 1)', text);
    return value;
  }

  /** Comma-separated positive integers such as `256,128`. */
  integerList(name: string, fallback: number[]): number[] {
    const text = this.text(name);
    if (text === undefined) return fallback;
    const parts = text.split(',').map((part) => part.trim());
    if (!parts.every((part) => /^\d+$/.test(part) && Number(part) > 0)) this.fail(name, 'comma-separated positive integers such as 256,128', text);
    return parts.map(Number);
  }

  /** Comma-separated names. */
  list(name: string): string[] | undefined {
    return this.text(name)
      ?.split(',')
      .map((part) => part.trim());
  }

  /** One of `allowed`. */
  oneOf<T extends string>(name: string, allowed: readonly T[], fallback: T): T {
    const text = this.text(name);
    if (text === undefined) return fallback;
    if (!(allowed as readonly string[]).includes(text)) this.fail(name, `one of ${allowed.join(', ')}`, text);
    return text as T;
  }

  /** Throws the UsageError `--NAME: expected EXPECTED, got "TEXT"`, for values read by hand. */
  fail(name: string, expected: string, text: string): never {
    throw new UsageError(`--${name}: expected ${expected}, got ${quote(text)}`, this.#command);
  }
}

/** Aligned `--flag VALUE  help` lines for a help text. */
export function flagList(flags: Flags): string {
  const left = (name: string): string => `  --${name}${flags[name]?.value ? ` ${flags[name].value}` : ''}`;
  const width = Math.max(...Object.keys(flags).map((name) => left(name).length)) + 2;
  return Object.keys(flags)
    .map((name) => `${left(name).padEnd(width)}${flags[name]?.help ?? ''}\n`)
    .join('');
}
