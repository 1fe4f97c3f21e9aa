/**
 * One line for a person from any error of the network or the runtime: what
 * failed, where, and for a permission denial the flag to add. Shared by the
 * command line, the clients, the checker and the load generator.
 *
 * @module
 */
import { ConnectTimeoutError, ReplyTimeoutError } from "./client.ts";

const PERMISSION_PATTERN = /Requires (\w+) access to "?([^",]+)"?/;

/**
 * Turns a Deno permission denial into a line that names the flag to add.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { describePermissionDenial } from "./failure.ts";
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
 * import { describeFailure } from "./failure.ts";
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
    // connect(2) says this when no local port is free (each one in use, or
    // in TIME_WAIT after a close), or when no local address can reach `where`.
    if (context.action === "connect") {
      return `cannot connect to ${where}: no free local port or address to connect from`;
    }
    const doing = context.action === "listen" ? "listen on" : "use";
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
