/**
 * The random service on the server core: on connect, the numbers are sent at
 * once and the connection ended (write-up 002); what a peer sends is never
 * parsed, and the server core drops it while it waits for the peer to close.
 *
 * @module
 */
import {
  checkRandomOptions,
  DEFAULT_RANDOM_OPTIONS,
  drawRandomNumbers,
  formatRandomReply,
  type RandomOptions,
} from "../protocol/random.ts";
import { createRandomSource, type RandomSource } from "../protocol/rng.ts";
import type { Service } from "../net/server.ts";
import { getLogger } from "../log.ts";

/** Options for {@linkcode randomService}. */
export interface RandomServiceOptions extends Partial<RandomOptions> {
  /** End the numbers with a LF, for terminal users. @default {false} */
  newline?: boolean;
  /** Where the numbers come from (seeded for reproducible runs). @default an unseeded source */
  random?: RandomSource;
}

/**
 * Creates the random service. Throws a RangeError for options out of range
 * (count 1..10000, min <= max, safe integers).
 *
 * @example
 * ```ts
 * import { randomService } from "./random.ts";
 * import { serve } from "../net/server.ts";
 *
 * const server = serve(randomService({ count: 3 }), { port: 0 });
 * await server.shutdown();
 * ```
 */
export function randomService(options: RandomServiceOptions = {}): Service {
  const log = getLogger(["socklab", "server", "random"]);
  const draw = checkRandomOptions({
    count: options.count ?? DEFAULT_RANDOM_OPTIONS.count,
    min: options.min ?? DEFAULT_RANDOM_OPTIONS.min,
    max: options.max ?? DEFAULT_RANDOM_OPTIONS.max,
  });
  const random = options.random ?? createRandomSource();
  const ending = options.newline ? "\n" : "";
  return {
    name: "random",
    // Nothing is parsed: whatever a peer sends is dropped as it comes.
    framing: "raw",
    open(peer) {
      const numbers = drawRandomNumbers(random, draw);
      peer.sendText(formatRandomReply(numbers) + ending);
      peer.end();
      log.debug(
        "Sent {count} numbers to {remote}",
        () => ({ count: numbers.length, remote: peer.remote }),
      );
      return {};
    },
  };
}
