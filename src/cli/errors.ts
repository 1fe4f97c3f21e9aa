/**
 * Errors a person sees: one line, no stack trace, and an exit code.
 *
 * @module
 */
import { ConnectTimeoutError, ReplyTimeoutError } from "../net/client.ts";

/** Exit status for success. */
export const EXIT_OK = 0;
/** Exit status for a network or protocol failure. */
export const EXIT_FAILURE = 1;
/** Exit status for a usage error. */
export const EXIT_USAGE = 2;

/** An error meant for the user: its message is printed as is, on one line. */
export class CliError extends Error {
  /** The exit status to end with. */
  readonly exitCode: number;
  /** `message` is printed as is after `socklab: `. */
  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.name = "CliError";
    this.exitCode = exitCode;
  }
}

/** A usage error (exit status 2). */
export function usageError(message: string): CliError {
  return new CliError(message, EXIT_USAGE);
}

/**
 * Runs `parse`; whatever it throws (a RangeError naming a bad flag value, say)
 * becomes a usage error with the same message.
 *
 * @example
 * ```ts
 * import { equal, throws } from "node:assert/strict";
 * import { asUsage, EXIT_USAGE } from "./errors.ts";
 *
 * equal(asUsage(() => 42), 42);
 * const bad = () => {
 *   throw new RangeError('Cannot use --count "0"');
 * };
 * throws(() => asUsage(bad), { message: 'Cannot use --count "0"', exitCode: EXIT_USAGE });
 * ```
 */
export function asUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
}

const PERMISSION_PATTERN = /Requires (\w+) access to "?([^",]+)"?/;

/**
 * Turns a Deno permission denial into a line that names the flag to add.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { describePermissionDenial } from "./errors.ts";
 *
 * deepEqual(
 *   describePermissionDenial('Requires net access to "127.0.0.1:9001", run again with the --allow-net flag'),
 *   "permission denied: net access to 127.0.0.1:9001; run with --allow-net=127.0.0.1:9001",
 * );
 * ```
 */
export function describePermissionDenial(message: string): string {
  const match = PERMISSION_PATTERN.exec(message);
  if (!match) return `permission denied: ${message.split("\n")[0]}`;
  const [, kind, what] = match;
  return `permission denied: ${kind} access to ${what}; run with --allow-${kind}=${what}`;
}

/** What was being done when an error happened, to name it in the message. */
export interface FailureContext {
  /** `listen` or `connect`. */
  action?: "listen" | "connect";
  /** The address involved, as typed. */
  address?: string;
}

/**
 * One line describing any error, for a person.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { describeFailure } from "./errors.ts";
 *
 * const error = new Deno.errors.ConnectionRefused("Connection refused (os error 111)");
 * deepEqual(
 *   describeFailure(error, { action: "connect", address: "127.0.0.1:9001" }),
 *   "connection refused by 127.0.0.1:9001",
 * );
 * ```
 */
export function describeFailure(error: unknown, context: FailureContext = {}): string {
  const where = context.address ?? "the peer";
  if (error instanceof CliError) return error.message;
  if (error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied) {
    if (error instanceof Deno.errors.PermissionDenied && !PERMISSION_PATTERN.test(error.message)) {
      return context.action === "listen"
        ? `cannot listen on ${where}: the system does not allow it (ports below 1024 need privileges)`
        : `${where}: ${firstLine(error.message)}`;
    }
    return describePermissionDenial(error.message);
  }
  if (error instanceof Deno.errors.AddrInUse) {
    return `cannot listen on ${where}: address already in use`;
  }
  if (error instanceof Deno.errors.AddrNotAvailable) {
    const doing = context.action === "listen"
      ? "listen on"
      : context.action === "connect"
      ? "connect to"
      : "use";
    return `cannot ${doing} ${where}: address not available on this machine`;
  }
  if (error instanceof Deno.errors.ConnectionRefused) return `connection refused by ${where}`;
  if (error instanceof Deno.errors.ConnectionReset) return `connection reset by ${where}`;
  // Our own timeouts say what did not happen in time, and how long was allowed.
  if (error instanceof ConnectTimeoutError || error instanceof ReplyTimeoutError) {
    return firstLine(error.message);
  }
  if (error instanceof Deno.errors.TimedOut) return `${where} timed out`;
  if (error instanceof Deno.errors.NotConnected || error instanceof Deno.errors.BrokenPipe) {
    return `${where} closed the connection`;
  }
  const message = error instanceof Error ? firstLine(error.message) : String(error);
  if (/failed to lookup address|Name or service not known|No address associated/i.test(message)) {
    return `cannot resolve the host of ${where}`;
  }
  return context.address ? `${context.address}: ${message}` : message;
}

function firstLine(text: string): string {
  return text.split("\n")[0];
}
