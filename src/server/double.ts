/**
 * The double service on the server core: one reply per message, the reply
 * ending as its request did, any number of messages per connection.
 *
 * @module
 */
import { doubleReply } from "../protocol/double.ts";
import { type Terminator, TERMINATOR_BYTES } from "../net/framing.ts";
import type { Service } from "../net/server.ts";

/**
 * Creates the double service.
 *
 * @example
 * ```ts
 * import { doubleService } from "./double.ts";
 * import { serve } from "../net/server.ts";
 *
 * const server = serve(doubleService(), { port: 0 });
 * await server.shutdown();
 * ```
 */
export function doubleService(): Service {
  return {
    name: "double",
    open(peer) {
      return {
        message(message: Uint8Array, terminator: Terminator) {
          peer.sendText(doubleReply(message));
          if (terminator !== "none") peer.send(TERMINATOR_BYTES[terminator]);
        },
      };
    },
  };
}
