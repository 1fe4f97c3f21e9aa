/**
 * What the load engine needs to know about a service: how to make a
 * request, how a reply ends, and how to judge it. Adding a service to
 * `socklab bench` means writing one of these (see `double.ts`).
 *
 * @module
 */

/**
 * How connections are used: `persistent` keeps each connection and sends
 * request after request on it; `per-connection` connects, sends one request,
 * reads the reply and closes, as the classroom clients do.
 */
export type ExchangeMode = "persistent" | "per-connection";

/** Every {@linkcode ExchangeMode}, for flag validation. */
export const EXCHANGE_MODES: readonly ExchangeMode[] = ["persistent", "per-connection"];

/** Why a reply was wrong: an error kind (`wrong-reply`, …) and one line saying what was seen. */
export interface Failure {
  kind: string;
  detail: string;
}

/**
 * The requests and checks of one worker. The engine calls `request()`, sends
 * what it returns, reads the reply, and hands it to `check()`. Return
 * precomputed bytes from `request()`: it is on the hot path.
 */
export interface ExchangeClient {
  /** The bytes of the next request; an empty array sends nothing (the server speaks first). */
  request(): Uint8Array;
  /**
   * Judges the reply to the last request: null when it is right, else why not.
   * `reply` is a view valid only during the call (without its terminator
   * when replies are lines).
   */
  check(reply: Uint8Array): Failure | null;
}

/** A request/reply service as the load engine drives it. */
export interface ExchangeWorkload {
  /** The service's name, as typed after `socklab bench`. */
  readonly service: string;
  /** The modes that make sense for the service; the first is the default. */
  readonly modes: readonly ExchangeMode[];
  /**
   * How a reply ends: `line` — one framed message (LF, the quiet period, or
   * end of stream); `end` — everything the server sends until it closes
   * (per-connection only, e.g. random).
   */
  readonly reply: "line" | "end";
  /** Largest reply accepted; a longer one is an error. @default {8192} */
  readonly maxReplyBytes?: number;
  /** Makes the requests and checks of worker number `worker` (from 0). */
  client(worker: number): ExchangeClient;
}
