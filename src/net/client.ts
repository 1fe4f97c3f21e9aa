/**
 * The client side of the shared framing: connecting with a deadline and
 * reading framed replies, for socklab's clients, checker and load generator.
 *
 * @module
 */
import { type Address, formatAddress } from "./address.ts";
import { DEFAULT_MAX_MESSAGE_BYTES, LineFramer, type Terminator } from "./framing.ts";
import { escapeBytes } from "./escape.ts";
import { isTracing, traceLogger } from "../log.ts";
import { TIMEOUT, within } from "./deadline.ts";

/** Connection attempts that took too long. */
export class ConnectTimeoutError extends Deno.errors.TimedOut {
  /** `address` did not accept within `ms`. */
  constructor(address: string, ms: number) {
    super(`${address} did not accept the connection within ${Math.round(ms)} ms`);
    this.name = "ConnectTimeoutError";
  }
}

/** A reply that did not come in time. */
export class ReplyTimeoutError extends Deno.errors.TimedOut {
  /** `address` sent no complete reply within `ms`. */
  constructor(address: string, ms: number) {
    super(`${address} did not reply within ${Math.round(ms)} ms`);
    this.name = "ReplyTimeoutError";
  }
}

/**
 * Connects to `address`, failing with {@linkcode ConnectTimeoutError} after
 * `timeoutMs`.
 */
export async function connect(address: Address, timeoutMs: number): Promise<Deno.TcpConn> {
  const signal = AbortSignal.timeout(timeoutMs);
  try {
    const conn = await Deno.connect({ hostname: address.hostname, port: address.port, signal });
    if (isTracing()) traceLogger.debug("connect {remote}", { remote: formatAddress(address) });
    return conn;
  } catch (error) {
    if (signal.aborted) throw new ConnectTimeoutError(formatAddress(address), timeoutMs);
    throw error;
  }
}

/** One framed message read by a {@linkcode MessageReader}. */
export interface ReadMessage {
  /** The message, without its terminator (a copy: safe to keep). */
  bytes: Uint8Array;
  /** How it ended: LF, CRLF, or nothing (quiet period or end of stream). */
  terminator: Terminator;
}

/** Options for {@linkcode MessageReader}. */
export interface MessageReaderOptions {
  /** Quiet period that ends a message with no newline. @default {50} */
  flushMs?: number;
  /** Largest message. @default {8192} */
  maxMessageBytes?: number;
}

/**
 * Reads framed messages from a connection: a message ends at LF, after a
 * quiet period, or at end of stream.
 *
 * @example
 * ```ts ignore
 * const reader = new MessageReader(conn);
 * const reply = await reader.next(2000); // null at end of stream
 * ```
 */
export class MessageReader {
  readonly #conn: Deno.Conn;
  readonly #framer: LineFramer;
  readonly #flushMs: number;
  readonly #buf = new Uint8Array(8 * 1024);
  readonly #queue: ReadMessage[] = [];
  readonly #remote: string;
  #pending: Promise<number | null> | null = null;
  #eof = false;

  /** Reads from `conn` only when asked to, by {@linkcode MessageReader.next} or `readToEnd`. */
  constructor(conn: Deno.Conn, options: MessageReaderOptions = {}) {
    this.#conn = conn;
    this.#flushMs = options.flushMs ?? 50;
    this.#framer = new LineFramer({
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
    });
    const addr = conn.remoteAddr as Deno.NetAddr;
    this.#remote = formatAddress(addr);
  }

  /** True once the peer has closed its side. */
  get ended(): boolean {
    return this.#eof;
  }

  /**
   * The next message, or null at end of stream. Rejects with
   * {@linkcode ReplyTimeoutError} when nothing complete arrives in `timeoutMs`.
   */
  async next(timeoutMs: number): Promise<ReadMessage | null> {
    const deadline = performance.now() + timeoutMs;
    const keep = (bytes: Uint8Array, terminator: Terminator) => {
      this.#queue.push({ bytes: bytes.slice(), terminator });
    };
    while (this.#queue.length === 0) {
      if (this.#eof) return null;
      const left = deadline - performance.now();
      if (left <= 0) throw new ReplyTimeoutError(this.#remote, timeoutMs);
      const partial = this.#framer.pendingBytes > 0;
      const wait = partial ? Math.min(this.#flushMs, left) : left;
      const n = await this.#read(wait);
      if (n === "timeout") {
        if (partial && wait === this.#flushMs && !this.#framer.flush(keep)) throw this.#tooLong();
        continue;
      }
      if (n === null) {
        this.#eof = true;
        if (!this.#framer.flush(keep)) throw this.#tooLong();
        continue;
      }
      if (!this.#framer.push(this.#buf.subarray(0, n), keep)) throw this.#tooLong();
    }
    return this.#queue.shift()!;
  }

  #tooLong(): RangeError {
    return new RangeError(
      `${this.#remote} sent a message longer than ${this.#framer.maxMessageBytes} bytes`,
    );
  }

  /** Everything until end of stream, as one byte array (bounded by `maxBytes`). */
  async readToEnd(timeoutMs: number, maxBytes: number): Promise<Uint8Array> {
    const deadline = performance.now() + timeoutMs;
    const parts: Uint8Array[] = [];
    let total = 0;
    while (true) {
      const left = deadline - performance.now();
      if (left <= 0) throw new ReplyTimeoutError(this.#remote, timeoutMs);
      const n = await this.#read(left);
      if (n === "timeout") continue;
      if (n === null) break;
      total += n;
      if (total > maxBytes) {
        throw new RangeError(`${this.#remote} sent more than ${maxBytes} bytes`);
      }
      parts.push(this.#buf.slice(0, n));
    }
    this.#eof = true;
    const all = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      all.set(part, offset);
      offset += part.length;
    }
    return all;
  }

  /** Waits for the read under way to settle (call after closing the connection). */
  async settle(): Promise<void> {
    if (this.#pending) await this.#pending.catch(() => {});
    this.#pending = null;
  }

  async #read(ms: number): Promise<number | null | "timeout"> {
    this.#pending ??= this.#conn.read(this.#buf);
    try {
      const n = await within(this.#pending, ms);
      if (n === TIMEOUT) return "timeout";
      this.#pending = null;
      if (isTracing()) {
        traceLogger.debug(n === null ? "eof {remote}" : "read {remote} {bytes}", {
          remote: this.#remote,
          bytes: n === null ? "" : escapeBytes(this.#buf.subarray(0, n)),
        });
      }
      return n;
    } catch (error) {
      this.#pending = null;
      throw error;
    }
  }
}

/** Writes all of `bytes`, tracing them when `--trace` is on. */
export async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  if (isTracing()) {
    traceLogger.debug("write {remote} {bytes}", {
      remote: formatAddress(conn.remoteAddr as Deno.NetAddr),
      bytes: escapeBytes(bytes),
    });
  }
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}
