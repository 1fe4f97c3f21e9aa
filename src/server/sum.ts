/**
 * The sum service on the server core: one exchange per connection. The
 * first message is the request; the reply goes back in its dialect, ending
 * as the request ended (nothing for the write-ups' clients, LF for `nc`),
 * then the connection is closed. A number outside 1..100 or a malformed
 * request gets no reply: a warning is logged and the connection closed.
 *
 * @module
 */
import {
  DEFAULT_SERVER_NAME,
  formatSumReply,
  isInSumRange,
  parseSumRequest,
  SUM_MAX,
  SUM_MIN,
  SUM_NAMES_TEMPLATE,
  SUM_NUMBERS_TEMPLATE,
  sumExchange,
} from "../protocol/sum.ts";
import { createRandomSource, randomInteger, type RandomSource } from "../protocol/rng.ts";
import { type Terminator, TERMINATOR_BYTES } from "../net/framing.ts";
import type { Service } from "../net/server.ts";
import { escapeBytes } from "../net/escape.ts";
import { getLogger } from "../log.ts";

/** A request whose number is outside 1..100. */
export interface OutOfRangeEvent {
  /** The client's address. */
  remote: string;
  /** The name the client gave. */
  clientName: string;
  /** The number it sent. */
  number: number | bigint;
}

/** Options for {@linkcode sumService}. */
export interface SumServiceOptions {
  /** The name in replies. @default {"Server of socklab"} */
  name?: string;
  /** A fixed number for every reply; a random one in 1..100 per request when undefined. */
  number?: number;
  /** Where random server numbers come from. @default an unseeded source */
  random?: RandomSource;
  /**
   * Called after a number outside 1..100 was refused (the connection is
   * already closing); socklab's command line uses it for `--exit-on-out-of-range`.
   */
  onOutOfRange?: (event: OutOfRangeEvent) => void;
}

/**
 * Creates the sum service.
 *
 * @example
 * ```ts
 * import { sumService } from "./sum.ts";
 * import { serve } from "../net/server.ts";
 *
 * const server = serve(sumService({ name: "Server of Ada", number: 50 }), { port: 0 });
 * await server.shutdown();
 * ```
 */
export function sumService(options: SumServiceOptions = {}): Service {
  const log = getLogger(["socklab", "server", "sum"]);
  const name = options.name ?? DEFAULT_SERVER_NAME;
  const random = options.random ?? createRandomSource();
  const serverNumber = () =>
    options.number ?? randomInteger(random, { min: SUM_MIN, max: SUM_MAX });
  return {
    name: "sum",
    open(peer) {
      return {
        message(message: Uint8Array, terminator: Terminator) {
          // One exchange per connection, whatever happens.
          peer.end();
          const parsed = parseSumRequest(message);
          if (!parsed.ok) {
            log.warning(
              "Malformed {dialect} request from {remote}: {reason}; closing without a reply: {bytes}",
              {
                dialect: parsed.dialect,
                remote: peer.remote,
                reason: parsed.reason,
                bytes: escapeBytes(message),
              },
            );
            return;
          }
          const request = parsed.message;
          if (!isInSumRange(request.number)) {
            log.warning(
              "Client number out of range {min}..{max}: {number} from {clientName} at {remote}; closing without a reply",
              {
                min: SUM_MIN,
                max: SUM_MAX,
                number: String(request.number),
                clientName: request.name,
                remote: peer.remote,
              },
            );
            options.onOutOfRange?.({
              remote: peer.remote,
              clientName: request.name,
              number: request.number,
            });
            return;
          }
          const reply = { name, number: serverNumber() };
          const exchange = sumExchange(request, reply);
          const properties = { ...exchange, dialect: request.dialect, remote: peer.remote };
          log.info(SUM_NAMES_TEMPLATE, properties);
          log.info(SUM_NUMBERS_TEMPLATE, properties);
          peer.sendText(formatSumReply(reply, request.dialect));
          if (terminator !== "none") peer.send(TERMINATOR_BYTES[terminator]);
        },
      };
    },
  };
}
