/**
 * The random service under load: each connection sends nothing and reads
 * until the server closes; what came is judged by the random protocol's own
 * parser (`src/protocol/random.ts`): COUNT integers in MIN..MAX joined by
 * `,`, one final newline allowed.
 *
 * @module
 */
import {
  checkRandomOptions,
  DEFAULT_RANDOM_OPTIONS,
  parseRandomReply,
  type RandomOptions,
} from "../protocol/random.ts";
import { escapeBytes } from "../net/escape.ts";
import type { ExchangeWorkload, Failure } from "./workload.ts";

/** The longest number on the wire: `-9007199254740991`. */
const LONGEST_NUMBER = 17;
/** Bytes of a reply shown in an error. */
const SHOWN_BYTES = 60;
const NOTHING = new Uint8Array(0);

/**
 * The random workload (per-connection only): a reply is right when it holds
 * exactly `count` safe integers within `min..max`, as the service announces.
 * Error kinds: `closed` (nothing sent), `malformed-reply` (not integers
 * joined by `,`), `out-of-range`, `wrong-count`. Throws a RangeError for
 * options out of range, naming the flag.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { randomWorkload } from "./random.ts";
 *
 * const client = randomWorkload({ count: 3, min: 1, max: 9 }).client(0);
 * const bytes = (s: string) => new TextEncoder().encode(s);
 * deepEqual(client.request().length, 0);
 * deepEqual(client.check(bytes("1,5,9")), null);
 * deepEqual(client.check(bytes("1,5"))?.kind, "wrong-count");
 * deepEqual(client.check(bytes("1,5,10"))?.kind, "out-of-range");
 * deepEqual(client.check(bytes("1, 5,9"))?.kind, "malformed-reply");
 * ```
 */
export function randomWorkload(options: Partial<RandomOptions> = {}): ExchangeWorkload {
  const expect = checkRandomOptions({
    count: options.count ?? DEFAULT_RANDOM_OPTIONS.count,
    min: options.min ?? DEFAULT_RANDOM_OPTIONS.min,
    max: options.max ?? DEFAULT_RANDOM_OPTIONS.max,
  });
  return {
    service: "random",
    modes: ["per-connection"],
    reply: "end",
    // Every number at its longest, the commas, and a CRLF.
    maxReplyBytes: expect.count * (LONGEST_NUMBER + 1) + 2,
    client: () => ({
      request: () => NOTHING,
      check: (reply) => judge(reply, expect),
    }),
  };
}

function judge(reply: Uint8Array, expect: RandomOptions): Failure | null {
  const verdict = parseRandomReply(reply, expect);
  if (verdict.ok) return null;
  if (reply.length === 0) {
    return { kind: "closed", detail: "the server closed the connection without sending a number" };
  }
  const detail = `${verdict.reason}: ${escapeBytes(reply, { limit: SHOWN_BYTES })}`;
  // The reason names the first problem; the kind says which rule it broke.
  const form = parseRandomReply(reply);
  if (!form.ok) return { kind: "malformed-reply", detail };
  const outside = form.numbers.some((n) => n < expect.min || n > expect.max);
  return { kind: outside ? "out-of-range" : "wrong-count", detail };
}
