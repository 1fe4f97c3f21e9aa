/**
 * The double service under load: each worker cycles through a fixed table
 * of integers, and every reply is judged by the double protocol's own rules
 * (`src/protocol/double.ts`).
 *
 * @module
 */
import { doubleReply, judgeDoubleReply } from "../protocol/double.ts";
import { escapeBytes, escapeText } from "../net/escape.ts";
import type { ExchangeClient, ExchangeWorkload, Failure } from "./workload.ts";

/** Options for {@linkcode doubleWorkload}. */
export interface DoubleWorkloadOptions {
  /** Distinct integers sent, in turn. @default {256} */
  values?: number;
  /** Seed of the integers chosen. @default {1} */
  seed?: number;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** A reply is shown as `socklab check` shows it: quoted, escaped, cut past 60 bytes. */
const SHOWN = { limit: 60 };

interface Entry {
  text: string;
  /** The request on the wire: the integer and a newline. */
  bytes: Uint8Array;
  /** The right reply, without its newline. */
  expected: Uint8Array;
}

/** A small deterministic generator (mulberry32): the same table on every run. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The double workload: requests are integers from -10^9 to 10^9, one per
 * line; a reply is right when the double protocol says so.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { doubleWorkload } from "./double.ts";
 *
 * const client = doubleWorkload({ values: 1 }).client(0);
 * const request = new TextDecoder().decode(client.request()).trim();
 * const reply = new TextEncoder().encode(String(Number(request) * 2));
 * deepEqual(client.check(reply), null);
 * deepEqual(client.check(new TextEncoder().encode("7"))?.kind, "wrong-reply");
 * ```
 */
export function doubleWorkload(options: DoubleWorkloadOptions = {}): ExchangeWorkload {
  const count = options.values ?? 256;
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new RangeError(`Cannot use ${count} distinct values: must be a positive integer`);
  }
  const random = generator(options.seed ?? 1);
  const entries: Entry[] = [];
  for (let i = 0; i < count; i++) {
    const text = String(Math.round((random() * 2 - 1) * 1e9));
    const bytes = encoder.encode(`${text}\n`);
    entries.push({ text, bytes, expected: encoder.encode(doubleReply(encoder.encode(text))) });
  }
  return {
    service: "double",
    modes: ["persistent", "per-connection"],
    reply: "line",
    client(worker: number): ExchangeClient {
      // Workers start at different places in the table.
      let index = (worker * 7919) % count;
      let current = entries[index];
      return {
        request() {
          index = index + 1 === count ? 0 : index + 1;
          current = entries[index];
          return current.bytes;
        },
        check(reply) {
          // The fast path: the exact bytes of the right reply.
          if (sameBytes(reply, current.expected)) return null;
          return judge(current.text, reply);
        },
      };
    },
  };
}

function judge(request: string, bytes: Uint8Array): Failure | null {
  const reply = decoder.decode(bytes);
  const verdict = judgeDoubleReply(request, reply);
  switch (verdict.kind) {
    case "ok":
    case "invalid-request": // right for a request that is not an integer
      return null;
    case "wrong":
      return {
        kind: "wrong-reply",
        detail: `request ${request}: expected ${verdict.expected}, got ${
          escapeText(verdict.actual, SHOWN)
        }`,
      };
    case "malformed":
      return {
        kind: "malformed-reply",
        detail: `request ${request}: the reply is not an integer: ${escapeBytes(bytes, SHOWN)}`,
      };
  }
}
