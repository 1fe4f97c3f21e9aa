/**
 * `deno task reliability`: the full-size hardening scenarios, each against a
 * fresh server started under exactly `--allow-net=127.0.0.1:PORT` with every
 * other permission denied. Loopback only; every loop is bounded in time and
 * count. Prints figures: connections, duration, requests, errors, wrong
 * answers, and the server's memory (VmRSS before, VmHWM peak, VmRSS after,
 * from /proc/PID/status).
 *
 * ```sh
 * deno task reliability                       # every scenario, one after the other
 * deno task reliability flood idle            # some of them
 * deno task reliability --service double --scale 0.1   # a tenth of the size, quick
 * ```
 *
 * Deno refuses reads under /proc unless given --allow-all, so the status
 * file is read through `cat` (hence `--allow-run=deno,cat`). The scenarios
 * need about 5,200 file descriptors in this process and in the server:
 * check `ulimit -n` (the script does, and says what to raise it to).
 *
 * @module
 */
import { connect, MessageReader, writeAll } from "../src/net/client.ts";
import { DENY_ALL_BUT_NET } from "./compile.ts";
import { TIMEOUT, within } from "../src/net/deadline.ts";
import { judgeDoubleReply } from "../src/protocol/double.ts";
import {
  DEFAULT_CLIENT_NAME,
  DEFAULT_SERVER_NAME,
  formatSumRequest,
  isInSumRange,
  parseSumReply,
  parseSumRequest,
  SUM_MAX,
  SUM_MIN,
} from "../src/protocol/sum.ts";
import { DEFAULT_RANDOM_OPTIONS, parseRandomReply } from "../src/protocol/random.ts";
import {
  classifyChatLine,
  CLOSING_ANNOUNCEMENT,
  escapeChatText,
  formatAnnouncement,
  formatMessage,
  HELP_TEXT,
  lineTooLongError,
  parseChatLine,
} from "../src/protocol/chat.ts";
import { DEFAULT_MAX_MESSAGE_BYTES } from "../src/net/framing.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const HOST = "127.0.0.1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------
// Workloads: what a well-behaved client of each service sends and expects.

/**
 * A well-formed exchange with one service: what a well-behaved client sends
 * and how the answer is judged, always by the service's own protocol code.
 */
export interface Workload {
  /**
   * `"kept-open"`: any number of exchanges on one connection (double, chat);
   * `"one-per-connection"`: the server answers once and closes (sum, random),
   * so each exchange is a fresh connection and the reply is all it sends.
   */
  connection: "kept-open" | "one-per-connection";
  /** The `n`th request, without its terminator (a newline is added); `""` sends nothing. */
  request(n: number): string;
  /**
   * True when `reply` is the right answer to `request`: kept-open, one message
   * without its terminator; one per connection, everything up to the end of
   * stream (`""` when the server closed without a word).
   */
  check(request: string, reply: string): boolean;
  /** Kept-open only: lines that come between replies and answer nothing (chat: others' lines). */
  passOver?(line: string): boolean;
  /** What a connection that sent an over-long message must receive. @default the core's error line */
  oversize?(received: string): boolean;
  /** Flags the server under test needs. */
  serverFlags?: readonly string[];
  /** Scenarios that do not make sense for the service, each with the reason, in one line. */
  skip?: Readonly<Record<string, string>>;
  /** Scenarios the service runs its own way (chat's broadcast). */
  own?: Readonly<Record<string, (context: Context) => Promise<Figures>>>;
  /** Full-size figures of the service that differ from the scenarios' own (see each scenario). */
  size?: Readonly<{
    loadClients?: number;
    garbageConnections?: number;
    garbageBytes?: number;
    /** A pause after each 4 KiB of garbage (chat: so that receivers can keep up with the relay). */
    garbagePaceMs?: number;
  }>;
}

const SUM_OUT_OF_RANGE = [0, 101, -7, 1000, 10n ** 30n] as const;

/** The sum request `n`: in range but every 20th, alternately text and JSON every 4th. */
function sumRequest(n: number): string {
  const number = n % 20 === 19
    ? SUM_OUT_OF_RANGE[Math.floor(n / 20) % SUM_OUT_OF_RANGE.length]
    : SUM_MIN + (n * 37) % (SUM_MAX - SUM_MIN + 1);
  return formatSumRequest(
    { name: `${DEFAULT_CLIENT_NAME} ${n % 1000}`, number },
    n % 4 === 3 ? "json" : "text",
  );
}

/** Sum: the reply in the request's dialect, in range, ending as the request did; none out of range. */
function checkSum(request: string, reply: string): boolean {
  const sent = parseSumRequest(encoder.encode(request));
  if (!sent.ok) return false;
  if (!isInSumRange(sent.message.number)) return reply === "";
  if (!reply.endsWith("\n")) return false;
  const parsed = parseSumReply(encoder.encode(reply.slice(0, -1)));
  return parsed.ok && parsed.message.dialect === sent.message.dialect &&
    parsed.message.name === DEFAULT_SERVER_NAME && isInSumRange(parsed.message.number);
}

/** The chat's private command: `/help` is answered to its sender alone, with one line. */
const CHAT_HELP = "/help";
const CHAT_HELP_REPLY = formatAnnouncement(HELP_TEXT);

/**
 * Chat, between replies: others' lines (relayed messages, joins, departures).
 * A relayed line must carry nothing left to escape: control bytes shown as
 * `\ooo`, never raw.
 */
function chatPassOver(line: string): boolean {
  const kind = classifyChatLine(line).kind;
  if (kind === "message") return escapeChatText(encoder.encode(line)) === line;
  return kind === "announcement" && line !== CHAT_HELP_REPLY;
}

/** The workload of each service; a service without one cannot be measured yet. */
export const WORKLOADS: Record<string, Workload> = {
  double: {
    connection: "kept-open",
    request(n) {
      // Mostly small integers, some negative, every 50th a 300-digit one.
      if (n % 50 === 49) return "9".repeat(299) + String(n % 10);
      return String((n * 7919) % 1_000_003 * (n % 3 === 0 ? -1 : 1));
    },
    check: (request, reply) => judgeDoubleReply(request, reply).kind === "ok",
  },
  sum: {
    connection: "one-per-connection",
    request: sumRequest,
    check: checkSum,
    size: { loadClients: 200 },
  },
  random: {
    connection: "one-per-connection",
    request: () => "",
    check: (_request, reply) =>
      parseRandomReply(encoder.encode(reply), DEFAULT_RANDOM_OPTIONS).ok && !reply.endsWith("\n"),
    size: { loadClients: 200 },
    skip: {
      flood:
        "random reads nothing: what a peer sends is dropped as it comes, so there is no message to bound",
    },
  },
  chat: {
    connection: "kept-open",
    request: () => CHAT_HELP,
    check: (_request, reply) => reply === CHAT_HELP_REPLY,
    passOver: chatPassOver,
    oversize: (received) => received.includes(lineTooLongError(DEFAULT_MAX_MESSAGE_BYTES) + "\n"),
    serverFlags: ["--max-clients", "10000", "--no-console"],
    size: { garbageConnections: 20, garbageBytes: 32 * 1024, garbagePaceMs: 100 },
    skip: {
      idle: "chat has no idle timeout by design (a chat client may only read): " +
        "its held-open clients are load's 2,000",
    },
    own: { load: chatLoad, sigterm: chatSigterm },
  },
};

// ---------------------------------------------------------------------------
// The server under test and its memory.

interface Memory {
  rssKiB: number;
  peakKiB: number;
}

async function run(command: string, args: string[]): Promise<string> {
  const output = await new Deno.Command(command, { args, stdout: "piped", stderr: "null" })
    .output();
  return decoder.decode(output.stdout);
}

async function memoryOf(pid: number): Promise<Memory> {
  const status = await run("cat", [`/proc/${pid}/status`]);
  const field = (name: string) =>
    Number(new RegExp(`^${name}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
  return { rssKiB: field("VmRSS"), peakKiB: field("VmHWM") };
}

/** The soft limit on open files of this process (children inherit it). */
async function openFileLimit(): Promise<number> {
  const limits = await run("cat", ["/proc/self/limits"]);
  return Number(/^Max open files\s+(\d+)/m.exec(limits)?.[1] ?? Infinity);
}

const FAULT = /ERROR|FATAL|Uncaught|^\s+at |panicked|Unhandled/;

class ServerProcess {
  readonly port: number;
  readonly process: Deno.ChildProcess;
  /** The last lines of stderr that are not debug lines (the info lines of sum's exchanges can be millions). */
  readonly stderr: string[] = [];
  readonly #faultLines: string[] = [];
  readonly #stderrDone: Promise<void>;

  private constructor(port: number, process: Deno.ChildProcess) {
    this.port = port;
    this.process = process;
    this.#stderrDone = (async () => {
      let partial = "";
      for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop()!;
        for (const line of lines) {
          if (FAULT.test(line)) this.#faultLines.push(line);
          if (/Disconnecting .*output waiting/.test(line)) this.slowReadersCut++;
          if (!/ DEBUG /.test(line)) {
            // Keep what matters, not every line of thousands of connections.
            this.stderr.push(line);
            if (this.stderr.length > 50) this.stderr.shift();
            continue;
          }
          this.debugLines++;
          if (/ DEBUG .*Connection from /.test(line)) this.opened++;
          const reason = / DEBUG .*Closed \S+ \(#\d+\): (.*)$/.exec(line)?.[1];
          if (reason) this.closeReasons.set(reason, (this.closeReasons.get(reason) ?? 0) + 1);
        }
      }
    })();
  }

  debugLines = 0;
  /** Peers cut for not reading their output fast enough (`--max-pending-bytes`). */
  slowReadersCut = 0;
  /** Connections accepted so far (seen with `--log-level debug`). */
  opened = 0;
  readonly closeReasons = new Map<string, number>();

  /** Starts `socklab server SERVICE` on a free port with exactly that port allowed. */
  static async start(context: Context, flags: string[]): Promise<ServerProcess> {
    const service = context.service;
    flags = [...flags, ...context.workload.serverFlags ?? []];
    const probe = Deno.listen({ hostname: HOST, port: 0 });
    const port = probe.addr.port;
    probe.close();
    const process = new Deno.Command("deno", {
      args: [
        "run",
        "--quiet",
        `--allow-net=${HOST}:${port}`,
        ...DENY_ALL_BUT_NET,
        MAIN,
        "server",
        service,
        "--port",
        String(port),
        ...flags,
      ],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const server = new ServerProcess(port, process);
    const reader = process.stdout.pipeThrough(new TextDecoderStream()).getReader();
    let seen = "";
    const ready = within(
      (async () => {
        while (!/listening on/.test(seen)) {
          const { value, done } = await reader.read();
          if (done) throw new Error(`server exited before it was ready: ${server.stderr}`);
          seen += value;
        }
      })(),
      20_000,
    );
    if (await ready === TIMEOUT) {
      process.kill("SIGKILL");
      throw new Error("server not ready within 20 s");
    }
    // Keep draining stdout so the server never blocks on it.
    (async () => {
      while (!(await reader.read()).done) { /* drop */ }
    })().catch(() => {});
    return server;
  }

  memory(): Promise<Memory> {
    return memoryOf(this.process.pid);
  }

  /** Sends `signal` and waits (at most `ms`) for the exit; the status and how long it took. */
  async stop(signal: Deno.Signal = "SIGTERM", ms = 15_000) {
    const started = performance.now();
    try {
      this.process.kill(signal);
    } catch { /* already gone */ }
    let status = await within(this.process.status, ms);
    if (status === TIMEOUT) {
      this.process.kill("SIGKILL");
      status = await this.process.status;
    }
    await this.#stderrDone.catch(() => {});
    return { code: status.code, exitMs: performance.now() - started };
  }

  /** Lines that show a fault of the server itself: crashes, stack traces, errors. */
  faults(): string[] {
    return this.#faultLines;
  }

  /** Waits (at most `ms`) until the server has accepted `count` connections in all. */
  async acceptedAtLeast(count: number, ms = 20_000): Promise<boolean> {
    const until = performance.now() + ms;
    while (this.opened < count && performance.now() < until) {
      await new Promise((r) => setTimeout(r, 20));
    }
    return this.opened >= count;
  }
}

// ---------------------------------------------------------------------------
// Client helpers.

/** Counters for well-formed exchanges. */
class Tally {
  requests = 0;
  ok = 0;
  wrong = 0;
  /** Right answers that were no reply at all (sum's out-of-range numbers). */
  closedWithoutReply = 0;
  errors = 0;
  readonly latencies: number[] = [];
  readonly errorKinds = new Map<string, number>();

  error(error: unknown): void {
    this.errors++;
    const kind = error instanceof Error ? error.name : String(error);
    this.errorKinds.set(kind, (this.errorKinds.get(kind) ?? 0) + 1);
  }

  summary(): Record<string, unknown> {
    const sorted = Float64Array.from(this.latencies).sort();
    const at = (q: number) =>
      sorted.length ? round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]) : 0;
    return {
      requests: this.requests,
      ok: this.ok,
      wrong: this.wrong,
      ...(this.closedWithoutReply ? { closedWithoutReplyAsRequired: this.closedWithoutReply } : {}),
      errors: this.errors,
      ...(this.errorKinds.size ? { errorKinds: Object.fromEntries(this.errorKinds) } : {}),
      latencyMs: { p50: at(0.5), p99: at(0.99), max: at(1) },
    };
  }
}

function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

const strict = new TextDecoder("utf-8", { fatal: true });

/** Text of bytes that must be UTF-8; null when they are not. */
function utf8(bytes: Uint8Array): string | null {
  try {
    return strict.decode(bytes);
  } catch {
    return null;
  }
}

/** The bytes of a request with its newline; nothing for `""`. */
function requestBytes(request: string): Uint8Array {
  return request === "" ? new Uint8Array(0) : encoder.encode(request + "\n");
}

/** The longest message a client here accepts (chat's list of who is already there is long). */
const MAX_REPLY_BYTES = 1024 * 1024;

/**
 * One client doing lockstep exchanges: on one kept-open connection, or on a
 * fresh connection each time for a service that answers once per connection.
 */
class Exchanger {
  readonly port: number;
  readonly workload: Workload;
  conn: Deno.TcpConn | null;
  reader: MessageReader | null;
  /** Called with each line passed over between replies (kept-open). */
  heard?: (line: string) => void;
  #n: number;

  constructor(port: number, workload: Workload, conn: Deno.TcpConn | null, seed: number) {
    this.port = port;
    this.workload = workload;
    this.conn = conn;
    // Every reply on a kept-open connection ends with a newline (the requests
    // do): a quiet period must not cut a long line read in pieces.
    this.reader = conn &&
      new MessageReader(conn, { maxMessageBytes: MAX_REPLY_BYTES, flushMs: 1_000 });
    this.#n = seed;
  }

  /** A client of `workload`; connected now if its connections are kept open. */
  static async open(port: number, workload: Workload, seed: number): Promise<Exchanger> {
    const conn = workload.connection === "kept-open"
      ? await connect({ hostname: HOST, port }, 5_000)
      : null;
    return new Exchanger(port, workload, conn, seed);
  }

  /** One request and its reply; counted in `tally`. Throws on a network failure. */
  async once(tally: Tally, timeoutMs = 5_000): Promise<void> {
    const request = this.workload.request(this.#n++);
    const started = performance.now();
    tally.requests++;
    const reply = this.conn
      ? await this.#keptOpen(request, timeoutMs)
      : await this.#oneShot(request, timeoutMs);
    tally.latencies.push(performance.now() - started);
    if (reply !== null && this.workload.check(request, reply)) {
      tally.ok++;
      if (reply === "" && !this.conn) tally.closedWithoutReply++;
    } else tally.wrong++;
  }

  async #keptOpen(request: string, timeoutMs: number): Promise<string | null> {
    await writeAll(this.conn!, requestBytes(request));
    const until = performance.now() + timeoutMs;
    while (true) {
      const message = await this.reader!.next(Math.max(1, until - performance.now()));
      if (message === null) {
        throw new Deno.errors.UnexpectedEof("connection closed before the reply");
      }
      const line = utf8(message.bytes);
      if (line === null || !this.workload.passOver?.(line)) return line;
      this.heard?.(line);
    }
  }

  async #oneShot(request: string, timeoutMs: number): Promise<string | null> {
    const conn = await connect({ hostname: HOST, port: this.port }, timeoutMs);
    const reader = new MessageReader(conn);
    try {
      await writeAll(conn, requestBytes(request));
      return utf8(await reader.readToEnd(timeoutMs, MAX_REPLY_BYTES));
    } finally {
      try {
        conn.close();
      } catch { /* already closed */ }
      await reader.settle();
    }
  }

  async close(): Promise<void> {
    try {
      this.conn?.close();
    } catch { /* already closed */ }
    await this.reader?.settle();
  }
}

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    all.set(part, offset);
    offset += part.length;
  }
  return all;
}

/** Opens `count` connections, `batch` at a time (a burst would overflow the listen backlog). */
async function openMany(port: number, count: number, batch = 200): Promise<Deno.TcpConn[]> {
  const conns: Deno.TcpConn[] = [];
  for (let i = 0; i < count; i += batch) {
    const size = Math.min(batch, count - i);
    conns.push(
      ...await Promise.all(
        Array.from({ length: size }, () => connect({ hostname: HOST, port }, 10_000)),
      ),
    );
  }
  return conns;
}

function closeAll(conns: Deno.Conn[]): void {
  for (const conn of conns) {
    try {
      conn.close();
    } catch { /* already closed */ }
  }
}

/** Reads until end of stream or `ms`; returns the bytes seen and how it ended. */
async function drain(
  conn: Deno.Conn,
  ms: number,
  bufferBytes = 16 * 1024,
  textChars = 4096,
): Promise<{ bytes: number; text: string; end: "eof" | "timeout" | string }> {
  const buf = new Uint8Array(bufferBytes);
  let bytes = 0;
  let text = "";
  const until = performance.now() + ms;
  let pending: Promise<number | null> | null = null;
  try {
    while (true) {
      pending ??= conn.read(buf);
      const n = await within(pending, until - performance.now());
      if (n === TIMEOUT) return { bytes, text, end: "timeout" };
      pending = null;
      if (n === null) return { bytes, text, end: "eof" };
      bytes += n;
      if (text.length < textChars) text += decoder.decode(buf.subarray(0, n));
    }
  } catch (error) {
    return { bytes, text, end: error instanceof Error ? error.name : String(error) };
  } finally {
    if (pending) {
      try {
        conn.close();
      } catch { /* closed */ }
      await pending.catch(() => {});
    }
  }
}

/** Exchanges on fresh connections, one after the other, until `stop()` says so. */
function probeUntil(
  port: number,
  workload: Workload,
  stop: () => boolean,
  options: { maxMs: number; pauseMs?: number },
): { tally: Tally; done: Promise<void> } {
  const tally = new Tally();
  const started = performance.now();
  const done = (async () => {
    let n = 0;
    while (!stop() && performance.now() - started < options.maxMs) {
      let ex: Exchanger | undefined;
      try {
        ex = await Exchanger.open(port, workload, 1_000_000 + n++);
        await ex.once(tally);
      } catch (error) {
        tally.error(error);
      } finally {
        await ex?.close();
      }
      if (options.pauseMs) await new Promise((r) => setTimeout(r, options.pauseMs));
    }
  })();
  return { tally, done };
}

function mib(kib: number): number {
  return round(kib / 1024);
}

function memoryFigures(before: Memory, peak: Memory, after: Memory, ...extra: [string, Memory][]) {
  return {
    rssBeforeMiB: mib(before.rssKiB),
    rssPeakMiB: mib(peak.peakKiB),
    ...Object.fromEntries(extra.map(([name, m]) => [name, mib(m.rssKiB)])),
    rssAfterMiB: mib(after.rssKiB),
  };
}

// ---------------------------------------------------------------------------
// The scenarios.

interface Context {
  service: string;
  workload: Workload;
  scale: number;
}

type Figures = Record<string, unknown> & { pass: boolean };

const n = (context: Context, full: number) => Math.max(1, Math.round(full * context.scale));

/** The server core's answer to an over-long message: one error line, then the close. */
const coreOversize = (received: string) => /^error: message longer than/.test(received);

/** 1. 10 MiB with no newline on one connection. */
async function flood(context: Context): Promise<Figures> {
  const server = await ServerProcess.start(context, []);
  try {
    const warm = await Exchanger.open(server.port, context.workload, 0);
    await warm.once(new Tally());
    await warm.close();
    const before = await server.memory();
    const size = n(context, 10 * 1024 * 1024);
    const started = performance.now();
    const conn = await connect({ hostname: HOST, port: server.port }, 5_000);
    let sent = 0;
    let sendEnd = "complete";
    const reply = drain(conn, 60_000);
    let flooding = true;
    const probe = probeUntil(server.port, context.workload, () => !flooding, { maxMs: 60_000 });
    try {
      const piece = new Uint8Array(64 * 1024).fill(0x37);
      while (sent < size) {
        const chunk = piece.subarray(0, Math.min(piece.length, size - sent));
        await writeAll(conn, chunk);
        sent += chunk.length;
      }
      await conn.closeWrite();
    } catch (error) {
      sendEnd = error instanceof Error ? error.name : String(error);
    }
    const result = await reply;
    closeAll([conn]);
    flooding = false;
    await probe.done;
    const durationMs = performance.now() - started;
    const peak = await server.memory();
    const after = await server.memory();
    const stop = await server.stop();
    const growthMiB = mib(peak.peakKiB - before.rssKiB);
    return {
      pass: (context.workload.oversize ?? coreOversize)(result.text) && result.end === "eof" &&
        growthMiB < 16 && probe.tally.wrong === 0 && probe.tally.errors === 0 &&
        probe.tally.ok > 0 && stop.code === 0 && server.faults().length === 0,
      floodBytes: size,
      floodBytesAccepted: sent,
      floodSendEnded: sendEnd,
      floodReply: result.text.split("\n")
        .filter((line) => line !== "" && !context.workload.passOver?.(line)).join(" | "),
      floodConnectionEnded: result.end,
      durationMs: round(durationMs),
      othersServedMeanwhile: probe.tally.summary(),
      ...memoryFigures(before, peak, after),
      growthMiB,
      exit: stop.code,
      serverFaults: server.faults().length,
    };
  } finally {
    await server.stop("SIGKILL");
  }
}

/**
 * Each client makes an exchange every `intervalMs` for `durationMs`, waiting
 * for each reply before the next request (the first requests spread over one
 * interval). Returns how long it took and how many requests were sent late.
 */
async function keepCadence(
  clients: Exchanger[],
  intervalMs: number,
  durationMs: number,
  tally: Tally,
): Promise<{ elapsed: number; behind: number }> {
  let behind = 0;
  const started = performance.now();
  await Promise.all(clients.map(async (ex, i) => {
    let next = started + (i * intervalMs) / clients.length;
    while (true) {
      const wait = next - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      if (performance.now() - started >= durationMs) return;
      try {
        await ex.once(tally);
      } catch (error) {
        tally.error(error);
        return;
      }
      next += intervalMs;
      if (next < performance.now()) {
        behind++;
        next = performance.now();
      }
    }
  }));
  return { elapsed: performance.now() - started, behind };
}

/**
 * 2. Many clients, each making an exchange every 100 ms: on its own kept-open
 * connection, or on a fresh connection each time (sum, random: 200 clients
 * by default, 2,000 connections a second; 2,000 would ask 20,000 a second,
 * more than the two cores do).
 */
async function load(context: Context): Promise<Figures> {
  const { workload } = context;
  const clients = n(context, workload.size?.loadClients ?? 2000);
  const durationMs = Math.max(3_000, 30_000 * context.scale);
  const intervalMs = 100;
  const server = await ServerProcess.start(context, []);
  const exchangers: Exchanger[] = [];
  try {
    const before = await server.memory();
    const openStarted = performance.now();
    const conns = workload.connection === "kept-open"
      ? await openMany(server.port, clients)
      : Array.from({ length: clients }, () => null);
    const openMs = performance.now() - openStarted;
    exchangers.push(
      ...conns.map((conn, i) => new Exchanger(server.port, workload, conn, i * 1_000_000)),
    );
    const tally = new Tally();
    const { elapsed, behind } = await keepCadence(exchangers, intervalMs, durationMs, tally);
    const peak = await server.memory();
    await Promise.all(exchangers.map((ex) => ex.close()));
    const after = await server.memory();
    const stop = await server.stop();
    return {
      pass: tally.errors === 0 && tally.wrong === 0 && stop.code === 0 &&
        server.faults().length === 0,
      ...(workload.connection === "kept-open"
        ? { connections: clients, openMs: round(openMs) }
        : { clients, connectionPerRequest: true }),
      durationMs: round(elapsed),
      intervalMs,
      ...tally.summary(),
      requestsPerSecond: Math.round(tally.requests / (elapsed / 1000)),
      requestsLate: behind,
      ...memoryFigures(before, peak, after),
      exit: stop.code,
      serverFaults: server.faults().length,
    };
  } finally {
    await Promise.all(exchangers.map((ex) => ex.close()));
    await server.stop("SIGKILL");
  }
}

/**
 * 3. Thousands of silent connections, reclaimed by the idle timeout; four
 * times on the same server, to tell memory the runtime keeps for reuse from a
 * leak.
 */
async function idle(context: Context): Promise<Figures> {
  const connections = n(context, 5000);
  const idleMs = 5_000;
  const rounds = 4;
  const server = await ServerProcess.start(context, ["--idle-timeout", `${idleMs}ms`]);
  const speaksFirst = context.workload.request(0) === "";
  let conns: Deno.TcpConn[] = [];
  try {
    const warm = await Exchanger.open(server.port, context.workload, 0);
    await warm.once(new Tally());
    await warm.close();
    const before = await server.memory();
    let allClosed = false;
    const probe = probeUntil(server.port, context.workload, () => allClosed, {
      maxMs: idleMs * 4 * rounds,
      pauseMs: 100,
    });
    const perRound: Record<string, unknown>[] = [];
    let closedByServer = 0;
    let otherEnds = 0;
    for (let round_ = 1; round_ <= rounds; round_++) {
      const started = performance.now();
      conns = await openMany(server.port, connections, 250);
      const openMs = performance.now() - started;
      const ends = conns.map(async (conn) => {
        // A random server speaks first and closes at once: its idle peers
        // neither read nor close for the idle timeout, then find it all there.
        if (speaksFirst) await new Promise((r) => setTimeout(r, idleMs));
        const end = await drain(conn, idleMs * 3, 256);
        closeAll([conn]); // a live client closes at end of stream
        return end;
      });
      const open = await server.memory();
      const results = await Promise.all(ends);
      const reclaimedMs = performance.now() - started;
      const closed = results.filter((r) =>
        r.end === "eof" && (speaksFirst ? context.workload.check("", r.text) : r.bytes === 0)
      ).length;
      closedByServer += closed;
      otherEnds += results.length - closed;
      const after = await server.memory();
      perRound.push({
        openMs: round(openMs),
        allReclaimedAfterMs: round(reclaimedMs),
        closedByServer: closed,
        rssWithAllOpenMiB: mib(open.rssKiB),
        rssAfterMiB: mib(after.rssKiB),
      });
    }
    allClosed = true;
    await probe.done;
    // V8 gives memory back lazily, a while after allocation stops: watch for
    // that (at most 2 minutes), until the server holds less than it did with
    // the first round's connections all open.
    const heldOpen = perRound[0].rssWithAllOpenMiB as number;
    const settleStarted = performance.now();
    let settled = await server.memory();
    let settledAfterMs = 0;
    // A server that speaks first and closes holds nothing for such peers, but it has the garbage
    // of 5,000 accepted connections to give back, once accepts have paused for a while.
    while (mib(settled.rssKiB) >= heldOpen && performance.now() - settleStarted < 120_000) {
      await new Promise((r) => setTimeout(r, 1_000));
      const now = await server.memory();
      if (now.rssKiB < settled.rssKiB) {
        settled = now;
        settledAfterMs = performance.now() - settleStarted;
      }
    }
    const stop = await server.stop();
    return {
      pass: closedByServer === connections * rounds && probe.tally.errors === 0 &&
        probe.tally.wrong === 0 && stop.code === 0 && server.faults().length === 0 &&
        mib(settled.rssKiB) < heldOpen,
      connections,
      rounds,
      idleTimeoutMs: idleMs,
      closedByServer,
      otherEnds,
      perRound,
      newClientsServedMeanwhile: probe.tally.summary(),
      rssBeforeMiB: mib(before.rssKiB),
      rssPeakMiB: mib(settled.peakKiB),
      rssAfterMiB: mib(settled.rssKiB),
      rssSettledAfterMs: round(settledAfterMs, 0),
      exit: stop.code,
      serverFaults: server.faults().length,
    };
  } finally {
    closeAll(conns);
    await server.stop("SIGKILL");
  }
}

/** 4. SIGTERM while requests are in flight. */
async function sigterm(context: Context): Promise<Figures> {
  const inFlight = n(context, 200);
  const shutdownMs = 5_000;
  const { workload } = context;
  const keptOpen = workload.connection === "kept-open";
  const server = await ServerProcess.start(context, [
    "--shutdown-timeout",
    `${shutdownMs}ms`,
    // One connection, one exchange: the log tells when all have been accepted.
    ...(keptOpen ? [] : ["--log-level", "debug"]),
  ]);
  const exchangers: Exchanger[] = [];
  try {
    const conns = await openMany(server.port, inFlight);
    exchangers.push(...conns.map((conn, i) => new Exchanger(server.port, workload, conn, i)));
    // Every connection accepted first: by one exchange each, or from the log.
    if (keptOpen) {
      await Promise.all(exchangers.map((ex) => ex.once(new Tally())));
    } else if (!await server.acceptedAtLeast(inFlight)) {
      throw new Error(`the server accepted ${server.opened} of ${inFlight} connections`);
    }
    const before = await server.memory();
    // One request in flight on each connection, then the signal at once.
    const requests = exchangers.map((_, i) => workload.request(10_000 + i));
    await Promise.all(exchangers.map((ex, i) => writeAll(ex.conn!, requestBytes(requests[i]))));
    const signalled = performance.now();
    const stopping = server.stop("SIGTERM", shutdownMs * 3);
    let answered = 0, wrong = 0, missing = 0, half = 0, cleanEnd = 0;
    await Promise.all(exchangers.map(async (ex, i) => {
      const { text, end } = await drain(ex.conn!, shutdownMs * 2);
      await ex.close(); // as a client does at end of stream
      if (end === "eof") cleanEnd++;
      if (!keptOpen) {
        // The whole reply is what came before the end of stream ("" for no reply).
        if (end === "eof" && workload.check(requests[i], text)) answered++;
        else if (text === "") missing++;
        else wrong++;
      } else if (text === "") missing++;
      else if (!text.endsWith("\n")) half++;
      else if (workload.check(requests[i], text.slice(0, -1))) answered++;
      else wrong++;
    }));
    const stop = await stopping;
    const exitMs = performance.now() - signalled;
    return {
      pass: answered === inFlight && stop.code === 0 && exitMs < shutdownMs &&
        server.faults().length === 0,
      requestsInFlight: inFlight,
      answered,
      wrong,
      missing,
      writtenHalf: half,
      connectionsEndedCleanly: cleanEnd,
      exit: stop.code,
      exitAfterSignalMs: round(exitMs),
      shutdownTimeoutMs: shutdownMs,
      rssBeforeMiB: mib(before.rssKiB),
      serverFaults: server.faults().length,
    };
  } finally {
    await Promise.all(exchangers.map((ex) => ex.close()));
    await server.stop("SIGKILL");
  }
}

/** 5. Peers that reset mid-message, half-close after sending, or vanish. */
async function faults(context: Context): Promise<Figures> {
  const each = n(context, 300);
  const idleMs = 3_000;
  const server = await ServerProcess.start(context, [
    "--log-level",
    "debug",
    "--idle-timeout",
    `${idleMs}ms`,
  ]);
  const held: Deno.Conn[] = [];
  try {
    const before = await server.memory();
    let done = false;
    const probe = probeUntil(server.port, context.workload, () => done, {
      maxMs: 60_000,
      pauseMs: 50,
    });
    const started = performance.now();
    const { workload } = context;
    const request = (i: number) => requestBytes(workload.request(i));
    const outcomes = new Map<string, number>();
    const count = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
    const reset = async (i: number) => {
      const conn = await connect({ hostname: HOST, port: server.port }, 5_000);
      await writeAll(conn, request(i));
      // Read one byte of the reply and leave the rest unread: the close then resets.
      await conn.read(new Uint8Array(1));
      await writeAll(conn, encoder.encode("12")); // a message begun, never ended
      conn.close();
      count("reset");
    };
    const halfClose = async (i: number) => {
      const conn = await connect({ hostname: HOST, port: server.port }, 5_000);
      // Two requests where the connection is kept open; one where it answers one.
      const requests = workload.connection === "kept-open"
        ? [workload.request(i), workload.request(i + 1)]
        : [workload.request(i)];
      await writeAll(conn, concat(requests.map(requestBytes)));
      await conn.closeWrite();
      const { text, end } = await drain(conn, 10_000, 16 * 1024, MAX_REPLY_BYTES);
      const replies = workload.connection === "kept-open"
        ? text.split("\n").filter((line) => line !== "" && !workload.passOver?.(line))
        : [text];
      count(
        end === "eof" && replies.length === requests.length &&
          requests.every((r, k) => workload.check(r, replies[k]))
          ? "half-close answered"
          : `half-close: ${end} ${JSON.stringify(replies.join("|").slice(0, 40))}`,
      );
    };
    const vanish = async (i: number) => {
      const conn = await connect({ hostname: HOST, port: server.port }, 5_000);
      held.push(conn);
      await writeAll(conn, request(i));
      await writeAll(conn, encoder.encode("3")); // then silence: no FIN, no RST, no reads
      count("vanished");
    };
    const jobs: Promise<void>[] = [];
    for (let i = 0; i < each; i++) {
      jobs.push(reset(3 * i), halfClose(3 * i + 1), vanish(3 * i + 2));
    }
    const settled = await Promise.allSettled(jobs);
    const clientErrors = settled.filter((s) => s.status === "rejected").length;
    // The vanished peers are the server's to reclaim, by the idle timeout.
    const reclaimed = await Promise.all(held.map((conn) => drain(conn, idleMs * 4, 1024)));
    const reclaimedMs = performance.now() - started;
    done = true;
    await probe.done;
    const after = await server.memory();
    const stop = await server.stop();
    return {
      pass: clientErrors === 0 && reclaimed.every((r) => r.end === "eof") &&
        probe.tally.errors === 0 && probe.tally.wrong === 0 && stop.code === 0 &&
        server.faults().length === 0,
      peersOfEachKind: each,
      outcomes: Object.fromEntries(outcomes),
      clientErrors,
      vanishedReclaimed: reclaimed.filter((r) => r.end === "eof").length,
      allReclaimedAfterMs: round(reclaimedMs),
      serverCloseReasons: Object.fromEntries(server.closeReasons),
      serverDebugLines: server.debugLines,
      othersServedMeanwhile: probe.tally.summary(),
      rssBeforeMiB: mib(before.rssKiB),
      rssPeakMiB: mib(after.peakKiB),
      rssAfterMiB: mib(after.rssKiB),
      exit: stop.code,
      serverFaults: server.faults(),
    };
  } finally {
    closeAll(held);
    await server.stop("SIGKILL");
  }
}

/** 6. Invalid UTF-8, NUL bytes and random bytes on many connections. */
async function garbage(context: Context): Promise<Figures> {
  // Chat relays every garbage line, escaped, to every other client: 100 × 1 MiB
  // would be tens of gigabytes of output, and a burst of it cuts every reader
  // on these shared cores as too slow (--max-pending-bytes), so it sends less,
  // paced (its workload says how much).
  const connections = n(context, context.workload.size?.garbageConnections ?? 100);
  const size = n(context, context.workload.size?.garbageBytes ?? 1024 * 1024);
  const paceMs = context.workload.size?.garbagePaceMs ?? 0;
  const piece = paceMs ? 4096 : 65536;
  const server = await ServerProcess.start(context, []);
  const good: Exchanger[] = [];
  try {
    const before = await server.memory();
    const tally = new Tally();
    let flooding = true;
    good.push(
      ...await Promise.all(
        Array.from({ length: 20 }, (_, i) => Exchanger.open(server.port, context.workload, i)),
      ),
    );
    const served = Promise.all(good.map(async (ex) => {
      const started = performance.now();
      while (flooding && performance.now() - started < 120_000) {
        try {
          await ex.once(tally);
        } catch (error) {
          tally.error(error);
          return;
        }
      }
    }));
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: connections }, async (_, c) => {
      const bytes = new Uint8Array(size);
      for (let i = 0; i < size; i += 65536) crypto.getRandomValues(bytes.subarray(i, i + 65536));
      // Make sure the classic troublemakers are there, whatever the dice say.
      bytes.set([0xff, 0xfe, 0xc3, 0x28, 0x0a, 0x00, 0x00, 0x0a, 0xed, 0xa0, 0x80, 0x0a], c % 1000);
      const conn = await connect({ hostname: HOST, port: server.port }, 5_000);
      const replies = drain(conn, 120_000);
      let sendEnd = "complete";
      try {
        for (let i = 0; i < size; i += piece) {
          await writeAll(conn, bytes.subarray(i, i + piece));
          if (paceMs) await new Promise((r) => setTimeout(r, paceMs));
        }
        await conn.closeWrite();
      } catch (error) {
        sendEnd = error instanceof Error ? error.name : String(error);
      }
      const { bytes: replyBytes, end } = await replies;
      return { sendEnd, replyBytes, end };
    }));
    const durationMs = performance.now() - started;
    flooding = false;
    await served;
    const peak = await server.memory();
    await Promise.all(good.map((ex) => ex.close()));
    const after = await server.memory();
    const stop = await server.stop();
    const sendEnds = new Map<string, number>();
    for (const r of results) sendEnds.set(r.sendEnd, (sendEnds.get(r.sendEnd) ?? 0) + 1);
    return {
      pass: tally.wrong === 0 && tally.errors === 0 && tally.ok > 0 && stop.code === 0 &&
        server.faults().length === 0,
      garbageConnections: connections,
      garbageBytesEach: size,
      garbageSendEnds: Object.fromEntries(sendEnds),
      garbageReplyBytes: results.reduce((sum, r) => sum + r.replyBytes, 0),
      durationMs: round(durationMs),
      wellFormedMeanwhile: tally.summary(),
      slowReadersCut: server.slowReadersCut,
      ...memoryFigures(before, peak, after),
      exit: stop.code,
      serverFaults: server.faults().length,
    };
  } finally {
    await Promise.all(good.map((ex) => ex.close()));
    await server.stop("SIGKILL");
  }
}

// ---------------------------------------------------------------------------
// Chat's own scenarios: a broadcast to everyone is not a request and a reply.

/** A relayed line's text: its number, some UTF-8, and an escape sequence the server must defuse. */
const relayText = (sender: number, seq: number) => `relay ${sender} ${seq} héllo\x1b[2J end`;

/** The line a receiver must get for `text` sent by `nick`, by the chat protocol's rules. */
function relayedLine(nick: string, text: string): string {
  const command = parseChatLine(escapeChatText(encoder.encode(text)));
  if (command.kind !== "say") throw new TypeError(`Not a chat message: ${JSON.stringify(text)}`);
  return formatMessage(nick, command.text);
}

/** Renames a chat client, and waits (through `/help`) until the server has done it. */
async function rename(ex: Exchanger, nick: string): Promise<void> {
  await writeAll(ex.conn!, encoder.encode(`/nick ${nick}\n`));
  const tally = new Tally();
  await ex.once(tally);
  if (tally.ok !== 1) throw new Error(`/nick ${nick} was not followed by the /help reply`);
}

/**
 * 2, chat. 2,000 clients each send `/help` (answered to the sender alone)
 * every 100 ms and check the reply; meanwhile 2 senders broadcast a line
 * every 200 ms each (10 lines/s, 20,000 deliveries/s), and every 20th client
 * checks every line it is relayed: nothing lost, in order, exactly as sent
 * (escaped). A broadcast by each of 2,000 clients every 100 ms would be 40
 * million deliveries a second: a flood, not the scenario.
 */
async function chatLoad(context: Context): Promise<Figures> {
  const { workload } = context;
  const clients = n(context, 2000);
  const senders = 2;
  const sendEveryMs = 200;
  const sampleEvery = 20;
  const durationMs = Math.max(3_000, 30_000 * context.scale);
  const intervalMs = 100;
  const server = await ServerProcess.start(context, []);
  const all: Exchanger[] = [];
  try {
    const before = await server.memory();
    const openStarted = performance.now();
    const conns = await openMany(server.port, clients + senders);
    const openMs = performance.now() - openStarted;
    all.push(...conns.map((conn, i) => new Exchanger(server.port, workload, conn, i)));
    const receivers = all.slice(0, clients);
    const relays = all.slice(clients);
    const nicks = relays.map((_, k) => `relay${k}`);
    const heard = new Map<Exchanger, string[][]>();
    receivers.forEach((ex, i) => {
      if (i % sampleEvery !== 0) return;
      const lines = nicks.map(() => [] as string[]);
      heard.set(ex, lines);
      ex.heard = (line) => {
        const k = nicks.indexOf(classifyChatLine(line).from ?? "");
        if (k >= 0) lines[k].push(line);
      };
    });
    // Everyone joined and read the announcements of the others' joining.
    const warm = new Tally();
    await Promise.all(all.map((ex) => ex.once(warm)));
    await Promise.all(relays.map((ex, k) => rename(ex, nicks[k])));
    const joinedMs = performance.now() - openStarted;
    const sent = nicks.map(() => 0);
    let sending = true;
    const sendErrors: string[] = [];
    const broadcasting = Promise.all(relays.map(async (ex, k) => {
      let next = performance.now();
      while (sending) {
        try {
          await writeAll(ex.conn!, encoder.encode(relayText(k, sent[k]) + "\n"));
          sent[k]++;
        } catch (error) {
          sendErrors.push(error instanceof Error ? error.name : String(error));
          return;
        }
        next += sendEveryMs;
        await new Promise((r) => setTimeout(r, Math.max(0, next - performance.now())));
      }
    }));
    const tally = new Tally();
    const { elapsed, behind } = await keepCadence(receivers, intervalMs, durationMs, tally);
    sending = false;
    await broadcasting;
    // A sender's /help answered: the server has relayed all its lines. A
    // receiver's /help answered after that: it has read all of them.
    const final = new Tally();
    await Promise.all(relays.map((ex) => ex.once(final)));
    await Promise.all([...heard.keys()].map((ex) => ex.once(final).catch((e) => final.error(e))));
    let delivered = 0, lost = 0, outOfPlace = 0;
    for (const lines of heard.values()) {
      nicks.forEach((nick, k) => {
        const got = lines[k];
        for (let seq = 0; seq < sent[k]; seq++) {
          if (got[seq] === relayedLine(nick, relayText(k, seq))) delivered++;
          else if (got.includes(relayedLine(nick, relayText(k, seq)))) outOfPlace++;
          else lost++;
        }
        outOfPlace += Math.max(0, got.length - sent[k]); // relayed more than sent
      });
    }
    const peak = await server.memory();
    await Promise.all(all.map((ex) => ex.close()));
    const after = await server.memory();
    const stop = await server.stop();
    const expected = heard.size * sent.reduce((sum, count) => sum + count, 0);
    return {
      pass: tally.errors === 0 && tally.wrong === 0 && warm.wrong === 0 && final.wrong === 0 &&
        final.errors === 0 && sendErrors.length === 0 && delivered === expected &&
        stop.code === 0 && server.faults().length === 0,
      connections: clients + senders,
      openMs: round(openMs),
      allJoinedMs: round(joinedMs),
      durationMs: round(elapsed),
      intervalMs,
      privateCommand: CHAT_HELP,
      ...tally.summary(),
      requestsPerSecond: Math.round(tally.requests / (elapsed / 1000)),
      requestsLate: behind,
      broadcastSenders: senders,
      broadcastLinesSent: sent.reduce((sum, count) => sum + count, 0),
      sampledReceivers: heard.size,
      deliveriesChecked: expected,
      deliveredInOrder: delivered,
      lost,
      outOfPlace,
      sendErrors: sendErrors.length,
      ...memoryFigures(before, peak, after),
      exit: stop.code,
      serverFaults: server.faults().length,
    };
  } finally {
    await Promise.all(all.map((ex) => ex.close()));
    await server.stop("SIGKILL");
  }
}

/**
 * 4, chat. 200 clients each send one line and the server gets SIGTERM at
 * once: every line must reach every other client before its end of stream,
 * after which it is told the server is closing.
 */
async function chatSigterm(context: Context): Promise<Figures> {
  const { workload } = context;
  const clients = n(context, 200);
  const shutdownMs = 5_000;
  const server = await ServerProcess.start(context, ["--shutdown-timeout", `${shutdownMs}ms`]);
  const all: Exchanger[] = [];
  try {
    const conns = await openMany(server.port, clients);
    all.push(...conns.map((conn, i) => new Exchanger(server.port, workload, conn, i)));
    // Every client named, and every renaming announced and read.
    const nicks = all.map((_, i) => `peer${i}`);
    await Promise.all(all.map((ex, i) => rename(ex, nicks[i])));
    await Promise.all(all.map((ex) => ex.once(new Tally())));
    const before = await server.memory();
    const texts = all.map((_, i) => relayText(i, 0));
    await Promise.all(all.map((ex, i) => writeAll(ex.conn!, encoder.encode(texts[i] + "\n"))));
    const signalled = performance.now();
    const stopping = server.stop("SIGTERM", shutdownMs * 3);
    let delivered = 0, missing = 0, told = 0, cleanEnd = 0, half = 0;
    await Promise.all(all.map(async (ex, j) => {
      const { text, end } = await drain(ex.conn!, shutdownMs * 2, 16 * 1024, MAX_REPLY_BYTES);
      await ex.close();
      if (end === "eof") cleanEnd++;
      if (text !== "" && !text.endsWith("\n")) half++;
      const lines = new Set(text.split("\n"));
      if (lines.has(CLOSING_ANNOUNCEMENT)) told++;
      all.forEach((_, i) => {
        if (i === j) return;
        if (lines.has(relayedLine(nicks[i], texts[i]))) delivered++;
        else missing++;
      });
    }));
    const stop = await stopping;
    const exitMs = performance.now() - signalled;
    return {
      pass: delivered === clients * (clients - 1) && cleanEnd === clients && half === 0 &&
        stop.code === 0 && exitMs < shutdownMs && server.faults().length === 0,
      clients,
      linesInFlight: clients,
      deliveriesExpected: clients * (clients - 1),
      delivered,
      missing,
      toldClosing: told,
      writtenHalf: half,
      connectionsEndedCleanly: cleanEnd,
      exit: stop.code,
      exitAfterSignalMs: round(exitMs),
      shutdownTimeoutMs: shutdownMs,
      rssBeforeMiB: mib(before.rssKiB),
      serverFaults: server.faults().length,
    };
  } finally {
    await Promise.all(all.map((ex) => ex.close()));
    await server.stop("SIGKILL");
  }
}

const SCENARIOS: Record<string, { run: (c: Context) => Promise<Figures>; fds: number }> = {
  flood: { run: flood, fds: 100 },
  load: { run: load, fds: 2000 },
  idle: { run: idle, fds: 5000 },
  sigterm: { run: sigterm, fds: 200 },
  faults: { run: faults, fds: 900 },
  garbage: { run: garbage, fds: 120 },
};

function usage(): never {
  console.error(
    "usage: deno task reliability [SCENARIO...] [--service NAME] [--scale FACTOR]\n" +
      `scenarios: ${Object.keys(SCENARIOS).join(", ")} (default: all, one after the other)\n` +
      `services with a workload: ${Object.keys(WORKLOADS).join(", ")}`,
  );
  Deno.exit(2);
}

if (import.meta.main) {
  const args = [...Deno.args];
  let service = "double";
  let scale = 1;
  const chosen: string[] = [];
  while (args.length > 0) {
    const arg = args.shift()!;
    if (arg === "--service") service = args.shift() ?? usage();
    else if (arg === "--scale") scale = Number(args.shift());
    else if (arg in SCENARIOS) chosen.push(arg);
    else usage();
  }
  if (!(scale > 0 && scale <= 1)) usage();
  const workload = WORKLOADS[service];
  if (!workload) {
    console.error(`reliability: no workload for service "${service}" (add one to WORKLOADS)`);
    Deno.exit(2);
  }
  const names = chosen.length > 0 ? chosen : Object.keys(SCENARIOS);
  const limit = await openFileLimit();
  const needed = Math.max(...names.map((name) => SCENARIOS[name].fds)) * scale + 200;
  if (limit < needed) {
    console.error(
      `reliability: open file limit ${limit} is too low; run "ulimit -n ${
        Math.ceil(needed / 1024) * 1024
      }" first`,
    );
    Deno.exit(2);
  }
  const cores = navigator.hardwareConcurrency;
  console.log(
    `# socklab reliability: service ${service}, scale ${scale}, ${cores} cores, ulimit -n ${limit}`,
  );
  let failed = 0;
  for (const name of names) {
    const started = performance.now();
    const skipped = workload.skip?.[name];
    if (skipped) {
      console.log(`# ${name}: skipped for ${service}: ${skipped}`);
      continue;
    }
    let figures: Figures;
    try {
      figures = await (workload.own?.[name] ?? SCENARIOS[name].run)({ service, workload, scale });
    } catch (error) {
      figures = { pass: false, error: error instanceof Error ? error.message : String(error) };
    }
    if (!figures.pass) failed++;
    console.log(
      JSON.stringify({
        scenario: name,
        wallMs: Math.round(performance.now() - started),
        ...figures,
      }),
    );
  }
  const ran = names.filter((name) => !workload.skip?.[name]).length;
  console.log(`# ${ran - failed} passed, ${failed} failed, ${names.length - ran} skipped`);
  Deno.exit(failed === 0 ? 0 : 1);
}
