/**
 * Building blocks the client case tables share.
 *
 * @module
 */
import { escapeBytes } from "../../net/escape.ts";
import { withTerminator } from "../../net/framing.ts";
import type { ClientRecord, RecordedMessage } from "../client_runner.ts";

/** A recorded message with its terminator, as bytes. */
export function messageBytes(message: RecordedMessage): Uint8Array {
  return withTerminator(message.bytes, message.terminator);
}

/** What the client sent, escaped, for an `Actual:` line. */
export function shownMessages(record: ClientRecord): string {
  if (record.messages.length === 0) return "no request at all";
  return record.messages.map((m) => escapeBytes(messageBytes(m))).join(", ");
}

/** What the client printed, escaped and bounded. */
export function outputOf(record: ClientRecord): string {
  const text = record.stdout + (record.stderr ? `\n[stderr] ${record.stderr}` : "");
  return escapeBytes(new TextEncoder().encode(text), { limit: 300 });
}

/** How the client's run ended. */
export function describeExit(record: ClientRecord): string {
  return record.exitCode === null
    ? "still running at the deadline"
    : `exit status ${record.exitCode}`;
}

/** Whether the output holds a Python traceback or another crash report. */
export function crashed(record: ClientRecord): boolean {
  return /Traceback \(most recent call last\)|Uncaught|panicked at/.test(
    record.stdout + record.stderr,
  );
}
