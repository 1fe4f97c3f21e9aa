/**
 * A connection as a conformance case sees it: send bytes, read framed
 * replies or everything to the end, tell a close from silence — all within
 * the case's deadline, with what was seen kept for the report.
 *
 * @module
 */
import { MessageReader, type ReadMessage, writeAll } from "../net/client.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** What a read within a deadline came to. */
export type ReadOutcome =
  | { kind: "message"; message: ReadMessage; text: string }
  | { kind: "closed" }
  | { kind: "reset"; error: string }
  | { kind: "timeout" };

/** A case's connection to the server under test. */
export class Probe {
  /** The connection itself, for cases that write or close it their own way. */
  readonly conn: Deno.TcpConn;
  readonly #reader: MessageReader;
  readonly #remainingMs: () => number;
  #closed = false;

  /** Reads on `conn` until the case's deadline (`remainingMs`), with the given quiet period. */
  constructor(conn: Deno.TcpConn, remainingMs: () => number, flushMs = 50) {
    this.conn = conn;
    this.#reader = new MessageReader(conn, { flushMs, maxMessageBytes: 64 * 1024 });
    this.#remainingMs = remainingMs;
  }

  /** Sends text or bytes. */
  async send(data: string | Uint8Array): Promise<void> {
    await writeAll(this.conn, typeof data === "string" ? encoder.encode(data) : data);
  }

  /** Closes our sending side (half-close). */
  async closeWrite(): Promise<void> {
    await this.conn.closeWrite();
  }

  /**
   * The next framed message (LF, quiet period, or end of stream), waiting at
   * most `ms` (default: what is left of the case's time).
   */
  async read(ms = this.#remainingMs()): Promise<ReadOutcome> {
    try {
      const message = await this.#reader.next(Math.max(1, ms));
      if (message === null) return { kind: "closed" };
      return { kind: "message", message, text: decoder.decode(message.bytes) };
    } catch (error) {
      if (error instanceof Deno.errors.TimedOut) return { kind: "timeout" };
      if (error instanceof Error && !(error instanceof RangeError)) {
        return { kind: "reset", error: error.message };
      }
      throw error;
    }
  }

  /** Everything until the server closes, or the bytes so far and "timeout". */
  async readToEnd(ms = this.#remainingMs(), maxBytes = 1 << 20): Promise<
    { kind: "closed"; bytes: Uint8Array } | { kind: "timeout" } | { kind: "reset"; error: string }
  > {
    try {
      return { kind: "closed", bytes: await this.#reader.readToEnd(Math.max(1, ms), maxBytes) };
    } catch (error) {
      if (error instanceof Deno.errors.TimedOut) return { kind: "timeout" };
      if (error instanceof Error && !(error instanceof RangeError)) {
        return { kind: "reset", error: error.message };
      }
      throw error;
    }
  }

  /**
   * Waits for the server to close without replying: resolves "closed" (end
   * of stream or reset), "replied" with the reply, or "open" after `ms`.
   */
  async expectClose(ms: number): Promise<
    { kind: "closed" } | { kind: "replied"; text: string } | {
      kind: "open";
    }
  > {
    const outcome = await this.read(ms);
    if (outcome.kind === "closed" || outcome.kind === "reset") return { kind: "closed" };
    if (outcome.kind === "timeout") return { kind: "open" };
    return { kind: "replied", text: outcome.text };
  }

  /** Closes the connection (idempotent) and waits for its read to settle. */
  async close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.conn.close();
      } catch { /* already closed */ }
    }
    await this.#reader.settle();
  }
}
