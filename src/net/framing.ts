/**
 * The one framing implementation every socklab service, client, checker and
 * load generator uses (see PROTOCOLS.md, "Framing").
 *
 * A message ends at LF (a CR just before it is dropped), or — decided by the
 * I/O loop that owns the framer — after a quiet period or at end of stream,
 * when {@linkcode LineFramer.flush} hands over the partial message. The
 * terminator a message had is passed along so a reply can end the same way.
 *
 * @module
 */

/** How a message ended on the wire. */
export type Terminator = "lf" | "crlf" | "none";

/** The bytes that end a reply for each kind of terminator. */
export const TERMINATOR_BYTES: Readonly<Record<Terminator, Uint8Array>> = Object.freeze({
  lf: new Uint8Array([10]),
  crlf: new Uint8Array([13, 10]),
  none: new Uint8Array(0),
});

/**
 * A message with its terminator put back: the bytes exactly as they were on
 * the wire (for showing them, or judging them byte for byte).
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { withTerminator } from "./framing.ts";
 *
 * deepEqual(withTerminator(new Uint8Array([52, 50]), "crlf"), new Uint8Array([52, 50, 13, 10]));
 * ```
 */
export function withTerminator(bytes: Uint8Array, terminator: Terminator): Uint8Array {
  const tail = TERMINATOR_BYTES[terminator];
  const out = new Uint8Array(bytes.length + tail.length);
  out.set(bytes);
  out.set(tail, bytes.length);
  return out;
}

/**
 * Receives one framed message. `message` is a view that is only valid for the
 * duration of the call: copy it to keep it. Returning `false` pauses
 * {@linkcode LineFramer.push} after this message: the rest of the chunk waits
 * in {@linkcode LineFramer.takeRest}.
 */
export type MessageHandler = (message: Uint8Array, terminator: Terminator) => unknown;

/** Options for {@linkcode LineFramer}. */
export interface LineFramerOptions {
  /**
   * Largest message, in bytes, not counting its terminator.
   * @default {8192}
   */
  maxMessageBytes?: number;
  /**
   * What follows an over-long message: `"stop"` refuses the rest of the
   * stream; `"skip"` drops bytes up to the next LF and goes on framing.
   * @default {"stop"}
   */
  oversize?: "stop" | "skip";
}

/** The default message size limit: 8 KiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 8192;

const LF = 10;
const CR = 13;
/** Shared by every framer until it first holds a partial message: nothing is ever written to it. */
const EMPTY = new Uint8Array(0);

/**
 * Splits a byte stream into LF-terminated messages without copying when a
 * message lies whole inside one chunk. Partial messages are kept in an
 * internal buffer that never grows past the size limit.
 *
 * @example Split two lines arriving in one chunk
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { LineFramer } from "./framing.ts";
 *
 * const seen: string[] = [];
 * const framer = new LineFramer();
 * framer.push(new TextEncoder().encode("21\r\n4"), (m, t) => seen.push(`${new TextDecoder().decode(m)}/${t}`));
 * framer.flush((m, t) => seen.push(`${new TextDecoder().decode(m)}/${t}`));
 * deepEqual(seen, ["21/crlf", "4/none"]);
 * ```
 */
export class LineFramer {
  /** The largest message, in bytes, not counting its terminator. */
  readonly maxMessageBytes: number;
  #partial: Uint8Array = EMPTY;
  #partialLength = 0;
  #overflowed = false;
  #skipping = false;
  #rest: Uint8Array | null = null;
  readonly #skipOversize: boolean;

  /** Throws a RangeError for a size limit that is not a positive integer. */
  constructor(options: LineFramerOptions = {}) {
    this.#skipOversize = options.oversize === "skip";
    const max = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new RangeError(`Cannot use message size limit ${max}: must be a positive integer`);
    }
    this.maxMessageBytes = max;
  }

  /** Bytes of an unfinished message held back, waiting for more input. */
  get pendingBytes(): number {
    return this.#partialLength;
  }

  /**
   * True while the rest of an over-long message is being dropped (`"skip"`
   * mode); it ends at the next LF, or at {@linkcode LineFramer.flush}.
   */
  get skipping(): boolean {
    return this.#skipping;
  }

  /**
   * True while a message has started and not ended: part of it is held back,
   * or (in `"skip"` mode) the rest of an over-long message is being dropped.
   */
  get inMessage(): boolean {
    return this.#partialLength > 0 || this.#skipping;
  }

  /** True once a message went past the size limit; the framer then accepts nothing more. */
  get overflowed(): boolean {
    return this.#overflowed;
  }

  /**
   * Feeds one chunk, calling `onMessage` for each message it completes and
   * `onOversize` for each message past the size limit. Returns false once the
   * stream can no longer be framed (an over-long message in `"stop"` mode):
   * it should then be closed.
   */
  push(chunk: Uint8Array, onMessage: MessageHandler, onOversize?: () => void): boolean {
    if (this.#overflowed) return false;
    const max = this.maxMessageBytes;
    let start = 0;
    const length = chunk.length;
    while (start < length) {
      const lf = chunk.indexOf(LF, start);
      if (this.#skipping) {
        if (lf === -1) return true;
        this.#skipping = false;
        start = lf + 1;
        continue;
      }
      if (lf === -1) {
        if (this.#keep(chunk, start, length)) return true;
        return this.#oversize(onOversize);
      }
      let message: Uint8Array;
      if (this.#partialLength === 0) {
        message = chunk.subarray(start, lf);
      } else {
        // The CR of a CRLF may end the kept part: join first, then strip.
        if (!this.#keep(chunk, start, lf)) {
          if (!this.#oversize(onOversize)) return false;
          this.#skipping = false; // this message ends at this LF
          start = lf + 1;
          continue;
        }
        message = this.#partial.subarray(0, this.#partialLength);
        this.#partialLength = 0;
      }
      start = lf + 1;
      let terminator: Terminator = "lf";
      const last = message.length - 1;
      if (last >= 0 && message[last] === CR) {
        message = message.subarray(0, last);
        terminator = "crlf";
      }
      if (message.length > max) {
        if (!this.#oversize(onOversize)) return false;
        this.#skipping = false;
        continue;
      }
      const goOn = onMessage(message, terminator);
      if (this.#overflowed) return false;
      if (goOn === false && start < length) {
        this.#rest = chunk.subarray(start);
        return true;
      }
    }
    return true;
  }

  /**
   * What a paused {@linkcode LineFramer.push} left of its chunk, to push once
   * the handler is ready for more; null if it was not paused. A view into that
   * chunk: push it before the chunk's memory is used again.
   */
  takeRest(): Uint8Array | null {
    const rest = this.#rest;
    this.#rest = null;
    return rest;
  }

  /**
   * Hands over the unfinished message, if any, as a message with no
   * terminator, or to `onOversize` if it is past the size limit. An over-long
   * message being skipped ends here too: a quiet period or the end of the
   * stream ends a message, whatever its length. Returns false, as
   * {@linkcode LineFramer.push} does, once the stream can no longer be framed.
   */
  flush(onMessage: MessageHandler, onOversize?: () => void): boolean {
    if (this.#partialLength > this.maxMessageBytes) {
      // The byte kept for a possible CR turned out not to be one.
      const goOn = this.#oversize(onOversize);
      this.#skipping = false;
      return goOn;
    }
    this.#skipping = false;
    if (this.#partialLength === 0 || this.#overflowed) return !this.#overflowed;
    const message = this.#partial.subarray(0, this.#partialLength);
    this.#partialLength = 0;
    onMessage(message, "none");
    return !this.#overflowed;
  }

  /** Drops any unfinished message and clears the overflow state. */
  reset(): void {
    this.#partialLength = 0;
    this.#overflowed = false;
    this.#skipping = false;
    this.#rest = null;
    if (this.#partial.length > 4 * 1024) this.#partial = EMPTY;
  }

  /** Returns false when a message cannot be kept within the size limit. */
  #keep(chunk: Uint8Array, from: number, to: number): boolean {
    const needed = this.#partialLength + (to - from);
    // A kept CR may still turn out to belong to a CRLF, so allow one byte more.
    if (needed > this.maxMessageBytes + 1) return false;
    if (needed > this.#partial.length) {
      const grown = new Uint8Array(
        Math.min(Math.max(needed, this.#partial.length * 2, 256), this.maxMessageBytes + 1),
      );
      grown.set(this.#partial.subarray(0, this.#partialLength));
      this.#partial = grown;
    }
    this.#partial.set(chunk.subarray(from, to), this.#partialLength);
    this.#partialLength = needed;
    return true;
  }

  /** Drops the over-long message; returns whether framing goes on. */
  #oversize(onOversize?: () => void): boolean {
    this.#partialLength = 0;
    this.#partial = EMPTY;
    if (this.#skipOversize) this.#skipping = true;
    else this.#overflowed = true;
    onOversize?.();
    return this.#skipOversize;
  }
}
