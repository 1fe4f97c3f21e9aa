/**
 * The server core every socklab service runs on: accepting, framing, bounded
 * output, timeouts, connection limits and graceful shutdown, written once.
 * A service only says what to do with a connection and its messages.
 *
 * @module
 */
import { DEFAULT_MAX_MESSAGE_BYTES, LineFramer, type Terminator } from "./framing.ts";
import { DEFAULT_MAX_PENDING_BYTES, Outbox } from "./outbox.ts";
import { formatAddress } from "./address.ts";
import { escapeBytes } from "./escape.ts";
import { TIMEOUT as QUIET, within } from "./deadline.ts";
import { getLogger, isTracing, type Logger, traceLogger } from "../log.ts";
import { CrowdWatch, returnMemory } from "./memory.ts";

/** One accepted connection, as a service sees it. */
export interface Peer {
  /** A number unique within the server's run, starting at 1. */
  readonly id: number;
  /** The peer's address as typed: `127.0.0.1:54321`. */
  readonly remote: string;
  /** Queues bytes for the peer; false if they were dropped (connection failing). */
  send(bytes: Uint8Array): boolean;
  /** Queues text (UTF-8) for the peer; false if it was dropped. */
  sendText(text: string): boolean;
  /** Bytes queued for the peer and not yet written. */
  readonly pendingBytes: number;
  /**
   * Ends the exchange gracefully: later messages are ignored, queued output is
   * written, our side is closed, and the peer's remaining bytes are read and
   * dropped for a short while so that it gets a clean close, not a reset.
   * Called before anything was read (a service that speaks first), it closes
   * at once after the output.
   */
  end(): void;
  /** Closes at once, dropping queued output; `reason` is logged. */
  abort(reason: string): void;
}

/** What a service does with one connection. */
export interface Session {
  /** A framed message (line framing). The view is only valid during the call. */
  message?(message: Uint8Array, terminator: Terminator): void;
  /** A chunk exactly as read (raw framing). The view is only valid during the call. */
  chunk?(chunk: Uint8Array): void;
  /**
   * A message went past the size limit. Return `"skip"` to drop it and go on;
   * by default the peer gets a one-line error and the connection is closed.
   */
  oversize?(): "close" | "skip";
  /** The connection is gone, for whatever reason. */
  closed?(): void;
}

/** A protocol on top of the server core. */
export interface Service {
  /** The service's name, as in `socklab double listening on …`. */
  readonly name: string;
  /** `"lines"` (the shared framing) or `"raw"` (read chunks as they come). @default {"lines"} */
  readonly framing?: "lines" | "raw";
  /** Starts a session for a new connection; may send at once or end at once. */
  open(peer: Peer): Session;
}

/** Options for {@linkcode serve}. */
export interface ServeOptions {
  /** The address to listen on. @default {"127.0.0.1"} */
  hostname?: string;
  /** 0 picks a free port. @default {0} */
  port?: number;
  /** Largest message. @default {8192} */
  maxMessageBytes?: number;
  /** Quiet period that ends a message with no newline, in ms. @default {50} */
  flushMs?: number;
  /** Output that may wait for one peer before it is cut off. @default {262144} */
  maxPendingBytes?: number;
  /** Connections open at once; past it, a one-line refusal. @default {10000} */
  maxConnections?: number;
  /** No bytes from the peer for this long closes it; 0 never. @default {300000} */
  idleTimeoutMs?: number;
  /** A started message must end within this; 0 never. @default {10000} */
  messageTimeoutMs?: number;
  /** How long a graceful shutdown may take before connections are cut. @default {5000} */
  shutdownTimeoutMs?: number;
  /**
   * How long to read and drop a peer's bytes after our side is closed (checked
   * on the server's tick, so up to a quarter longer); 0 closes at once.
   * @default {1000}
   */
  lingerMs?: number;
  /**
   * When this many connections have closed since the most open at once (and
   * at most half as many are left), or five times this many have been
   * accepted and accepts have then stayed at a trickle for 5 s, run one
   * memory-reducing collection so the process hands their memory back at
   * once; 0 never. @default {1000}
   */
  returnMemoryAfter?: number;
  /** Decides whether a peer may connect (access control); refused peers are closed at once. */
  admit?: (remote: Deno.NetAddr) => boolean;
}

/** Counters of one server's run. */
export interface ServerStats {
  /** Connections accepted and served. */
  connections: number;
  /** Messages (or raw chunks) received. */
  messages: number;
  /** Connections refused: over the limit or not admitted. */
  refused: number;
  /** Connections open now. */
  open: number;
  /** Memory-reducing collections run after crowds of connections closed. */
  memoryReturns: number;
}

/**
 * A connection reads into a small buffer first, and a full-size one once a
 * read fills the small one: thousands of idle or lockstep peers then hold
 * 1 KiB each instead of 8 KiB, while bulk senders still get large reads.
 */
const FIRST_READ_BYTES = 1024;
const READ_BYTES = 8 * 1024;
/** Above this much queued output, a connection stops reading until it drains. */
const HIGH_WATER_BYTES = 64 * 1024;
/** The longest interval between timeout checks; shorter when a timeout is short. */
const TICK_MS = 250;
/**
 * How long accepts must stay at a trickle after a burst of short connections
 * before its memory is handed back: a shorter lull is only a pause between
 * bursts (see {@linkcode CrowdWatch}).
 */
const BURST_QUIET_MS = 5_000;
const LF = 10;
/** Nothing to read into yet. */
const NO_BYTES = new Uint8Array(0);
/**
 * What lingering connections read into: the bytes are dropped, so every
 * connection shares one buffer.
 */
const lingerBuffer = new Uint8Array(READ_BYTES);
/**
 * First read buffers of connections that are over, for new ones: a server
 * with many short connections would otherwise allocate one per connection
 * (a typed array's backing store costs about 1 µs). At most 256 are kept.
 */
const readBuffers: Uint8Array<ArrayBuffer>[] = [];
const MAX_POOLED_READ_BUFFERS = 256;
/** A quiet-period timer this much late means the process was busy, not the peer quiet. */
const LATE_TIMER_MS = 10;
/** What a connection's wait resolves to when `end()` or `abort()` interrupts it. */
const WOKEN: unique symbol = Symbol("woken");

function isClosedError(error: unknown): boolean {
  return error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted;
}

/**
 * An accept that failed for that one connection only: Deno asks a connection
 * reset before it was accepted for its peer's address, and gets ENOTCONN.
 */
function isGoneBeforeAccept(error: unknown): boolean {
  return error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.ConnectionAborted;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Why a read or write failed, as the close line says it. */
function describeIoFailure(error: unknown): string {
  if (error instanceof Deno.errors.ConnectionReset) return "peer reset the connection";
  if (error instanceof Deno.errors.BrokenPipe) return "peer is gone (broken pipe)";
  if (error instanceof Deno.errors.ConnectionAborted) return "connection aborted";
  if (error instanceof Deno.errors.TimedOut) return "connection timed out";
  return describeError(error);
}

const encoder = new TextEncoder();

/**
 * A listening server: {@linkcode serve} creates it.
 *
 * @example Serve an echo service on a free port, then shut down
 * ```ts
 * import { serve } from "./server.ts";
 *
 * const server = serve({
 *   name: "echo",
 *   open: (peer) => ({ message: (m) => peer.send(m) }),
 * }, { port: 0 });
 * await server.shutdown();
 * ```
 */
export class Server implements AsyncDisposable {
  /** The address actually bound (the port is known even when 0 was asked for). */
  readonly addr: Deno.NetAddr;
  /** The service's name. */
  readonly name: string;
  /** Live counters. */
  readonly stats: ServerStats = {
    connections: 0,
    messages: 0,
    refused: 0,
    open: 0,
    memoryReturns: 0,
  };
  /** Resolves when the server has stopped and every connection is closed. */
  readonly finished: Promise<ServerStats>;

  readonly #listener: Deno.TcpListener;
  readonly #service: Service;
  readonly #options: Required<Omit<ServeOptions, "admit">> & Pick<ServeOptions, "admit">;
  readonly #connections = new Set<Connection>();
  readonly #log;
  #ticker: ReturnType<typeof setInterval> | undefined;
  #draining = false;
  #shutdown: Promise<ServerStats> | null = null;
  #nextId = 1;

  /** Listens at once; throws if the address cannot be bound. {@linkcode serve} is the usual way in. */
  constructor(service: Service, options: ServeOptions = {}) {
    this.#service = service;
    this.name = service.name;
    this.#options = {
      hostname: options.hostname ?? "127.0.0.1",
      port: options.port ?? 0,
      maxMessageBytes: options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      flushMs: options.flushMs ?? 50,
      maxPendingBytes: options.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      maxConnections: options.maxConnections ?? 10_000,
      idleTimeoutMs: options.idleTimeoutMs ?? 300_000,
      messageTimeoutMs: options.messageTimeoutMs ?? 10_000,
      shutdownTimeoutMs: options.shutdownTimeoutMs ?? 5_000,
      lingerMs: options.lingerMs ?? 1_000,
      returnMemoryAfter: options.returnMemoryAfter ?? 1_000,
      admit: options.admit,
    };
    this.#log = getLogger(["socklab", "server", service.name]);
    this.#listener = Deno.listen({
      hostname: this.#options.hostname,
      port: this.#options.port,
      transport: "tcp",
    });
    this.addr = this.#listener.addr;
    // The tick also ends lingering connections: as often as the shortest of these needs.
    const timeouts = [
      this.#options.idleTimeoutMs,
      this.#options.messageTimeoutMs,
      this.#options.lingerMs,
    ].filter((ms) => ms > 0);
    const tickMs = Math.max(10, Math.min(TICK_MS, ...timeouts.map((ms) => ms / 4)));
    this.#crowd = new CrowdWatch(
      this.#options.returnMemoryAfter,
      Math.ceil(BURST_QUIET_MS / tickMs),
      tickMs,
    );
    this.#ticker = setInterval(() => this.#tick(), tickMs);
    this.finished = this.#acceptLoop();
  }

  /** The options in force, defaults filled in. */
  get options(): Readonly<Required<Omit<ServeOptions, "admit">>> {
    return this.#options;
  }

  /** The bound address as typed: `127.0.0.1:9001`. */
  get address(): string {
    return formatAddress(this.addr);
  }

  /** True once shutdown has begun. */
  get draining(): boolean {
    return this.#draining;
  }

  /**
   * Stops accepting, lets every connection finish what it has received
   * (replies written, quiet connections closed), and cuts what is left after
   * the shutdown timeout. Safe to call more than once.
   */
  shutdown(): Promise<ServerStats> {
    this.#shutdown ??= this.#drain();
    return this.#shutdown;
  }

  /** Shuts down gracefully (`await using`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  async #acceptLoop(): Promise<ServerStats> {
    while (!this.#draining) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch (error) {
        if (this.#draining || isClosedError(error)) break;
        if (isGoneBeforeAccept(error)) {
          // The peer reset before its turn came: that connection is used up,
          // the next one is not, so no back-off.
          this.#log.debug("A peer reset before it was accepted: {error}", {
            error: describeError(error),
          });
          continue;
        }
        // Out of file descriptors and the like: say so, back off, keep serving.
        this.#log.warn("Cannot accept a connection: {error}", { error: describeError(error) });
        await new Promise((resolve) => setTimeout(resolve, 100));
        continue;
      }
      this.#admit(conn);
    }
    await this.shutdown();
    return this.stats;
  }

  #admit(conn: Deno.TcpConn): void {
    const remoteAddr = conn.remoteAddr as Deno.NetAddr;
    let admitted = true;
    try {
      admitted = this.#options.admit?.(remoteAddr) ?? true;
    } catch (error) {
      admitted = false;
      this.#log.error("Access check failed for {remote}: {error}", {
        remote: formatAddress(remoteAddr),
        error: describeError(error),
      });
    }
    if (!admitted) {
      this.stats.refused++;
      this.#log.warn("Refused {remote}: not allowed (refused so far: {refused})", {
        remote: formatAddress(remoteAddr),
        refused: this.stats.refused,
      });
      try {
        conn.close();
      } catch { /* already gone */ }
      return;
    }
    if (this.#connections.size >= this.#options.maxConnections) {
      this.stats.refused++;
      this.#log.warn(
        "Refused {remote}: {open} connections open, the limit (refused so far: {refused})",
        {
          remote: formatAddress(remoteAddr),
          open: this.#connections.size,
          refused: this.stats.refused,
        },
      );
      // One short line, best effort, then close: never wait on a peer we refuse.
      // The write fits any empty socket buffer, so it never waits for the peer.
      const refusal: Promise<void> = conn.write(
        encoder.encode(`error: server busy (${this.#options.maxConnections} connections)\n`),
      )
        .then(() => {}, () => {})
        .finally(() => {
          try {
            conn.close();
          } catch { /* already gone */ }
          this.#refusals.delete(refusal);
        });
      this.#refusals.add(refusal);
      return;
    }
    this.stats.connections++;
    this.stats.open++;
    const connection = new Connection(
      this,
      conn,
      this.#nextId++,
      remoteAddr,
      this.#service,
      this.#log,
    );
    this.#connections.add(connection);
    // run() never rejects: every failure is handled and logged inside.
    connection.run().then(() => {
      this.#connections.delete(connection);
      this.stats.open--;
      if (this.#draining && this.#connections.size === 0) this.#allClosed?.();
    });
  }

  #allClosed: (() => void) | null = null;
  readonly #refusals = new Set<Promise<void>>();

  #tick(): void {
    const now = performance.now();
    const { idleTimeoutMs, messageTimeoutMs } = this.#options;
    for (const connection of this.#connections) {
      connection.checkTimeouts(now, idleTimeoutMs, messageTimeoutMs);
      connection.checkDeadline(now);
    }
    if (
      this.#crowd.update(this.#connections.size, this.stats.connections) && this.#returning === null
    ) {
      this.#returning = this.#returnMemory().finally(() => this.#returning = null);
    }
  }

  readonly #crowd: CrowdWatch;
  #returning: Promise<void> | null = null;

  async #returnMemory(): Promise<void> {
    try {
      const returned = await returnMemory();
      if (returned === null) return;
      this.stats.memoryReturns++;
      const mib = (bytes: number) => (bytes / 1048576).toFixed(1);
      this.#log.debug("Returned memory: heap {before} -> {after} MiB, {pause} ms pause", {
        before: mib(returned.heapBefore),
        after: mib(returned.heapAfter),
        pause: returned.pauseMs.toFixed(1),
      });
    } catch (error) {
      this.#log.debug("Cannot return memory: {error}", { error: describeError(error) });
    }
  }

  async #drain(): Promise<ServerStats> {
    this.#draining = true;
    try {
      this.#listener.close();
    } catch { /* already closed */ }
    clearInterval(this.#ticker);
    const deadline = performance.now() + this.#options.shutdownTimeoutMs;
    const allClosed = new Promise<void>((resolve) => {
      this.#allClosed = resolve;
      if (this.#connections.size === 0) resolve();
    });
    // Close each connection once it has been quiet for a flush period with
    // nothing owed: everything it sent before the shutdown has then been read
    // and answered. Closing is graceful (replies written, then our side shut).
    const quietMs = Math.max(this.#options.flushMs, 10);
    while (this.#connections.size > 0 && performance.now() < deadline) {
      const left = deadline - performance.now();
      if (await within(allClosed, Math.min(quietMs, left)) !== QUIET) break;
      const now = performance.now();
      for (const connection of this.#connections) {
        connection.checkDeadline(now);
        connection.closeIfQuiet();
      }
    }
    if (this.#connections.size > 0) {
      this.#log.warn("Shutdown timeout: cutting {count} connection(s)", {
        count: this.#connections.size,
      });
      for (const connection of this.#connections) connection.abort("shutdown timeout");
      await allClosed;
    }
    await Promise.all(this.#refusals);
    await this.#returning;
    return this.stats;
  }

  /** Counts a message (called by connections). */
  countMessage(): void {
    this.stats.messages++;
  }
}

type State = "open" | "ending" | "closed";

/** One connection's read loop and state; internal to the server core. */
class Connection implements Peer {
  readonly id: number;
  readonly #remoteAddr: Deno.NetAddr;
  #remote: string | null = null;
  readonly #server: Server;
  readonly #conn: Deno.TcpConn;
  readonly #service: Service;
  readonly #framer: LineFramer | null;
  readonly #outbox: Outbox;
  readonly #log: Logger;
  #session: Session = {};
  #state: State = "open";
  #socketClosed = false;
  /** Why the connection ends: the first cause wins; logged once, on close. */
  #reason: string | null = null;
  /** Interrupts the wait under way in the read loop (set only while it waits). */
  #wake: (() => void) | null = null;
  #reads = 0;
  #readsAtLastCheck = -1;
  /**
   * Reads counted at the server's last tick. The tick dates input, not each
   * read: a clock read per read is 1% of the CPU of a busy persistent
   * connection, and an idle timeout needs no finer time than the tick.
   */
  #readsAtLastTick = -1;
  /** When the tick last saw new input (or first saw the connection); 0 before its first tick. */
  #lastInputAt = 0;
  /** When the unfinished message began (its first byte arrived); 0 if none. */
  #messageStartedAt = 0;
  #flushScheduled = false;
  /** True while the read loop hands this connection's input to the service; it flushes after. */
  #handling = false;
  /**
   * When the step under way at the end of the connection must be over
   * (writing what is owed, or lingering), in performance.now() time; 0 if none.
   * The server's tick enforces it: no timer per connection.
   */
  #deadline = 0;
  /** What happens at the deadline: cut the connection, or end the linger. */
  #atDeadline: "abort" | "close" = "close";

  constructor(
    server: Server,
    conn: Deno.TcpConn,
    id: number,
    remoteAddr: Deno.NetAddr,
    service: Service,
    log: Logger,
  ) {
    this.#server = server;
    this.#conn = conn;
    this.id = id;
    this.#remoteAddr = remoteAddr;
    this.#service = service;
    this.#log = log;
    const options = server.options;
    this.#framer = service.framing === "raw" ? null : new LineFramer({
      maxMessageBytes: options.maxMessageBytes,
      oversize: "skip",
    });
    this.#outbox = new Outbox(conn, {
      maxPendingBytes: options.maxPendingBytes,
      onOverflow: () => {
        this.#log.warn("Disconnecting {remote}: more than {limit} bytes of output waiting", {
          remote: this.remote,
          limit: options.maxPendingBytes,
        });
        this.abort(`more than ${options.maxPendingBytes} bytes of output waiting`);
      },
      onError: (error) => this.abort(`write failed: ${describeIoFailure(error)}`),
      onWrite: isTracing()
        ? (bytes) =>
          traceLogger.debug("write {remote} {bytes}", {
            remote: this.remote,
            bytes: escapeBytes(bytes),
          })
        : undefined,
    });
  }

  /** The peer's address, as `host:port` (made when first asked for: most connections never are). */
  get remote(): string {
    return this.#remote ??= formatAddress(this.#remoteAddr);
  }

  get pendingBytes(): number {
    return this.#outbox.pendingBytes;
  }

  send(bytes: Uint8Array): boolean {
    if (this.#state === "closed" || !this.#outbox.push(bytes)) return false;
    this.#scheduleFlush();
    return true;
  }

  sendText(text: string): boolean {
    if (this.#state === "closed" || !this.#outbox.pushText(text)) return false;
    this.#scheduleFlush();
    return true;
  }

  /**
   * Output queued from outside this connection's own read loop (a broadcast
   * from another client's message) must not wait for this peer to send
   * something: start writing once the current task is done. Output queued by
   * the loop itself is written by the loop, in one write, with no task.
   */
  #scheduleFlush(): void {
    if (this.#handling || this.#flushScheduled) return;
    this.#flushScheduled = true;
    queueMicrotask(this.#flushTask);
  }

  /** The task #scheduleFlush queues: one per connection, not a closure per broadcast line. */
  readonly #flushTask = (): void => {
    this.#flushScheduled = false;
    this.#outbox.flush();
  };

  end(): void {
    this.#endWith("ended by the service");
  }

  abort(reason: string): void {
    if (this.#state === "closed") return;
    this.#state = "closed";
    this.#reason ??= reason;
    this.#outbox.discard();
    this.#closeSocket();
    this.#wake?.();
  }

  /** Stops reading new messages; the read loop then writes what is owed and closes. */
  #endWith(reason: string): void {
    if (this.#state !== "open") return;
    this.#state = "ending";
    this.#reason ??= reason;
    this.#wake?.();
  }

  /** Called on every tick of the server. */
  checkTimeouts(now: number, idleTimeoutMs: number, messageTimeoutMs: number): void {
    if (this.#reads !== this.#readsAtLastTick) {
      // Input since the last tick (or a new connection): idle from now at the earliest.
      this.#readsAtLastTick = this.#reads;
      this.#lastInputAt = now;
    }
    if (this.#state !== "open") return;
    if (
      messageTimeoutMs > 0 && this.#messageStartedAt > 0 &&
      now - this.#messageStartedAt > messageTimeoutMs
    ) {
      this.#log.info("Closing {remote}: message not completed within {ms} ms", {
        remote: this.remote,
        ms: messageTimeoutMs,
      });
      this.sendText(`error: message not completed within ${messageTimeoutMs} ms\n`);
      this.#endWith(`message not completed within ${messageTimeoutMs} ms`);
    } else if (idleTimeoutMs > 0 && now - this.#lastInputAt > idleTimeoutMs) {
      if (this.#outbox.pendingBytes > 0) {
        // Reading is paused until the peer takes its replies, and it does not.
        this.#log.info("Closing {remote}: replies not read for {ms} ms", {
          remote: this.remote,
          ms: idleTimeoutMs,
        });
        this.abort(`replies not read for ${idleTimeoutMs} ms`);
      } else {
        this.#log.info("Closing {remote}: idle for {ms} ms", {
          remote: this.remote,
          ms: idleTimeoutMs,
        });
        this.#endWith(`idle for ${idleTimeoutMs} ms`);
      }
    }
  }

  /** Called on every tick of the server, and while it shuts down. */
  checkDeadline(now: number): void {
    if (this.#deadline === 0 || now < this.#deadline) return;
    this.#deadline = 0;
    // Either way the socket is closed, and the wait under way in #finish() ends.
    if (this.#atDeadline === "abort") this.abort("peer is not reading");
    else this.#closeSocket();
  }

  /** During shutdown: end if nothing arrived since the last check and nothing is owed. */
  closeIfQuiet(): void {
    const quiet = this.#reads === this.#readsAtLastCheck;
    this.#readsAtLastCheck = this.#reads;
    if (!quiet) return;
    if (this.#framer?.inMessage || this.#outbox.pendingBytes > 0) return;
    this.#endWith("server shutting down");
  }

  /**
   * Waits for `promise`, for at most `ms` if given, or until end()/abort() wakes
   * it: whichever comes first settles the wait. `#wake` is left set afterwards:
   * waking a wait that is over does nothing, so it is never cleared. (One
   * promise per wait, where `Promise.race` with a wake promise makes four.)
   */
  #wait<T>(promise: Promise<T>, ms?: number): Promise<T | typeof WOKEN | typeof QUIET> {
    const waited = new Promise<T | typeof WOKEN>((resolve, reject) => {
      this.#wake = () => resolve(WOKEN);
      promise.then(resolve, reject);
    });
    return ms === undefined ? waited : within(waited, ms);
  }

  /**
   * Waits for `read`, or for the peer to be quiet for `ms`. A timer that fires
   * late says this process was busy, perhaps with the peer's next bytes
   * already waiting unread: the peer is called quiet only once a period
   * passes in which the process was free to see its bytes (one more turn of
   * the event loop lets a read that is ready complete). A busy server then
   * never cuts a line in two at a quiet period of its own making.
   */
  async #waitQuiet(
    read: Promise<number | null>,
    ms: number,
  ): Promise<number | null | typeof WOKEN | typeof QUIET> {
    while (true) {
      const armedAt = performance.now();
      let result = await this.#wait(read, ms);
      if (result !== QUIET) return result;
      const late = performance.now() - armedAt - ms > LATE_TIMER_MS;
      result = await this.#wait(read, 0);
      if (result !== QUIET || !late) return result;
    }
  }

  /** Calls into the service; a throwing service ends this connection, not the server. */
  #call<T>(what: string, fn: () => T): T | undefined {
    try {
      return fn();
    } catch (error) {
      this.#serviceFailed(what, error);
      return undefined;
    }
  }

  #serviceFailed(what: string, error: unknown): void {
    this.#log.error("Service {name} failed in {what} for {remote}: {error}", {
      name: this.#service.name,
      what,
      remote: this.remote,
      error: describeError(error),
    });
    this.abort(`service failed in ${what}`);
  }

  /** Serves the connection to its end. Never rejects. */
  async run(): Promise<void> {
    const server = this.#server;
    const tracing = isTracing();
    if (tracing) traceLogger.debug("accept {remote} (#{id})", { remote: this.remote, id: this.id });
    this.#log.debug(
      "Connection from {remote} (#{id})",
      () => ({ remote: this.remote, id: this.id }),
    );
    let pending: Promise<number | null> | null = null;
    let eof = false;
    // Made when the first read is: a connection the service ends at once never reads.
    let buf = NO_BYTES;
    try {
      this.#handling = true;
      try {
        // #call's work without its closure: this runs for every connection.
        this.#session = this.#service.open(this) ?? {};
      } catch (error) {
        this.#serviceFailed("open", error);
      } finally {
        this.#handling = false;
      }
      this.#outbox.flush();
      // What follows is for a connection that reads: one the service ended
      // at once (random) costs no read buffer, closures or socket option.
      if (this.#state === "open") {
        // Replies are small and each is written as soon as it is ready.
        // A connection's first write is never held back by Nagle's delay,
        // so this waits until there can be a second.
        try {
          this.#conn.setNoDelay(true);
        } catch { /* not fatal */ }
        const remote = tracing ? this.remote : "";
        const framer = this.#framer;
        const flushMs = server.options.flushMs;
        const onMessage = (message: Uint8Array, terminator: Terminator) => {
          if (this.#state !== "open") return;
          server.countMessage();
          // #call's work without its closure: this runs for every message.
          try {
            this.#session.message?.(message, terminator);
          } catch (error) {
            this.#serviceFailed("message", error);
          }
          // Replies past the high-water mark pause the chunk, as they pause reading.
          return this.#outbox.pendingBytes <= HIGH_WATER_BYTES;
        };
        const onOversize = () => this.#oversize();
        while (this.#state === "open") {
          if (buf === NO_BYTES) buf = readBuffers.pop() ?? new Uint8Array(FIRST_READ_BYTES);
          pending ??= this.#conn.read(buf);
          const result = framer?.inMessage
            ? await this.#waitQuiet(pending, flushMs)
            : await this.#wait(pending);
          if (result === WOKEN) continue;
          if (result === QUIET) {
            // A quiet period ends the message under way.
            this.#handling = true;
            try {
              framer!.flush(onMessage, onOversize);
            } finally {
              this.#handling = false;
            }
            this.#messageStartedAt = 0;
            this.#outbox.flush();
            continue;
          }
          pending = null;
          if (result === null) {
            eof = true;
            this.#reason ??= "peer closed";
            if (tracing) traceLogger.debug("eof {remote}", { remote });
            framer?.flush(onMessage, onOversize);
            break;
          }
          this.#reads++;
          const chunk = buf.subarray(0, result);
          if (tracing) {
            traceLogger.debug("read {remote} {bytes}", { remote, bytes: escapeBytes(chunk) });
          }
          let input: Uint8Array | null = chunk;
          while (input !== null) {
            this.#handling = true;
            try {
              if (framer === null) {
                server.countMessage();
                this.#call("chunk", () => this.#session.chunk?.(chunk));
                input = null;
              } else {
                framer.push(input, onMessage, onOversize);
                // "Started" is the first byte of the message still unfinished: an LF
                // in this chunk ended the one before, so the current one began here.
                if (!framer.inMessage) this.#messageStartedAt = 0;
                else if (this.#messageStartedAt === 0 || input.includes(LF)) {
                  this.#messageStartedAt = performance.now();
                }
                input = framer.takeRest();
              }
            } finally {
              this.#handling = false;
            }
            this.#outbox.flush();
            if (input !== null) {
              // The replies to part of this chunk fill the outbox: the rest
              // waits until they are written, as the next read would.
              await this.#wait(this.#outbox.drained());
              if (this.#state !== "open") break;
            }
          }
          if (result === buf.length && buf.length < READ_BYTES) buf = new Uint8Array(READ_BYTES);
          if (this.#outbox.pendingBytes > HIGH_WATER_BYTES) {
            await this.#wait(this.#outbox.drained());
          }
        }
      }
    } catch (error) {
      if (!isClosedError(error) || !this.#socketClosed) this.#reason ??= describeIoFailure(error);
    }
    try {
      await this.#finish(pending, eof);
      // No read into it is under way any more: the next connection may have it.
      if (buf.length === FIRST_READ_BYTES && readBuffers.length < MAX_POOLED_READ_BUFFERS) {
        readBuffers.push(buf);
      }
    } catch (error) {
      this.#reason ??= describeIoFailure(error);
      this.#closeSocket();
    }
    if (this.#session.closed) this.#call("close", () => this.#session.closed?.());
    if (tracing) traceLogger.debug("close {remote}", { remote: this.remote });
    this.#log.debug("Closed {remote} (#{id}): {reason}", () => ({
      remote: this.remote,
      id: this.id,
      reason: this.#reason ?? "closed",
    }));
    this.#outbox.release();
  }

  #oversize(): void {
    const choice = this.#call("oversize", () => this.#session.oversize?.()) ?? "close";
    if (choice === "skip" || this.#state !== "open") return;
    const limit = this.#server.options.maxMessageBytes;
    this.#log.info("Closing {remote}: message longer than {limit} bytes", {
      remote: this.remote,
      limit,
    });
    this.sendText(`error: message longer than ${limit} bytes\n`);
    this.#endWith(`message longer than ${limit} bytes`);
  }

  /** Writes what is owed, closes our side, lingers briefly, then closes the socket. */
  async #finish(
    pending: Promise<number | null> | null,
    eof: boolean,
  ): Promise<void> {
    const options = this.#server.options;
    if (this.#state !== "closed") {
      this.#state = "ending";
      if (this.#outbox.pendingBytes > 0) {
        // A peer that does not take it within the shutdown timeout is cut (by the tick).
        this.#setDeadline(options.shutdownTimeoutMs, "abort");
        await this.#outbox.drained();
      }
    }
    // Every connection lingers, including one the service ended before
    // reading anything (random speaks first and closes): closing a socket
    // with unread input, or input still on its way, sends a reset, and the
    // peer's system may then drop what we wrote before its program reads it
    // (`printf 'hi\n' | nc` got nothing in 3 of 100 runs when random closed
    // at once).
    if (this.#state !== "closed" && !eof && options.lingerMs > 0) {
      try {
        // Shut our side and read and drop what the peer still sends, so it
        // sees our reply and a clean end of stream rather than a reset; at
        // the linger deadline the tick closes the socket, which ends the read.
        // The shutdown and the first read go out in the same turn.
        this.#setDeadline(options.lingerMs, "close");
        pending ??= this.#conn.read(lingerBuffer);
        let [, result] = await Promise.all([this.#conn.closeWrite(), pending]);
        pending = null;
        while (result !== null && !this.#socketClosed) {
          pending = this.#conn.read(lingerBuffer);
          result = await pending;
          pending = null;
        }
      } catch { /* the peer is gone already, or the linger is over */ }
    }
    this.#deadline = 0;
    this.#state = "closed";
    this.#closeSocket();
    if (pending) await pending.catch(() => {});
    if (this.#outbox.pendingBytes > 0) await this.#outbox.drained();
  }

  #setDeadline(ms: number, action: "abort" | "close"): void {
    this.#deadline = performance.now() + ms;
    this.#atDeadline = action;
  }

  #closeSocket(): void {
    if (this.#socketClosed) return;
    this.#socketClosed = true;
    try {
      this.#conn.close();
    } catch { /* already closed */ }
  }
}

/**
 * Starts serving `service`. Throws at once if the address cannot be bound
 * (`Deno.errors.AddrInUse`, `Deno.errors.NotCapable`, …).
 */
export function serve(service: Service, options: ServeOptions = {}): Server {
  return new Server(service, options);
}
