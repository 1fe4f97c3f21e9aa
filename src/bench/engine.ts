/**
 * The load engine for request/reply services: a set of workers, one
 * connection each, one request outstanding per connection (no pipelining).
 *
 * - Closed loop (default): a worker sends its next request as soon as the
 *   last one is answered.
 * - Open loop (`rate`): requests are due on a fixed schedule, `rate` per
 *   second across all workers; a request's latency counts from when it was
 *   due, so a stalled server is charged for every request it delayed (no
 *   coordinated omission, as wrk2 measures).
 *
 * Every reply is judged by the workload; a wrong one is an error, by kind.
 * The engine never touches flags, output or exit codes: the clock, the
 * timers and the connections are injected, and stopping is an AbortSignal.
 *
 * @module
 */
import { type Address, formatAddress } from "../net/address.ts";
import { connect, ConnectTimeoutError } from "../net/client.ts";
import { TIMEOUT, within } from "../net/deadline.ts";
import { DEFAULT_MAX_MESSAGE_BYTES, LineFramer } from "../net/framing.ts";
import { describeFailure } from "../net/failure.ts";
import {
  Aggregator,
  type AggregatorState,
  type BenchResult,
  seriesInterval,
} from "./aggregator.ts";
import type { ExchangeClient, ExchangeMode, ExchangeWorkload, Failure } from "./workload.ts";

/** A connection as the engine uses it: a `Deno.TcpConn`, or a stand-in in tests. */
export interface BenchConn {
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  close(): void;
}

/**
 * Opens a connection to `address`, failing after `timeoutMs`. With a
 * `signal`, the caller keeps the deadline instead: the attempt ends when the
 * signal is aborted (`timeoutMs` is then only what an error message says).
 */
export type Dial = (
  address: Address,
  timeoutMs: number,
  signal?: AbortSignal,
) => Promise<BenchConn>;

/** Waits `ms`, or less if `signal` is aborted first. */
export type Sleep = (ms: number, signal: AbortSignal) => Promise<void>;

/** Where a run is, for a progress line. */
export interface Progress {
  /** Since the run began, warmup included. */
  elapsedMs: number;
  phase: "warmup" | "measure" | "done";
  /** Completed after the warmup. */
  completed: number;
  /** Completed during the warmup. */
  warmupCompleted: number;
  errors: number;
}

/** A run under way. */
export interface BenchRun {
  /** What is counted: `requests`, `connections`, `deliveries`. */
  readonly unit: string;
  /** A snapshot of the counters, cheap enough to call a few times a second. */
  progress(): Progress;
  /** The run's figures once it is over (rejects only when it cannot run at all). */
  readonly done: Promise<BenchResult>;
  /**
   * What the run gathered, as plain data to merge with other runs' (see
   * `Aggregator.merge`); complete once `done` has settled.
   */
  state?(): AggregatorState;
}

/** Options for {@linkcode runExchanges}. */
export interface ExchangeOptions {
  /** The server to drive. */
  target: Address;
  workload: ExchangeWorkload;
  /** @default the workload's first mode */
  mode?: ExchangeMode;
  /** Workers, each with one connection and one request outstanding. @default {10} */
  connections?: number;
  /** How long to measure, after the warmup. */
  durationMs: number;
  /** How long to run before measuring. @default {0} */
  warmupMs?: number;
  /** Requests per second across all workers (open loop); none: closed loop. */
  rate?: number;
  /** Connect and reply deadline, each. @default {3000} */
  timeoutMs?: number;
  /** Quiet period that ends a reply sent without a newline. @default {50} */
  flushMs?: number;
  /** Stops the run early; its figures are still returned. */
  signal?: AbortSignal;
  /** The clock, in ms. @default performance.now */
  now?: () => number;
  /** @default a timer */
  sleep?: Sleep;
  /** @default a TCP connection with a deadline */
  dial?: Dial;
}

const READ_BYTES = 16 * 1024;
const LF = 10;
const CR = 13;
/** How often replies are checked against their deadline. */
const WATCH_MS = 100;
/** Pause after a connection fails, so a dead server is not hammered in a tight loop. */
const BACKOFF_MS = 50;
/**
 * Timers fire about a millisecond late: an open-loop worker sets its timer
 * this much early. A request that then goes out before it is due counts its
 * latency from when it went out, never from a later time.
 */
const EARLY_MS = 1;

/** The outcomes of reading one reply (numbers, so that the hot path allocates nothing). */
const Reply = { Right: 0, Wrong: 1, Closed: 2, Oversize: 3, Extra: 4 } as const;
type Reply = typeof Reply[keyof typeof Reply];

/** Waits with a timer that an abort clears. */
export const timerSleep: Sleep = (ms, signal) =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, Math.max(0, ms));
    signal.addEventListener("abort", done, { once: true });
  });

/**
 * Opens a TCP connection for one request: Nagle's delay never holds back a
 * connection's first and only write, so the socket is left as it comes.
 */
const oneShotDial = (
  address: Address,
  timeoutMs: number,
  signal?: AbortSignal,
): Promise<Deno.TcpConn> =>
  signal
    ? Deno.connect({ hostname: address.hostname, port: address.port, signal })
    : connect(address, timeoutMs);

/** Opens a TCP connection for request after request (no Nagle delay: requests are small). */
export const tcpDial: Dial = async (address, timeoutMs, signal) => {
  const conn = await oneShotDial(address, timeoutMs, signal);
  try {
    conn.setNoDelay(true);
  } catch { /* not fatal */ }
  return conn;
};

/** The error kind of a failed connect, read or write. */
export function errorKind(error: unknown, connecting: boolean): string {
  if (error instanceof Deno.errors.TimedOut) return connecting ? "connect-timeout" : "timeout";
  if (error instanceof Deno.errors.ConnectionRefused) return "connect-refused";
  // Every local port in use or in TIME_WAIT (a per-connection load closes first).
  if (connecting && error instanceof Deno.errors.AddrNotAvailable) return "no-local-port";
  if (error instanceof Deno.errors.ConnectionReset) return "reset";
  if (
    error instanceof Deno.errors.BrokenPipe || error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionAborted
  ) return "closed";
  return connecting ? "connect-failed" : "io-error";
}

function isPermissionError(error: unknown): boolean {
  return error instanceof Deno.errors.NotCapable || error instanceof Deno.errors.PermissionDenied;
}

/** One worker: its connection, its reusable buffers, and the reply it is waiting for. */
class Worker {
  readonly client: ExchangeClient;
  conn: BenchConn | null = null;
  /** When the request under way was sent (on the run's clock); -1 when idle. */
  busySince = -1;
  timedOut = false;
  /** When the connection attempt under way began; -1 when none is. */
  connectingSince = -1;
  connectTimedOut = false;
  /**
   * Ends the attempt under way when it is overdue or the run stops. One
   * serves attempt after attempt until it is used: a timer per attempt cost
   * about a tenth of the generator's CPU per connection.
   */
  dialer: AbortController | null = null;
  /** A read still under way after a quiet period ended a reply. */
  pending: Promise<number | null> | null = null;
  readonly buf = new Uint8Array(READ_BYTES);
  readonly framer: LineFramer;
  /** Replies read for the request under way. */
  replies = 0;
  failure: Failure | null = null;
  readonly onMessage = (message: Uint8Array): void => {
    if (++this.replies === 1) this.failure = this.client.check(message);
  };
  /** For replies read to end of stream. */
  #whole: Uint8Array | null = null;

  constructor(client: ExchangeClient, maxReplyBytes: number) {
    this.client = client;
    this.framer = new LineFramer({ maxMessageBytes: maxReplyBytes });
  }

  /**
   * True when the next read may be judged by {@linkcode Worker.judgeWhole}:
   * nothing of a reply held back and no read left under way.
   */
  get readsFresh(): boolean {
    return this.pending === null && this.framer.pendingBytes === 0;
  }

  /**
   * The common case, without the framer: the whole reply, alone, in the `n`
   * bytes of one fresh read. Undefined when that read holds anything else.
   */
  judgeWhole(n: number | null): Reply | undefined {
    const buf = this.buf;
    if (n === null || buf[n - 1] !== LF || buf.indexOf(LF) !== n - 1) return undefined;
    const end = n > 1 && buf[n - 2] === CR ? n - 2 : n - 1;
    if (end > this.framer.maxMessageBytes) return Reply.Oversize;
    this.failure = this.client.check(buf.subarray(0, end));
    return this.failure === null ? Reply.Right : Reply.Wrong;
  }

  /**
   * Reads one framed reply and judges it. `first` is the result of a fresh
   * read already made into `buf`, when the caller made one.
   */
  async readLine(conn: BenchConn, flushMs: number, first?: number | null): Promise<Reply> {
    this.replies = 0;
    this.failure = null;
    const framer = this.framer;
    const buf = this.buf;
    while (true) {
      let n: number | null;
      if (first !== undefined) {
        n = first;
        first = undefined;
      } else if (framer.pendingBytes > 0) {
        // Part of a reply with no newline yet: the quiet period ends it.
        this.pending ??= conn.read(buf);
        const result = await within(this.pending, flushMs);
        if (result === TIMEOUT) {
          if (!framer.flush(this.onMessage)) return Reply.Oversize;
          break;
        }
        this.pending = null;
        n = result;
      } else if (this.pending !== null) {
        n = await this.pending;
        this.pending = null;
      } else {
        n = await conn.read(buf);
        if (this.replies === 0) {
          const whole = this.judgeWhole(n);
          if (whole !== undefined) return whole;
        }
      }
      if (n === null) {
        if (!framer.flush(this.onMessage)) return Reply.Oversize;
        if (this.replies === 0) return Reply.Closed;
        break;
      }
      if (!framer.push(buf.subarray(0, n), this.onMessage)) return Reply.Oversize;
      if (this.replies > 0) break;
    }
    if (this.replies > 1 || framer.pendingBytes > 0) return Reply.Extra;
    return this.failure === null ? Reply.Right : Reply.Wrong;
  }

  /** Reads everything until the server closes, and judges it. */
  async readToEnd(conn: BenchConn, maxBytes: number): Promise<Reply> {
    this.failure = null;
    const whole = this.#whole ??= new Uint8Array(maxBytes + 1);
    let length = 0;
    while (true) {
      const n = await conn.read(whole.subarray(length));
      if (n === null) break;
      length += n;
      if (length > maxBytes) return Reply.Oversize;
    }
    this.failure = this.client.check(whole.subarray(0, length));
    return this.failure === null ? Reply.Right : Reply.Wrong;
  }

  /** Closes the connection, if any, and waits for a read left under way. */
  async close(): Promise<void> {
    const conn = this.conn;
    this.conn = null;
    if (conn === null) return;
    try {
      conn.close();
    } catch { /* already closed (by the watchdog) */ }
    const pending = this.pending;
    this.pending = null;
    if (pending) await pending.catch(() => {});
  }
}

class ExchangeEngine {
  readonly #o: Required<Omit<ExchangeOptions, "rate" | "signal">> & { rate?: number };
  readonly #signal?: AbortSignal;
  readonly #now: () => number;
  readonly #perConnection: boolean;
  readonly #lines: boolean;
  readonly #maxReplyBytes: number;
  readonly #interval: number;
  readonly #address: string;
  readonly #stop = new AbortController();
  readonly #workers: Worker[] = [];
  #start = 0;
  #measureFrom = 0;
  #end = 0;
  #stopAt = Infinity;
  #aggregator: Aggregator;
  #slot = 0;
  #sent = 0;
  #interrupted = false;
  #fatal: unknown = null;
  #finished = false;

  constructor(options: ExchangeOptions) {
    const workload = options.workload;
    const mode = options.mode ?? workload.modes[0];
    if (!workload.modes.includes(mode)) {
      throw new RangeError(
        `Cannot use mode "${mode}" with ${workload.service}: choose ${workload.modes.join(" or ")}`,
      );
    }
    if (workload.reply === "end" && mode !== "per-connection") {
      throw new RangeError(
        `Cannot use mode "${mode}": replies that end at close need per-connection`,
      );
    }
    const connections = options.connections ?? 10;
    if (!Number.isSafeInteger(connections) || connections < 1) {
      throw new RangeError(`Cannot use ${connections} connections: must be a positive integer`);
    }
    if (!(options.durationMs > 0)) {
      throw new RangeError(`Cannot run for ${options.durationMs} ms: must be more than 0`);
    }
    if (options.rate !== undefined && !(options.rate > 0 && Number.isFinite(options.rate))) {
      throw new RangeError(`Cannot use rate ${options.rate}: must be more than 0 per second`);
    }
    this.#o = {
      target: options.target,
      workload,
      mode,
      connections,
      durationMs: options.durationMs,
      warmupMs: Math.max(0, options.warmupMs ?? 0),
      rate: options.rate,
      timeoutMs: options.timeoutMs ?? 3000,
      flushMs: options.flushMs ?? 50,
      now: options.now ?? (() => performance.now()),
      sleep: options.sleep ?? timerSleep,
      dial: options.dial ?? (mode === "per-connection" ? oneShotDial : tcpDial),
    };
    this.#signal = options.signal;
    this.#now = this.#o.now;
    this.#perConnection = mode === "per-connection";
    this.#lines = workload.reply === "line";
    this.#maxReplyBytes = workload.maxReplyBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.#interval = options.rate === undefined ? 0 : 1000 / options.rate;
    this.#address = formatAddress(options.target);
    this.#aggregator = new Aggregator();
  }

  get unit(): string {
    return this.#perConnection ? "connections" : "requests";
  }

  progress(): Progress {
    const now = this.#now();
    const aggregator = this.#aggregator;
    return {
      elapsedMs: now - this.#start,
      phase: this.#finished ? "done" : now < this.#measureFrom ? "warmup" : "measure",
      completed: aggregator.completed,
      warmupCompleted: aggregator.warmupCompleted,
      errors: aggregator.errors,
    };
  }

  state(): AggregatorState {
    return this.#aggregator.state();
  }

  async run(): Promise<BenchResult> {
    const o = this.#o;
    this.#start = this.#now();
    this.#measureFrom = this.#start + o.warmupMs;
    this.#end = this.#measureFrom + o.durationMs;
    this.#aggregator = new Aggregator({
      measureFrom: this.#measureFrom,
      durationMs: o.durationMs,
      intervalMs: seriesInterval(o.durationMs),
    });
    const onAbort = () => this.#interrupt();
    this.#signal?.addEventListener("abort", onAbort, { once: true });
    if (this.#signal?.aborted) this.#interrupt();
    const watchdog = setInterval(() => this.#watch(), WATCH_MS);
    try {
      for (let i = 0; i < o.connections; i++) {
        this.#workers.push(new Worker(o.workload.client(i), this.#maxReplyBytes));
      }
      await Promise.all(this.#workers.map((worker) => this.#work(worker)));
    } finally {
      clearInterval(watchdog);
      this.#signal?.removeEventListener("abort", onAbort);
      this.#stop.abort();
      this.#finished = true;
    }
    if (this.#fatal !== null) throw this.#fatal;
    return this.#result();
  }

  #result(): BenchResult {
    const o = this.#o;
    const aggregator = this.#aggregator;
    const stoppedAt = Math.min(this.#stopAt, this.#end);
    const elapsedMs = Math.max(stoppedAt, aggregator.lastAt) - this.#measureFrom;
    let extra: Record<string, number> | undefined;
    if (o.rate !== undefined) {
      const due = Math.max(0, Math.ceil((stoppedAt - this.#start) / this.#interval));
      extra = { due, sent: this.#sent, unsent: Math.max(0, due - this.#sent) };
    }
    return aggregator.result({
      service: o.workload.service,
      target: this.#address,
      mode: o.mode,
      connections: o.connections,
      rate: o.rate,
      durationMs: o.durationMs,
      warmupMs: o.warmupMs,
      unit: this.unit,
      elapsedMs: Math.max(0, elapsedMs),
      interrupted: this.#interrupted,
      extra,
    });
  }

  /** Stops at once: no new requests, and connections are closed to end reads under way. */
  #interrupt(): void {
    if (this.#interrupted) return;
    this.#interrupted = true;
    this.#stopAt = this.#now();
    this.#stop.abort();
    for (const worker of this.#workers) {
      worker.dialer?.abort();
      try {
        worker.conn?.close();
      } catch { /* already closed */ }
    }
  }

  /** Ends the attempts and cuts the connections that are overdue; their worker records a timeout. */
  #watch(): void {
    const now = this.#now();
    const timeoutMs = this.#o.timeoutMs;
    for (const worker of this.#workers) {
      if (
        worker.connectingSince >= 0 && now - worker.connectingSince > timeoutMs &&
        !worker.connectTimedOut
      ) {
        worker.connectTimedOut = true;
        worker.dialer?.abort();
      }
      if (worker.busySince >= 0 && now - worker.busySince > timeoutMs && !worker.timedOut) {
        worker.timedOut = true;
        try {
          worker.conn?.close();
        } catch { /* already closed */ }
      }
    }
  }

  async #work(worker: Worker): Promise<void> {
    try {
      if (this.#perConnection) await this.#perConnectionLoop(worker);
      else await this.#persistentLoop(worker);
    } finally {
      await worker.close();
    }
  }

  async #persistentLoop(worker: Worker): Promise<void> {
    const open = this.#o.rate !== undefined;
    while (true) {
      if (worker.conn === null && !await this.#connect(worker)) {
        if (this.#over()) return;
        continue;
      }
      const from = open ? await this.#due() : this.#next();
      if (from < 0) return;
      if (!await this.#exchange(worker, from)) await worker.close();
    }
  }

  async #perConnectionLoop(worker: Worker): Promise<void> {
    const open = this.#o.rate !== undefined;
    while (true) {
      const from = open ? await this.#due() : this.#next();
      if (from < 0) return;
      if (!await this.#connect(worker)) continue;
      await this.#exchange(worker, from);
      await worker.close();
    }
  }

  /** Closed loop: the time the next request starts (`now`), or -1 once no new one may. */
  #next(now = this.#now()): number {
    if (this.#interrupted) return -1;
    return now >= this.#end ? -1 : now;
  }

  /** True once no new request may start. */
  #over(): boolean {
    return this.#interrupted || this.#now() >= this.#end;
  }

  /**
   * Open loop: takes the next slot of the schedule and waits until it is due.
   * Returns the time the request's latency counts from, or -1 when the run is over.
   */
  async #due(): Promise<number> {
    const intended = this.#start + this.#slot++ * this.#interval;
    if (intended >= this.#end || this.#over()) return -1;
    let now = this.#now();
    if (intended - now > EARLY_MS) {
      await this.#o.sleep(intended - now - EARLY_MS, this.#stop.signal);
      if (this.#interrupted) return -1;
      now = this.#now();
    }
    this.#sent++;
    if (now >= this.#measureFrom) this.#aggregator.lag(Math.max(0, now - intended));
    return Math.min(intended, now);
  }

  /** Opens the worker's connection; false (error counted, after a pause) if that failed. */
  async #connect(worker: Worker): Promise<boolean> {
    let dialer = worker.dialer;
    if (dialer === null || dialer.signal.aborted) dialer = worker.dialer = new AbortController();
    worker.connectTimedOut = false;
    worker.connectingSince = this.#now();
    try {
      const conn = await this.#o.dial(this.#o.target, this.#o.timeoutMs, dialer.signal);
      worker.connectingSince = -1;
      if (this.#interrupted) {
        conn.close();
        return false;
      }
      worker.conn = conn;
      worker.timedOut = false;
      worker.framer.reset();
      return true;
    } catch (thrown) {
      worker.connectingSince = -1;
      if (this.#interrupted) return false;
      const error = worker.connectTimedOut
        ? new ConnectTimeoutError(this.#address, this.#o.timeoutMs)
        : thrown;
      if (isPermissionError(error)) {
        this.#fatal ??= error;
        this.#interrupt();
        return false;
      }
      this.#aggregator.failure(
        errorKind(error, true),
        describeFailure(error, { action: "connect", address: this.#address }),
        this.#now(),
      );
      await this.#o.sleep(BACKOFF_MS, this.#stop.signal);
      return false;
    }
  }

  /**
   * Sends a request on the worker's connection and judges the reply; in a
   * closed persistent loop, request after request until the run is over, in
   * this one call (an async call less per request). Returns whether the
   * connection can carry another request.
   */
  async #exchange(worker: Worker, from: number): Promise<boolean> {
    const conn = worker.conn!;
    const repeat = !this.#perConnection && this.#o.rate === undefined;
    while (from >= 0) {
      const request = worker.client.request();
      // Closed loop: `from` is the time just read. Open loop: it may lie in the past.
      worker.busySince = this.#o.rate === undefined ? from : this.#now();
      let reply: Reply;
      try {
        let offset = 0;
        while (offset < request.length) {
          offset += await conn.write(offset === 0 ? request : request.subarray(offset));
        }
        if (!this.#lines) reply = await worker.readToEnd(conn, this.#maxReplyBytes);
        else if (worker.readsFresh) {
          // The common case read here, not in readLine: an async call less per request.
          const n = await conn.read(worker.buf);
          reply = worker.judgeWhole(n) ?? await worker.readLine(conn, this.#o.flushMs, n);
        } else reply = await worker.readLine(conn, this.#o.flushMs);
      } catch (error) {
        worker.busySince = -1;
        if (this.#interrupted) return false;
        if (worker.timedOut) {
          this.#aggregator.failure(
            "reply-timeout",
            `${this.#address} did not reply within ${this.#o.timeoutMs} ms`,
            this.#now(),
          );
        } else {
          this.#aggregator.failure(
            errorKind(error, false),
            describeFailure(error, { address: this.#address }),
            this.#now(),
          );
        }
        return false;
      }
      worker.busySince = -1;
      const at = this.#now();
      if (reply === Reply.Right) {
        this.#aggregator.success(at - from, at);
        // The next request starts as this one ends: one clock read for both (80 ns each here).
        from = repeat ? this.#next(at) : -1;
        continue;
      }
      if (this.#interrupted) return false;
      const failure = this.#replyFailure(reply, worker);
      this.#aggregator.failure(failure.kind, failure.detail, at);
      return reply === Reply.Wrong;
    }
    return true;
  }

  #replyFailure(reply: Reply, worker: Worker): Failure {
    const address = this.#address;
    switch (reply) {
      case Reply.Wrong:
        return worker.failure!;
      case Reply.Closed:
        return { kind: "closed", detail: `${address} closed the connection without a reply` };
      case Reply.Oversize:
        return {
          kind: "oversize-reply",
          detail: `${address} sent a reply longer than ${this.#maxReplyBytes} bytes`,
        };
      default:
        return { kind: "extra-reply", detail: `${address} sent more than one reply to a request` };
    }
  }
}

/**
 * Starts a load run against a request/reply service.
 *
 * @example Ten connections for half a second against a double server
 * ```ts ignore
 * import { runExchanges } from "./engine.ts";
 * import { doubleWorkload } from "./double.ts";
 *
 * const run = runExchanges({
 *   target: { hostname: "127.0.0.1", port: 9001 },
 *   workload: doubleWorkload(),
 *   durationMs: 500,
 * });
 * const result = await run.done;
 * console.log(result.throughput, result.latency.p99Ms);
 * ```
 */
export function runExchanges(options: ExchangeOptions): BenchRun {
  const engine = new ExchangeEngine(options);
  const done = engine.run();
  return {
    unit: engine.unit,
    progress: () => engine.progress(),
    done,
    state: () => engine.state(),
  };
}
