/**
 * Errors a person sees: one line, no stack trace, and an exit code.
 *
 * @module
 */
import {
  describeFailure as describeNetFailure,
  describePermissionDenial,
  type FailureContext,
} from "../net/failure.ts";

export { describePermissionDenial, type FailureContext };

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

/**
 * One line describing any error, for a person: a {@linkcode CliError}'s own
 * message, or what `src/net/failure.ts` makes of the rest.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { CliError, describeFailure } from "./errors.ts";
 *
 * deepEqual(describeFailure(new CliError("no such service")), "no such service");
 * deepEqual(
 *   describeFailure(new Deno.errors.ConnectionRefused("os error 111"), { address: "127.0.0.1:1" }),
 *   "connection refused by 127.0.0.1:1",
 * );
 * ```
 */
export function describeFailure(error: unknown, context: FailureContext = {}): string {
  return error instanceof CliError ? error.message : describeNetFailure(error, context);
}
