/**
 * Small building blocks the case tables share.
 *
 * @module
 */
import { escapeBytes, escapeText } from "../../net/escape.ts";
import { type Terminator, TERMINATOR_BYTES } from "../../net/framing.ts";
import type { ReadOutcome } from "../probe.ts";
import type { CaseContext } from "../types.ts";

/** Shows a read outcome in a report's `Actual:` line. */
export function describeOutcome(outcome: ReadOutcome): string {
  switch (outcome.kind) {
    case "message":
      return escapeBytes(withTerminator(outcome.message.bytes, outcome.message.terminator));
    case "closed":
      return "the connection was closed with no reply";
    case "reset":
      return `the connection failed: ${outcome.error}`;
    case "timeout":
      return "no reply before the deadline";
  }
}

/** Bytes with their terminator put back, to show exactly what was on the wire. */
export function withTerminator(bytes: Uint8Array, terminator: Terminator): Uint8Array {
  const tail = TERMINATOR_BYTES[terminator];
  const out = new Uint8Array(bytes.length + tail.length);
  out.set(bytes);
  out.set(tail, bytes.length);
  return out;
}

/** Opens a connection, sends `request`, reads one reply. */
export async function ask(
  context: CaseContext,
  request: string | Uint8Array,
): Promise<ReadOutcome> {
  const probe = await context.connect();
  await probe.send(request);
  return await probe.read();
}

/** Escapes text for an `Expected:` line. */
export const show = (text: string): string => escapeText(text);
