/**
 * The random service (write-up 002): on connect the server sends COUNT
 * integers in MIN..MAX joined by `,` (no spaces, no newline), then closes.
 * Pure rules, no I/O.
 *
 * @module
 */
import { randomInteger, type RandomSource } from "./rng.ts";
import { escapeText } from "../net/escape.ts";

/** The default port (write-up 002). */
export const RANDOM_PORT = 27679;
/** The most numbers one reply may hold. */
export const MAX_RANDOM_COUNT = 10_000;

/** What the server sends: how many numbers, and their range. */
export interface RandomOptions {
  /** How many numbers, 1..10000. @default {10} */
  count: number;
  /** Smallest possible number (a safe integer). @default {1} */
  min: number;
  /** Largest possible number (a safe integer, at least `min`). @default {100} */
  max: number;
}

/** The write-up's choice: 10 numbers in 1..100. */
export const DEFAULT_RANDOM_OPTIONS: Readonly<RandomOptions> = Object.freeze({
  count: 10,
  min: 1,
  max: 100,
});

/**
 * Checks random options: count a whole number in 1..10000, min and max safe
 * integers with min <= max. Returns them; throws a RangeError naming the
 * flag (`--count`, `--min`, `--max`) otherwise.
 *
 * @example
 * ```ts
 * import { throws } from "node:assert/strict";
 * import { checkRandomOptions } from "./random.ts";
 *
 * checkRandomOptions({ count: 10, min: 1, max: 100 });
 * throws(() => checkRandomOptions({ count: 10, min: 5, max: 1 }), RangeError);
 * ```
 */
export function checkRandomOptions(options: RandomOptions): RandomOptions {
  const { count, min, max } = options;
  if (!Number.isSafeInteger(count) || count < 1 || count > MAX_RANDOM_COUNT) {
    throw new RangeError(
      `Cannot use --count ${count}: must be a whole number from 1 to ${MAX_RANDOM_COUNT}`,
    );
  }
  for (const [flag, value] of [["--min", min], ["--max", max]] as const) {
    if (!Number.isSafeInteger(value)) {
      throw new RangeError(
        `Cannot use ${flag} ${value}: must be a whole number from ${Number.MIN_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`,
      );
    }
  }
  if (min > max) {
    throw new RangeError(`Cannot use --min ${min} with --max ${max}: --min must not exceed --max`);
  }
  return options;
}

/**
 * Draws `count` integers uniformly in `min..max` from `source`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { drawRandomNumbers } from "./random.ts";
 * import { createRandomSource } from "./rng.ts";
 *
 * deepEqual(drawRandomNumbers(createRandomSource(1), { count: 3, min: 7, max: 7 }), [7, 7, 7]);
 * ```
 */
export function drawRandomNumbers(source: RandomSource, options: RandomOptions): number[] {
  const { count } = checkRandomOptions(options);
  const numbers = new Array<number>(count);
  for (let i = 0; i < count; i++) numbers[i] = randomInteger(source, options);
  return numbers;
}

/**
 * The reply: the numbers in decimal joined by `,`, nothing else (no spaces,
 * no newline), exactly as the write-up's server sends them.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatRandomReply } from "./random.ts";
 *
 * deepEqual(formatRandomReply([23, 7, 100]), "23,7,100");
 * ```
 */
export function formatRandomReply(numbers: readonly number[]): string {
  return numbers.join(",");
}

/** What a client expects of a reply, beyond its form. */
export interface RandomExpectation {
  /** Every number must be at least this (an announced range). */
  min?: number;
  /** Every number must be at most this. */
  max?: number;
  /** The reply must hold exactly this many numbers. */
  count?: number;
}

/** The outcome of parsing a reply. */
export type RandomParseResult =
  | { ok: true; numbers: number[]; newline: boolean }
  | { ok: false; reason: string };

const utf8 = new TextDecoder("utf-8", { fatal: true });
const INTEGER = /^-?\d+$/;
const WRONG_SEPARATOR = /^-?\d+(?:[^\d,-]+-?\d+)+$/;

/**
 * Parses a reply: safe integers joined by `,` alone, with at most one final
 * LF or CRLF (for servers that add one for terminal users). Checks the
 * expected range and count if given. Never throws; the reason names the
 * first problem.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseRandomReply } from "./random.ts";
 *
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * deepEqual(parseRandomReply(bytes("23,7,100")), { ok: true, numbers: [23, 7, 100], newline: false });
 * deepEqual(parseRandomReply(bytes("23,7,100"), { max: 99 }).ok, false);
 * ```
 */
export function parseRandomReply(
  bytes: Uint8Array,
  expect: RandomExpectation = {},
): RandomParseResult {
  const fail = (reason: string): RandomParseResult => ({ ok: false, reason });
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail("not UTF-8");
  }
  let newline = false;
  if (text.endsWith("\r\n")) {
    text = text.slice(0, -2);
    newline = true;
  } else if (text.endsWith("\n")) {
    text = text.slice(0, -1);
    newline = true;
  }
  if (text === "") return fail("no numbers");
  const items = text.split(",");
  const numbers = new Array<number>(items.length);
  for (const [index, item] of items.entries()) {
    const where = `number ${index + 1}`;
    if (!INTEGER.test(item)) {
      if (item === "") return fail(`${where} is empty (two "," in a row, or one at an end)`);
      if (item.trim() !== item && INTEGER.test(item.trim())) {
        return fail(`${where} ${escapeText(item)} has whitespace around it; "," alone separates`);
      }
      if (WRONG_SEPARATOR.test(item.trim())) {
        return fail(`${where} ${escapeText(item)} holds several numbers; "," alone separates`);
      }
      return fail(`${where} ${escapeText(item)} is not an integer`);
    }
    const value = Number(item);
    if (!Number.isSafeInteger(value)) {
      return fail(`${where} ${item} is beyond the safe integer range`);
    }
    if (expect.min !== undefined && value < expect.min) {
      return fail(`${where} ${item} is below the announced minimum ${expect.min}`);
    }
    if (expect.max !== undefined && value > expect.max) {
      return fail(`${where} ${item} is above the announced maximum ${expect.max}`);
    }
    numbers[index] = value || 0; // no -0
  }
  if (expect.count !== undefined && numbers.length !== expect.count) {
    return fail(`${numbers.length} numbers where ${expect.count} were expected`);
  }
  return { ok: true, numbers, newline };
}

/** Count, sum, smallest, largest and mean of a list of numbers. */
export interface RandomStats {
  /** How many numbers. */
  count: number;
  /** Exact: a bigint when the sum is beyond the safe integers. */
  sum: number | bigint;
  /** The smallest. */
  min: number;
  /** The largest. */
  max: number;
  /** The arithmetic mean (rounded to the nearest double). */
  mean: number;
}

/**
 * The statistics a client prints. `numbers` must not be empty.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { randomStats } from "./random.ts";
 *
 * deepEqual(randomStats([1, 2, 6]), { count: 3, sum: 9, min: 1, max: 6, mean: 3 });
 * ```
 */
export function randomStats(numbers: readonly number[]): RandomStats {
  if (numbers.length === 0) throw new RangeError("Cannot compute statistics of no numbers");
  let sum = 0n;
  let min = numbers[0];
  let max = numbers[0];
  for (const value of numbers) {
    sum += BigInt(value);
    if (value < min) min = value;
    if (value > max) max = value;
  }
  const count = numbers.length;
  const mean = Number(sum) / count;
  const safe = sum >= Number.MIN_SAFE_INTEGER && sum <= Number.MAX_SAFE_INTEGER;
  return { count, sum: safe ? Number(sum) : sum, min, max, mean };
}

/**
 * The statistics as one line: `Count: 3 | Sum: 9 | Min: 1 | Max: 6 | Mean: 3`
 * (the mean rounded to 3 decimals).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatRandomStats, randomStats } from "./random.ts";
 *
 * deepEqual(
 *   formatRandomStats(randomStats([1, 2])),
 *   "Count: 2 | Sum: 3 | Min: 1 | Max: 2 | Mean: 1.5",
 * );
 * ```
 */
export function formatRandomStats(stats: RandomStats): string {
  const mean = Math.round(stats.mean * 1000) / 1000;
  return `Count: ${stats.count} | Sum: ${stats.sum} | Min: ${stats.min} | Max: ${stats.max} | ` +
    `Mean: ${mean}`;
}
