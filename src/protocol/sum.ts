/**
 * The sum service (write-ups 001 and 003): a client sends its name and an
 * integer in 1..100, the server answers with its own name and number, and
 * both print the sum. Two dialects on one port, told apart by the first
 * non-space byte: text `NAME;NUMBER` (003) and JSON (001). Pure rules, no I/O.
 *
 * @module
 */
import { parseInteger } from "./double.ts";

/** The default port (write-up 003; 001 used 8000). */
export const SUM_PORT = 5001;
/** The smallest number a client may send. */
export const SUM_MIN = 1;
/** The largest number a client may send. */
export const SUM_MAX = 100;
/** The server's name when none is given. */
export const DEFAULT_SERVER_NAME = "Server of socklab";
/** The client's name when none is given. */
export const DEFAULT_CLIENT_NAME = "Client of socklab";

/** `"text"`: `NAME;NUMBER` (write-up 003); `"json"`: a JSON object (write-up 001). */
export type SumDialect = "text" | "json";

/** The dialects, as typed on the command line. */
export const SUM_DIALECTS: readonly SumDialect[] = ["text", "json"];

/** A name and a number, as sent by either side. */
export interface SumMessage {
  /** The client's or the server's name. */
  name: string;
  /** A number when it is a safe integer, a bigint beyond that. */
  number: number | bigint;
}

/** A parsed request or reply, with the dialect it came in. */
export interface ParsedSumMessage extends SumMessage {
  /** The dialect it came in. */
  dialect: SumDialect;
}

/** The outcome of parsing a request or a reply: the message, or why it is malformed. */
export type SumParseResult =
  | { ok: true; message: ParsedSumMessage }
  | { ok: false; dialect: SumDialect; reason: string };

const OPEN_BRACE = 123;

/** ASCII whitespace, as Python's `str.strip()` sees it in ASCII. */
function isSpace(byte: number): boolean {
  return (byte >= 9 && byte <= 13) || byte === 32;
}

/**
 * The dialect of a message: JSON when its first non-space byte is `{`, text
 * otherwise.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { detectSumDialect } from "./sum.ts";
 *
 * deepEqual(detectSumDialect(new TextEncoder().encode(' {"client_name": "A"}')), "json");
 * deepEqual(detectSumDialect(new TextEncoder().encode("A;25")), "text");
 * ```
 */
export function detectSumDialect(bytes: Uint8Array): SumDialect {
  for (const byte of bytes) {
    if (!isSpace(byte)) return byte === OPEN_BRACE ? "json" : "text";
  }
  return "text";
}

/**
 * Whether `number` is in the range a client may send, 1..100.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { isInSumRange } from "./sum.ts";
 *
 * deepEqual(isInSumRange(100), true);
 * deepEqual(isInSumRange(0), false);
 * ```
 */
export function isInSumRange(number: number | bigint): boolean {
  return number >= SUM_MIN && number <= SUM_MAX;
}

// C0 controls, DEL and C1 controls: never part of a name (they would reach logs and terminals).
// deno-lint-ignore no-control-regex
const CONTROL = /[\x00-\x1f\x7f-\x9f]/;

/**
 * Checks a name given on the command line (`--name`): not blank, no `;`
 * and no leading `{` (either would break the text dialect), no control
 * characters, no whitespace at either end. Returns it; throws a RangeError
 * naming `what` otherwise.
 *
 * @example
 * ```ts
 * import { deepEqual, throws } from "node:assert/strict";
 * import { checkSumName } from "./sum.ts";
 *
 * deepEqual(checkSumName("Server of Ada", "--name"), "Server of Ada");
 * throws(() => checkSumName("a;b", "--name"), RangeError);
 * ```
 */
export function checkSumName(name: string, what: string): string {
  if (name.trim() === "") throw new RangeError(`Cannot use ${what} "${name}": must not be blank`);
  if (name.includes(";")) {
    throw new RangeError(`Cannot use ${what} "${name}": must not contain ";"`);
  }
  if (name.startsWith("{")) {
    throw new RangeError(`Cannot use ${what} "${name}": must not start with "{"`);
  }
  if (CONTROL.test(name)) {
    throw new RangeError(`Cannot use ${what} ${JSON.stringify(name)}: contains control characters`);
  }
  if (name !== name.trim()) {
    throw new RangeError(`Cannot use ${what} "${name}": must not start or end with whitespace`);
  }
  return name;
}

/**
 * A string in JSON exactly as Python's `json.dumps` writes it by default
 * (`ensure_ascii`): `"` and `\` escaped, `\n \r \t \b \f` by name, every
 * other code unit outside printable ASCII as `\uXXXX` (lowercase hex).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { pythonJsonString } from "./sum.ts";
 *
 * deepEqual(pythonJsonString('Zoë "Z"'), '"Zo\\u00eb \\"Z\\""');
 * ```
 */
export function pythonJsonString(text: string): string {
  let out = '"';
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit === 34) out += '\\"';
    else if (unit === 92) out += "\\\\";
    else if (unit >= 0x20 && unit < 0x7f) out += text[i];
    else if (unit === 10) out += "\\n";
    else if (unit === 13) out += "\\r";
    else if (unit === 9) out += "\\t";
    else if (unit === 8) out += "\\b";
    else if (unit === 12) out += "\\f";
    else out += "\\u" + unit.toString(16).padStart(4, "0");
  }
  return out + '"';
}

type Role = "client" | "server";

/** Formats a name and a number in `dialect`, for `role`'s keys in JSON. */
function formatMessage(message: SumMessage, dialect: SumDialect, role: Role): string {
  const number = String(message.number);
  if (dialect === "text") return `${message.name};${number}`;
  return `{"${role}_name": ${pythonJsonString(message.name)}, "${role}_number": ${number}}`;
}

/**
 * A request as the write-ups' clients send it, without a terminator: text
 * `NAME;NUMBER`, or JSON in Python's `json.dumps` style.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatSumRequest } from "./sum.ts";
 *
 * deepEqual(formatSumRequest({ name: "Client of Ada", number: 25 }, "text"), "Client of Ada;25");
 * deepEqual(
 *   formatSumRequest({ name: "Ada Client", number: 25 }, "json"),
 *   '{"client_name": "Ada Client", "client_number": 25}',
 * );
 * ```
 */
export function formatSumRequest(request: SumMessage, dialect: SumDialect): string {
  return formatMessage(request, dialect, "client");
}

/**
 * A reply in the request's dialect, without a terminator: text
 * `NAME;NUMBER` (no space after `;`, as write-up 003's code sends it), or
 * JSON in Python's `json.dumps` style (write-up 001).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatSumReply } from "./sum.ts";
 *
 * deepEqual(formatSumReply({ name: "Server of Ada", number: 50 }, "text"), "Server of Ada;50");
 * deepEqual(
 *   formatSumReply({ name: "Ada Server", number: 10 }, "json"),
 *   '{"server_name": "Ada Server", "server_number": 10}',
 * );
 * ```
 */
export function formatSumReply(reply: SumMessage, dialect: SumDialect): string {
  return formatMessage(reply, dialect, "server");
}

const utf8 = new TextDecoder("utf-8", { fatal: true });
const encoder = new TextEncoder();

/** A JSON number with the exact text it had, so integers are judged on their digits. */
class JsonNumber {
  constructor(readonly source: string) {}
}

const JSON_INTEGER = /^-?\d+$/;

function integerFromSource(source: string): number | bigint {
  const value = Number(source);
  if (Number.isSafeInteger(value)) return value || 0; // no -0
  return BigInt(source);
}

function parseMessage(bytes: Uint8Array, role: Role): SumParseResult {
  const dialect = detectSumDialect(bytes);
  const fail = (reason: string): SumParseResult => ({ ok: false, dialect, reason });
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    return fail("not UTF-8");
  }
  if (text.trim() === "") return fail("empty");
  return dialect === "text" ? parseText(text, fail) : parseJson(text, role, fail);
}

function parseText(text: string, fail: (reason: string) => SumParseResult): SumParseResult {
  const parts = text.split(";");
  if (parts.length === 1) return fail('no ";" between the name and the number');
  if (parts.length > 2) return fail(`${parts.length - 1} ";" where there must be one`);
  const name = parts[0].trim();
  const checked = checkReceivedName(name);
  if (checked) return fail(checked);
  const number = parseInteger(encoder.encode(parts[1]));
  if (number === undefined) {
    return fail(`the number ${JSON.stringify(parts[1].trim())} is not an integer`);
  }
  return { ok: true, message: { dialect: "text", name, number } };
}

function parseJson(
  text: string,
  role: Role,
  fail: (reason: string) => SumParseResult,
): SumParseResult {
  let value: unknown;
  try {
    value = JSON.parse(
      text,
      (_key, item: unknown, context?: { source?: string }) =>
        typeof item === "number" ? new JsonNumber(context?.source ?? String(item)) : item,
    );
  } catch {
    return fail("not valid JSON");
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return fail("not a JSON object");
  }
  const object = value as Record<string, unknown>;
  const nameKey = `${role}_name`;
  const numberKey = `${role}_number`;
  if (!Object.hasOwn(object, nameKey)) return fail(`"${nameKey}" is missing`);
  if (!Object.hasOwn(object, numberKey)) return fail(`"${numberKey}" is missing`);
  const name = object[nameKey];
  if (typeof name !== "string") return fail(`"${nameKey}" is not a string`);
  const checked = checkReceivedName(name);
  if (checked) return fail(checked);
  const number = object[numberKey];
  if (!(number instanceof JsonNumber) || !JSON_INTEGER.test(number.source)) {
    const shown = number instanceof JsonNumber ? number.source : JSON.stringify(number);
    return fail(`"${numberKey}" is not an integer: ${shown}`);
  }
  return {
    ok: true,
    message: { dialect: "json", name, number: integerFromSource(number.source) },
  };
}

function checkReceivedName(name: string): string | undefined {
  if (name.trim() === "") return "the name is empty";
  if (CONTROL.test(name)) return "the name contains control characters";
  return undefined;
}

/**
 * Parses a request (without its terminator). Text: `NAME;NUMBER` with
 * exactly one `;`, whitespace around either part allowed, the number in the
 * forms Python's `int()` accepts. JSON: an object with a string
 * `client_name` and an integer `client_number` (other keys are ignored).
 * Names must not be blank or hold control characters. The range 1..100 is
 * not checked here ({@linkcode isInSumRange}). Never throws.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseSumRequest } from "./sum.ts";
 *
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * deepEqual(parseSumRequest(bytes("Client of Ada; 25")), {
 *   ok: true,
 *   message: { dialect: "text", name: "Client of Ada", number: 25 },
 * });
 * deepEqual(parseSumRequest(bytes("Client of Ada")), {
 *   ok: false,
 *   dialect: "text",
 *   reason: 'no ";" between the name and the number',
 * });
 * ```
 */
export function parseSumRequest(bytes: Uint8Array): SumParseResult {
  return parseMessage(bytes, "client");
}

/**
 * Parses a server's reply (without its terminator), by the same rules as
 * {@linkcode parseSumRequest} with the `server_name`/`server_number` keys.
 * Both `NAME;50` and `NAME; 50` are accepted. Never throws.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseSumReply } from "./sum.ts";
 *
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * deepEqual(parseSumReply(bytes("Server of Ada; 50")), {
 *   ok: true,
 *   message: { dialect: "text", name: "Server of Ada", number: 50 },
 * });
 * ```
 */
export function parseSumReply(bytes: Uint8Array): SumParseResult {
  return parseMessage(bytes, "server");
}

/**
 * Adds two integers exactly: a number while the sum is a safe integer, a
 * bigint beyond.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { addIntegers } from "./sum.ts";
 *
 * deepEqual(addIntegers(25, 50), 75);
 * deepEqual(addIntegers(2n ** 60n, 1), 2n ** 60n + 1n);
 * ```
 */
export function addIntegers(a: number | bigint, b: number | bigint): number | bigint {
  if (typeof a === "number" && typeof b === "number" && Number.isSafeInteger(a + b)) return a + b;
  const sum = BigInt(a) + BigInt(b);
  return sum >= Number.MIN_SAFE_INTEGER && sum <= Number.MAX_SAFE_INTEGER ? Number(sum) : sum;
}

/** One completed exchange: what both sides print. */
export interface SumExchange {
  /** The client's name. */
  clientName: string;
  /** The client's number. */
  clientNumber: number | bigint;
  /** The server's name. */
  serverName: string;
  /** The server's number. */
  serverNumber: number | bigint;
  /** The two numbers added, exactly. */
  sum: number | bigint;
}

/** The first line both sides print, as a logtape template (PROTOCOLS.md, "sum"). */
export const SUM_NAMES_TEMPLATE = "Client Name: {clientName} | Server Name: {serverName}";
/** The second line both sides print, as a logtape template. */
export const SUM_NUMBERS_TEMPLATE =
  "Client Number: {clientNumber} | Server Number: {serverNumber} | Sum: {sum}";

/**
 * An exchange from a request and the server's answer, with the sum.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { sumExchange } from "./sum.ts";
 *
 * deepEqual(sumExchange({ name: "C", number: 25 }, { name: "S", number: 10 }).sum, 35);
 * ```
 */
export function sumExchange(request: SumMessage, reply: SumMessage): SumExchange {
  return {
    clientName: request.name,
    clientNumber: request.number,
    serverName: reply.name,
    serverNumber: reply.number,
    sum: addIntegers(request.number, reply.number),
  };
}

/**
 * The two lines both sides print for an exchange, as PROTOCOLS.md words them
 * (and the server logs them at info).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { sumExchange, sumLines } from "./sum.ts";
 *
 * deepEqual(sumLines(sumExchange({ name: "C", number: 25 }, { name: "S", number: 10 })), [
 *   "Client Name: C | Server Name: S",
 *   "Client Number: 25 | Server Number: 10 | Sum: 35",
 * ]);
 * ```
 */
export function sumLines(exchange: SumExchange): [string, string] {
  const fill = (template: string) =>
    template.replace(
      /\{(\w+)\}/g,
      (_, key: string) => String(exchange[key as keyof SumExchange]),
    );
  return [fill(SUM_NAMES_TEMPLATE), fill(SUM_NUMBERS_TEMPLATE)];
}
