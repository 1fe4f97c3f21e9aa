/**
 * One double request from the client's side, against a list of servers: the
 * first is chosen at random (as the write-up's client does), and a server
 * that refuses or times out is skipped for the next.
 *
 * @module
 */
import { type Address, formatAddress } from "../net/address.ts";
import { connect, MessageReader, writeAll } from "../net/client.ts";
import { type DoubleVerdict, judgeDoubleReply } from "../protocol/double.ts";
import { describeFailure } from "../net/failure.ts";
import { getLogger } from "../log.ts";

/** Options for {@linkcode requestDouble}. */
export interface DoubleRequestOptions {
  /** Connect and reply deadline, each, in ms. @default {3000} */
  timeoutMs?: number;
  /** Send the number with no newline, exactly as the write-up's client. @default {false} */
  bare?: boolean;
  /** Quiet period that ends a reply with no newline. @default {50} */
  flushMs?: number;
  /** Picks a random index below `n` (injected for tests). @default Math.random */
  random?: () => number;
}

/** The outcome of one request. */
export interface DoubleResult {
  /** The server that answered. */
  server: string;
  /** The request as given, without the newline added. */
  request: string;
  /** The reply as text, without its terminator. */
  reply: string;
  /** Whether the reply is right for the request. */
  verdict: DoubleVerdict;
  /** From the connect to the reply, in ms. */
  latencyMs: number;
}

/** Every server failed; `failures` says how, one line each, in the order tried. */
export class NoServerAnsweredError extends Error {
  /** One line per server tried, in the order tried. */
  readonly failures: string[];
  /** Built from the failure of every server tried. */
  constructor(failures: string[]) {
    super(`no server answered: ${failures.join("; ")}`);
    this.name = "NoServerAnsweredError";
    this.failures = failures;
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The order servers are tried in: a random one first, then the rest shuffled. */
export function tryOrder<T>(items: readonly T[], random: () => number = Math.random): T[] {
  const order = [...items];
  for (let i = order.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [order[i], order[j]] = [order[j], order[i]];
  }
  return order;
}

/** Sends `request` to one of `servers` and judges the reply. */
export async function requestDouble(
  servers: readonly Address[],
  request: string,
  options: DoubleRequestOptions = {},
): Promise<DoubleResult> {
  const log = getLogger(["socklab", "client", "double"]);
  const timeoutMs = options.timeoutMs ?? 3000;
  const payload = encoder.encode(options.bare ? request : `${request}\n`);
  const failures: string[] = [];
  const order = tryOrder(servers, options.random);
  for (const [index, server] of order.entries()) {
    const address = formatAddress(server);
    const started = performance.now();
    let conn: Deno.TcpConn | undefined;
    let reader: MessageReader | undefined;
    try {
      conn = await connect(server, timeoutMs);
      log.debug("Connected to {address}", { address });
      reader = new MessageReader(conn, { flushMs: options.flushMs });
      await writeAll(conn, payload);
      const message = await reader.next(timeoutMs);
      if (message === null) throw new Error("closed the connection without a reply");
      const reply = decoder.decode(message.bytes);
      return {
        server: address,
        request,
        reply,
        verdict: judgeDoubleReply(request, reply),
        latencyMs: performance.now() - started,
      };
    } catch (error) {
      const line = describeFailure(error, { action: "connect", address });
      // The last failure is told by the error thrown below, not twice.
      if (index + 1 < order.length) log.warning("{line}; trying the next server", { line });
      failures.push(line);
    } finally {
      try {
        conn?.close();
      } catch { /* already closed */ }
      await reader?.settle();
    }
  }
  throw new NoServerAnsweredError(failures);
}
