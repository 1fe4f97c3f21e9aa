/**
 * One sum exchange from the client's side: connect, send the name and the
 * number in the chosen dialect, read the reply and judge it against the
 * contract (PROTOCOLS.md, "sum").
 *
 * @module
 */
import { type Address, formatAddress } from "../net/address.ts";
import { connect, MessageReader, writeAll } from "../net/client.ts";
import { withTerminator } from "../net/framing.ts";
import {
  formatSumRequest,
  isInSumRange,
  type ParsedSumMessage,
  parseSumReply,
  SUM_MAX,
  SUM_MIN,
  type SumDialect,
  type SumMessage,
} from "../protocol/sum.ts";
import { getLogger } from "../log.ts";

/** Options for {@linkcode requestSum}. */
export interface SumRequestOptions {
  /** The request's dialect. @default {"text"} */
  dialect?: SumDialect;
  /** Connect and reply deadline, each, in ms. @default {3000} */
  timeoutMs?: number;
  /**
   * Send the request with no newline, exactly as the write-ups' clients do.
   * By default a newline is added: the write-ups' servers strip it, and
   * socklab's servers answer at once instead of after the quiet period.
   * @default {false}
   */
  bare?: boolean;
  /** Quiet period that ends a reply with no newline. @default {50} */
  flushMs?: number;
}

/** What came back. */
export type SumOutcome =
  /** A well-formed reply in the request's dialect, its number in 1..100. */
  | { kind: "reply"; reply: ParsedSumMessage; bytes: Uint8Array }
  /** A reply that breaks the contract; `reason` says how. */
  | { kind: "bad-reply"; reason: string; bytes: Uint8Array }
  /** The server closed (or reset) the connection without a reply. */
  | { kind: "no-reply"; reset: boolean };

/** The outcome of one exchange. */
export interface SumResult {
  /** The server's address, as typed. */
  server: string;
  /** The name and number sent. */
  request: SumMessage;
  /** The dialect the request was sent in. */
  dialect: SumDialect;
  /** The request as sent, without its newline. */
  sent: string;
  /** What came back, judged. */
  outcome: SumOutcome;
  /** From the connect to the reply or the close, in ms. */
  latencyMs: number;
}

const encoder = new TextEncoder();

/**
 * Sends one request to `server` and judges the reply. Connection failures
 * and timeouts are thrown (`Deno.errors.*`, `ConnectTimeoutError`,
 * `ReplyTimeoutError`); a reply that breaks the contract is an outcome.
 */
export async function requestSum(
  server: Address,
  request: SumMessage,
  options: SumRequestOptions = {},
): Promise<SumResult> {
  const log = getLogger(["socklab", "client", "sum"]);
  const address = formatAddress(server);
  const dialect = options.dialect ?? "text";
  const timeoutMs = options.timeoutMs ?? 3000;
  const sent = formatSumRequest(request, dialect);
  const started = performance.now();
  const conn = await connect(server, timeoutMs);
  const reader = new MessageReader(conn, { flushMs: options.flushMs });
  try {
    log.debug("Connected to {address}", { address });
    await writeAll(conn, encoder.encode(options.bare ? sent : `${sent}\n`));
    let outcome: SumOutcome;
    try {
      const message = await reader.next(timeoutMs);
      if (message === null) {
        outcome = { kind: "no-reply", reset: false };
      } else {
        const bytes = withTerminator(message.bytes, message.terminator);
        outcome = judge(message.bytes, bytes, dialect);
      }
    } catch (error) {
      if (!(error instanceof Deno.errors.ConnectionReset)) throw error;
      outcome = { kind: "no-reply", reset: true };
    }
    return {
      server: address,
      request,
      dialect,
      sent,
      outcome,
      latencyMs: performance.now() - started,
    };
  } finally {
    try {
      conn.close();
    } catch { /* already closed */ }
    await reader.settle();
  }
}

function judge(message: Uint8Array, bytes: Uint8Array, dialect: SumDialect): SumOutcome {
  const parsed = parseSumReply(message);
  if (!parsed.ok) return { kind: "bad-reply", reason: parsed.reason, bytes };
  const reply = parsed.message;
  if (reply.dialect !== dialect) {
    return {
      kind: "bad-reply",
      reason: `the reply is in the ${reply.dialect} dialect, the request was in ${dialect}`,
      bytes,
    };
  }
  if (!isInSumRange(reply.number)) {
    return {
      kind: "bad-reply",
      reason: `the server's number ${reply.number} is outside ${SUM_MIN}..${SUM_MAX}`,
      bytes,
    };
  }
  return { kind: "reply", reply, bytes };
}
