/**
 * Small building blocks the case tables share.
 *
 * @module
 */
import { escapeBytes, escapeText } from "../../net/escape.ts";
import { withTerminator } from "../../net/framing.ts";
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
