/**
 * Helpers for parsing flags shared by several commands; a bad value is a
 * usage error (exit status 2).
 *
 * @module
 */
import { type Address, parseAddress, parseDuration } from "../net/address.ts";
import { asUsage, usageError } from "./errors.ts";

/** Parses repeated `--server` values, or the defaults when none was given. */
export function parseServers(values: string[], defaults: readonly number[]): Address[] {
  return values.length > 0
    ? asUsage(() => values.map((value) => parseAddress(value)))
    : defaults.map((port) => ({ hostname: "127.0.0.1", port }));
}

/** Parses a duration option; a wrong one is a usage error. */
export function durationOption(text: string, name: string): number {
  const ms = asUsage(() => parseDuration(text));
  if (ms <= 0) throw usageError(`Cannot use ${name} "${text}": must be more than 0`);
  return ms;
}

/** Collects a repeatable option's values. */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];
