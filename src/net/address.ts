/**
 * Parsing of the addresses, ports and durations that users type.
 *
 * @module
 */

/** A TCP endpoint. */
export interface Address {
  /** A host name or an IP address (IPv6 without brackets). */
  hostname: string;
  /** 0-65535. */
  port: number;
}

/**
 * Parses a port number (0-65535); 0 asks the system for a free port.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parsePort } from "./address.ts";
 *
 * deepEqual(parsePort("9001"), 9001);
 * ```
 */
export function parsePort(text: string): number {
  const trimmed = text.trim();
  if (!/^\d{1,5}$/.test(trimmed) || Number(trimmed) > 65535) {
    throw new RangeError(`Cannot parse port "${text}": must be 0-65535`);
  }
  return Number(trimmed);
}

/**
 * Parses `HOST:PORT`, `[IPv6]:PORT`, or a bare `PORT` (on `defaultHost`).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseAddress } from "./address.ts";
 *
 * deepEqual(parseAddress("[::1]:9001"), { hostname: "::1", port: 9001 });
 * deepEqual(parseAddress("9002"), { hostname: "127.0.0.1", port: 9002 });
 * ```
 */
export function parseAddress(text: string, defaultHost = "127.0.0.1"): Address {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { hostname: defaultHost, port: parsePort(trimmed) };
  const bracketed = /^\[([^\]]+)\]:(\d+)$/.exec(trimmed);
  if (bracketed) return { hostname: bracketed[1], port: parsePort(bracketed[2]) };
  const colon = trimmed.lastIndexOf(":");
  if (colon <= 0 || trimmed.indexOf(":") !== colon) {
    throw new SyntaxError(
      `Cannot parse address "${text}": expected HOST:PORT, [IPv6]:PORT or PORT`,
    );
  }
  const hostname = trimmed.slice(0, colon);
  return { hostname, port: parsePort(trimmed.slice(colon + 1)) };
}

/**
 * Formats an address the way it is typed: `127.0.0.1:9001`, `[::1]:9001`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatAddress } from "./address.ts";
 *
 * deepEqual(formatAddress({ hostname: "::1", port: 80 }), "[::1]:80");
 * ```
 */
export function formatAddress(address: Address): string {
  return address.hostname.includes(":")
    ? `[${address.hostname}]:${address.port}`
    : `${address.hostname}:${address.port}`;
}

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration with a unit (`ms`, `s`, `m`, `h`) into milliseconds; a
 * bare number is milliseconds. `0` means "never" where a caller allows it.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseDuration } from "./address.ts";
 *
 * deepEqual(parseDuration("1.5s"), 1500);
 * deepEqual(parseDuration("250"), 250);
 * ```
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$/.exec(text);
  if (!match) {
    throw new SyntaxError(
      `Cannot parse duration "${text}": expected a number with ms, s, m or h (e.g. 500ms, 10s, 5m)`,
    );
  }
  const ms = Number(match[1]) * DURATION_UNITS[match[2] ?? "ms"];
  if (!Number.isFinite(ms) || ms > 2 ** 31 - 1) {
    throw new RangeError(`Cannot use duration "${text}": must be at most 24 days`);
  }
  return Math.round(ms);
}

/**
 * Parses a whole number within `[min, max]`, naming `what` in the error.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { parseIntegerOption } from "./address.ts";
 *
 * deepEqual(parseIntegerOption("8192", "--max-line-bytes", 1, 1 << 20), 8192);
 * ```
 */
export function parseIntegerOption(text: string, what: string, min: number, max: number): number {
  const trimmed = text.trim();
  const value = /^[+-]?\d+$/.test(trimmed) ? Number(trimmed) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot use ${what} "${text}": must be a whole number from ${min} to ${max}`,
    );
  }
  return value;
}
