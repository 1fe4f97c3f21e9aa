/**
 * Fetching the random service's numbers from the client's side: connect,
 * send nothing, read until the server closes.
 *
 * @module
 */
import { type Address, formatAddress } from "../net/address.ts";
import { connect, MessageReader, ReplyTimeoutError } from "../net/client.ts";
import { TERMINATOR_BYTES } from "../net/framing.ts";
import { getLogger } from "../log.ts";

/** Options for {@linkcode fetchRandom}. */
export interface RandomFetchOptions {
  /** Connect deadline, and deadline for the whole reply, in ms. @default {3000} */
  timeoutMs?: number;
  /**
   * How long to wait for more bytes or the close once some have come; a
   * server that sends and then keeps the connection open costs this much.
   * @default {1000}
   */
  closeGraceMs?: number;
  /** The largest reply accepted. @default {1048576} */
  maxBytes?: number;
  /** Quiet period of the framing, in ms. @default {50} */
  flushMs?: number;
}

/** What the server sent. */
export interface RandomFetch {
  /** The server's address, as typed. */
  server: string;
  /** Every byte received, exactly. */
  bytes: Uint8Array;
  /** Whether the server closed the connection (as the contract says it does). */
  closed: boolean;
  /** From the connect to the close (or the last byte), in ms. */
  latencyMs: number;
}

/** The largest reply {@linkcode fetchRandom} accepts by default: 1 MiB. */
export const DEFAULT_MAX_RANDOM_REPLY_BYTES = 1 << 20;

/**
 * Connects to `server` and reads what it sends until it closes. Connection
 * failures are thrown; so is a server that sends nothing in time
 * (`ReplyTimeoutError`) or too much (RangeError).
 */
export async function fetchRandom(
  server: Address,
  options: RandomFetchOptions = {},
): Promise<RandomFetch> {
  const log = getLogger(["socklab", "client", "random"]);
  const address = formatAddress(server);
  const timeoutMs = options.timeoutMs ?? 3000;
  const graceMs = options.closeGraceMs ?? 1000;
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_RANDOM_REPLY_BYTES;
  const started = performance.now();
  const deadline = started + timeoutMs;
  const conn = await connect(server, timeoutMs);
  const reader = new MessageReader(conn, { flushMs: options.flushMs, maxMessageBytes: maxBytes });
  const parts: Uint8Array[] = [];
  let total = 0;
  let closed = false;
  try {
    log.debug("Connected to {address}", { address });
    while (true) {
      const left = deadline - performance.now();
      const wait = total === 0 ? left : Math.min(graceMs, left);
      let message;
      try {
        if (wait <= 0) throw new ReplyTimeoutError(address, timeoutMs);
        message = await reader.next(wait);
      } catch (error) {
        if (!(error instanceof ReplyTimeoutError)) throw error;
        if (total > 0) break;
        // The reader was given what was left; the user gave the whole deadline.
        throw new ReplyTimeoutError(address, timeoutMs);
      }
      if (message === null) {
        closed = true;
        break;
      }
      for (const part of [message.bytes, TERMINATOR_BYTES[message.terminator]]) {
        total += part.length;
        if (total > maxBytes) throw new RangeError(`${address} sent more than ${maxBytes} bytes`);
        parts.push(part);
      }
    }
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
    await reader.settle();
  }
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    bytes.set(part, offset);
    offset += part.length;
  }
  return { server: address, bytes, closed, latencyMs: performance.now() - started };
}
