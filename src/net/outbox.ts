/**
 * Queued, bounded output for one connection: callers append without waiting,
 * one write loop drains it. A broadcast never waits on a slow peer; a peer
 * whose queue passes its bound is reported through `onOverflow`.
 *
 * @module
 */

const encoder = new TextEncoder();
const INITIAL_BYTES = 1024;
const KEEP_BYTES = 64 * 1024;
/** Shared by every outbox until it first has output: nothing is ever written to it. */
const EMPTY = new Uint8Array(0);
/** Text up to this long is copied unit by unit when it is ASCII. */
const SHORT_TEXT = 128;
/**
 * Buffers of `INITIAL_BYTES` handed back by outboxes that are done, for the
 * next ones: a server with many short connections would otherwise allocate
 * one per connection (a typed array's backing store costs about 1 µs).
 */
const pool: Uint8Array[] = [];
/** At most this many pooled buffers are kept (256 KiB). */
const POOL_MAX = 256;

/** Where an {@linkcode Outbox} writes: a `Deno.Conn` or anything like it. */
export interface ByteWriter {
  /** Writes some of `bytes`; resolves to how many. */
  write(bytes: Uint8Array): Promise<number>;
}

/** Options for {@linkcode Outbox}. */
export interface OutboxOptions {
  /**
   * Bytes that may wait to be written before `onOverflow` is called.
   * @default {262144}
   */
  maxPendingBytes?: number;
  /** Called once when the queue passes its bound; what was queued is dropped. */
  onOverflow?: () => void;
  /** Called once when a write fails (peer reset, socket closed). */
  onError?: (error: unknown) => void;
  /** Called with every chunk actually written (for `--trace`). */
  onWrite?: (bytes: Uint8Array) => void;
}

/** The default bound on queued output per connection: 256 KiB. */
export const DEFAULT_MAX_PENDING_BYTES = 256 * 1024;

/**
 * A write queue with two buffers: one is written while the other fills.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Outbox } from "./outbox.ts";
 *
 * const written: string[] = [];
 * const outbox = new Outbox({
 *   write: (b) => { written.push(new TextDecoder().decode(b)); return Promise.resolve(b.length); },
 * });
 * outbox.pushText("4");
 * outbox.pushText("2\n");
 * outbox.flush();
 * await outbox.drained();
 * deepEqual(written, ["42\n"]);
 * ```
 */
export class Outbox {
  readonly #writer: ByteWriter;
  readonly #maxPending: number;
  readonly #onOverflow?: () => void;
  readonly #onError?: (error: unknown) => void;
  readonly #onWrite?: (bytes: Uint8Array) => void;
  #fill: Uint8Array = EMPTY;
  #fillLength = 0;
  #spare: Uint8Array = EMPTY;
  #inFlight = 0;
  #writing: Promise<void> | null = null;
  #failed = false;
  #bytesWritten = 0;

  /** Queues output for `writer`; nothing is written before {@linkcode Outbox.flush}. */
  constructor(writer: ByteWriter, options: OutboxOptions = {}) {
    this.#writer = writer;
    this.#maxPending = options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
    this.#onOverflow = options.onOverflow;
    this.#onError = options.onError;
    this.#onWrite = options.onWrite;
  }

  /** Bytes queued or being written. */
  get pendingBytes(): number {
    return this.#fillLength + this.#inFlight;
  }

  /** Bytes written so far. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /** True once a write failed or the queue overflowed: nothing more is sent. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Queues bytes. Returns false (and drops them) once the outbox has failed. */
  push(bytes: Uint8Array): boolean {
    if (this.#failed) return false;
    if (!this.#withinBound(bytes.length)) return false;
    this.#ensureCapacity(bytes.length);
    this.#fill.set(bytes, this.#fillLength);
    this.#fillLength += bytes.length;
    return true;
  }

  /** Queues a string as UTF-8. */
  pushText(text: string): boolean {
    if (this.#failed) return false;
    // Each UTF-16 unit takes at least one byte: refuse what cannot fit before allocating.
    if (!this.#withinBound(text.length)) return false;
    // UTF-8 needs at most 3 bytes per UTF-16 unit.
    this.#ensureCapacity(text.length * 3);
    const fill = this.#fill;
    const at = this.#fillLength;
    if (text.length <= SHORT_TEXT) {
      // A short reply, nearly always ASCII: copied here, cheaper than a call into the encoder.
      let i = 0;
      while (i < text.length) {
        const unit = text.charCodeAt(i);
        if (unit >= 0x80) break;
        fill[at + i++] = unit;
      }
      if (i === text.length) {
        this.#fillLength += i;
        return true;
      }
    }
    const { written } = encoder.encodeInto(text, fill.subarray(at));
    if (!this.#withinBound(written)) return false;
    this.#fillLength += written;
    return true;
  }

  /** Starts writing what is queued, unless a write is already under way. */
  flush(): void {
    if (this.#writing === null && this.#fillLength > 0 && !this.#failed) {
      this.#writing = this.#pump();
    }
  }

  /** Resolves when everything queued so far has been written, or writing failed. */
  async drained(): Promise<void> {
    this.flush();
    while (this.#writing !== null) await this.#writing;
  }

  /**
   * Once the outbox is done with (nothing being written): drops whatever is
   * queued, refuses more, and hands its buffers on to the next outbox. A
   * write under way keeps its buffer, and then nothing is handed on.
   */
  release(): void {
    this.discard();
    if (this.#writing !== null) return;
    if (this.#fill.length === INITIAL_BYTES && pool.length < POOL_MAX) pool.push(this.#fill);
    if (this.#spare.length === INITIAL_BYTES && pool.length < POOL_MAX) pool.push(this.#spare);
    this.#fill = EMPTY;
    this.#spare = EMPTY;
  }

  /** Drops whatever is queued and refuses more. */
  discard(): void {
    this.#failed = true;
    this.#fillLength = 0;
  }

  #withinBound(extra: number): boolean {
    if (this.#fillLength + this.#inFlight + extra <= this.#maxPending) return true;
    this.discard();
    this.#onOverflow?.();
    return false;
  }

  #ensureCapacity(extra: number): void {
    const needed = this.#fillLength + extra;
    if (needed <= this.#fill.length) return;
    if (this.#fillLength === 0 && needed <= INITIAL_BYTES && pool.length > 0) {
      this.#fill = pool.pop()!;
      return;
    }
    const grown = new Uint8Array(Math.max(needed, this.#fill.length * 2, INITIAL_BYTES));
    grown.set(this.#fill.subarray(0, this.#fillLength));
    this.#fill = grown;
  }

  async #pump(): Promise<void> {
    try {
      while (this.#fillLength > 0 && !this.#failed) {
        const out = this.#fill;
        const length = this.#fillLength;
        this.#fill = this.#spare;
        this.#fillLength = 0;
        this.#spare = out;
        this.#inFlight = length;
        let offset = 0;
        while (offset < length) {
          const n = await this.#writer.write(out.subarray(offset, length));
          this.#onWrite?.(out.subarray(offset, offset + n));
          offset += n;
          this.#inFlight = length - offset;
          this.#bytesWritten += n;
        }
        if (this.#spare.length > KEEP_BYTES) this.#spare = EMPTY;
      }
    } catch (error) {
      this.#failed = true;
      this.#fillLength = 0;
      this.#onError?.(error);
    } finally {
      this.#inFlight = 0;
      this.#writing = null;
    }
  }
}
