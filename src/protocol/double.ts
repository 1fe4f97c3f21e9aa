/**
 * The double service (write-up 000): an integer in, twice that integer out.
 * Pure rules, no I/O: used by the server, the client, the checker and the
 * load generator alike.
 *
 * @module
 */

/** The reply to anything that is not an integer (the write-up's text). */
export const INVALID_INTEGER_REPLY = "Received data is not a valid integer";

/** The same reply as the write-up's committed code spells it. */
export const INVALID_INTEGER_REPLY_CODE = "Received data is not valid integer";

/** Python's default limit on the digits of an integer read from text. */
export const MAX_INTEGER_DIGITS = 4300;

/** The default ports of the three double servers. */
export const DOUBLE_PORTS: readonly number[] = [9001, 9002, 9003];

const ZERO = 48;
const NINE = 57;
const UNDERSCORE = 95;
const PLUS = 43;
const MINUS = 45;
/** Digits that always fit a float64 exactly, even doubled. */
const FAST_DIGITS = 15;

/** The ASCII whitespace Python's `int()` strips: \t \n \v \f \r and space. */
function isSpace(byte: number): boolean {
  return (byte >= 9 && byte <= 13) || byte === 32;
}

/**
 * Parses an integer the way Python's `int()` reads ASCII text: surrounding
 * whitespace, an optional sign, digits with single underscores between them,
 * at most {@linkcode MAX_INTEGER_DIGITS} digits. Returns undefined for
 * anything else. Small values come back as a number, large ones as a bigint.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseInteger } from "./double.ts";
 *
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * deepEqual(parseInteger(bytes(" +1_000 ")), 1000);
 * deepEqual(parseInteger(bytes("1__0")), undefined);
 * ```
 */
export function parseInteger(bytes: Uint8Array): number | bigint | undefined {
  let start = 0;
  let end = bytes.length;
  while (start < end && isSpace(bytes[start])) start++;
  while (end > start && isSpace(bytes[end - 1])) end--;
  if (start === end) return undefined;
  let negative = false;
  if (bytes[start] === PLUS || bytes[start] === MINUS) {
    negative = bytes[start] === MINUS;
    start++;
  }
  let digits = 0;
  let value = 0;
  let previousUnderscore = true; // forbids a leading underscore
  let hasUnderscore = false;
  for (let i = start; i < end; i++) {
    const b = bytes[i];
    if (b >= ZERO && b <= NINE) {
      digits++;
      if (digits <= FAST_DIGITS) value = value * 10 + (b - ZERO);
      previousUnderscore = false;
    } else if (b === UNDERSCORE && !previousUnderscore) {
      previousUnderscore = true;
      hasUnderscore = true;
    } else {
      return undefined;
    }
  }
  if (digits === 0 || previousUnderscore || digits > MAX_INTEGER_DIGITS) return undefined;
  if (digits <= FAST_DIGITS) return negative ? -value || 0 : value;
  let text = String.fromCharCode(...bytes.subarray(start, end));
  if (hasUnderscore) text = text.replaceAll("_", "");
  const big = BigInt(text);
  return negative ? -big : big;
}

/**
 * The reply to one request: the integer doubled in plain decimal, or
 * {@linkcode INVALID_INTEGER_REPLY}.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { doubleReply } from "./double.ts";
 *
 * deepEqual(doubleReply(new TextEncoder().encode("21")), "42");
 * deepEqual(doubleReply(new TextEncoder().encode("abc")), "Received data is not a valid integer");
 * ```
 */
export function doubleReply(request: Uint8Array): string {
  const value = parseInteger(request);
  if (value === undefined) return INVALID_INTEGER_REPLY;
  return typeof value === "number" ? String(value * 2) : String(value * 2n);
}

/** What a client makes of a double server's reply. */
export type DoubleVerdict =
  | { kind: "ok"; value: bigint }
  | { kind: "invalid-request"; text: string }
  | { kind: "wrong"; expected: string; actual: string }
  | { kind: "malformed"; text: string };

/**
 * Judges a reply against its request: the right double, the error text for an
 * invalid request (either spelling), or what went wrong.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { judgeDoubleReply } from "./double.ts";
 *
 * deepEqual(judgeDoubleReply("21", "42"), { kind: "ok", value: 42n });
 * ```
 */
export function judgeDoubleReply(request: string, reply: string): DoubleVerdict {
  const requested = parseInteger(new TextEncoder().encode(request));
  const text = reply.trim();
  if (text === INVALID_INTEGER_REPLY || text === INVALID_INTEGER_REPLY_CODE) {
    return requested === undefined
      ? { kind: "invalid-request", text }
      : { kind: "wrong", expected: doubleOf(requested), actual: text };
  }
  if (!/^-?\d+$/.test(text)) return { kind: "malformed", text: reply };
  if (requested === undefined) {
    return { kind: "wrong", expected: INVALID_INTEGER_REPLY, actual: text };
  }
  const expected = doubleOf(requested);
  return text === expected
    ? { kind: "ok", value: BigInt(text) }
    : { kind: "wrong", expected, actual: text };
}

function doubleOf(value: number | bigint): string {
  return typeof value === "number" ? String(value * 2) : String(value * 2n);
}
