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
import { connect, MessageReader } from "../src/net/client.ts";
import { TIMEOUT, within } from "../src/net/deadline.ts";
import { judgeDoubleReply } from "../src/protocol/double.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const HOST = "127.0.0.1";
const encoder = new TextEncoder();
const decoder = new TextDecoder();

// ---------------------------------------------------------------------------
// Workloads: what a well-behaved client of each service sends and expects.

/** A well-formed request/reply exchange for one service, on a kept-open connection. */
export interface Workload {
  /** The `n`th request, without its terminator (a newline is added). */
  request(n: number): string;
  /** True when `reply` (without its terminator) is the right answer to `request`. */
  check(request: string, reply: string): boolean;
}

/** The workload of each service; a service without one cannot be measured yet. */
export const WORKLOADS: Record<string, Workload> = {
  double: {
    request(n) {
      // Mostly small integers, some negative, every 50th a 300-digit one.
      if (n % 50 === 49) return "9".repeat(299) + String(n % 10);
      return String((n * 7919) % 1_000_003 * (n % 3 === 0 ? -1 : 1));
    },
    check: (request, reply) => judgeDoubleReply(request, reply).kind === "ok",
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

class ServerProcess {
  readonly port: number;
  readonly process: Deno.ChildProcess;
  readonly stderr: string[] = [];
  readonly #stderrDone: Promise<void>;

  private constructor(port: number, process: Deno.ChildProcess) {
    this.port = port;
    this.process = process;
    this.#stderrDone = (async () => {
      let partial = "";
      for await (const chunk of process.stderr.pipeThrough(new TextDecoderStream())) {
        const lines = (partial + chunk).split("\n");
        partial = lines.pop()!;
        // Keep what matters, not every debug line of thousands of connections.
        for (const line of lines) if (!/ DEBUG /.test(line)) this.stderr.push(line);
        this.debugLines += lines.filter((line) => / DEBUG /.test(line)).length;
        for (const line of lines) {
          const reason = / DEBUG .*Closed \S+ \(#\d+\): (.*)$/.exec(line)?.[1];
          if (reason) this.closeReasons.set(reason, (this.closeReasons.get(reason) ?? 0) + 1);
        }
      }
    })();
  }

  debugLines = 0;
  readonly closeReasons = new Map<string, number>();

  /** Starts `socklab server SERVICE` on a free port with exactly that port allowed. */
  static async start(service: string, flags: string[]): Promise<ServerProcess> {
    const probe = Deno.listen({ hostname: HOST, port: 0 });
    const port = probe.addr.port;
    probe.close();
    const process = new Deno.Command("deno", {
      args: [
        "run",
        "--quiet",
        `--allow-net=${HOST}:${port}`,
        "--deny-env",
        "--deny-read",
        "--deny-write",
        "--deny-sys",
        "--deny-run",
        "--deny-ffi",
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
    return this.stderr.filter((line) =>
      /ERROR|FATAL|Uncaught|^\s+at |panicked|Unhandled/.test(line)
    );
  }
}

// ---------------------------------------------------------------------------
// Client helpers.

/** Counters for well-formed exchanges. */
class Tally {
  requests = 0;
  ok = 0;
  wrong = 0;
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

/** One kept-open connection doing lockstep exchanges. */
class Exchanger {
  readonly conn: Deno.TcpConn;
  readonly reader: MessageReader;
  #n: number;

  constructor(conn: Deno.TcpConn, seed: number) {
    this.conn = conn;
    this.reader = new MessageReader(conn);
    this.#n = seed;
  }

  static async open(port: number, seed: number): Promise<Exchanger> {
    return new Exchanger(await connect({ hostname: HOST, port }, 5_000), seed);
  }

  /** One request and its reply; counted in `tally`. Throws on a network failure. */
  async once(workload: Workload, tally: Tally, timeoutMs = 5_000): Promise<void> {
    const request = workload.request(this.#n++);
    const started = performance.now();
    tally.requests++;
    await writeAll(this.conn, encoder.encode(request + "\n"));
    const reply = await this.reader.next(timeoutMs);
    if (reply === null) throw new Deno.errors.UnexpectedEof("connection closed before the reply");
    tally.latencies.push(performance.now() - started);
    if (workload.check(request, decoder.decode(reply.bytes))) tally.ok++;
    else tally.wrong++;
  }

  async close(): Promise<void> {
    try {
      this.conn.close();
    } catch { /* already closed */ }
    await this.reader.settle();
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
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
      if (text.length < 4096) text += decoder.decode(buf.subarray(0, n));
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
        ex = await Exchanger.open(port, 1_000_000 + n++);
        await ex.once(workload, tally);
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

/** 1. 10 MiB with no newline on one connection. */
async function flood(context: Context): Promise<Figures> {
  const server = await ServerProcess.start(context.service, []);
  try {
    const warm = await Exchanger.open(server.port, 0);
    await warm.once(context.workload, new Tally());
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
      pass: /^error: message longer than/.test(result.text) && result.end === "eof" &&
        growthMiB < 16 && probe.tally.wrong === 0 && probe.tally.errors === 0 &&
        probe.tally.ok > 0 && stop.code === 0 && server.faults().length === 0,
      floodBytes: size,
      floodBytesAccepted: sent,
      floodSendEnded: sendEnd,
      floodReply: result.text.trim(),
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

/** 2. Many connections, each sending a request every 100 ms. */
async function load(context: Context): Promise<Figures> {
  const connections = n(context, 2000);
  const durationMs = Math.max(3_000, 30_000 * context.scale);
  const intervalMs = 100;
  const server = await ServerProcess.start(context.service, []);
  const exchangers: Exchanger[] = [];
  try {
    const before = await server.memory();
    const openStarted = performance.now();
    const conns = await openMany(server.port, connections);
    const openMs = performance.now() - openStarted;
    exchangers.push(...conns.map((conn, i) => new Exchanger(conn, i * 1_000_000)));
    const tally = new Tally();
    let behind = 0;
    const started = performance.now();
    await Promise.all(exchangers.map(async (ex, i) => {
      // Spread the first requests over one interval, then keep the cadence.
      let next = started + (i * intervalMs) / connections;
      while (true) {
        const wait = next - performance.now();
        if (wait > 0) await new Promise((r) => setTimeout(r, wait));
        if (performance.now() - started >= durationMs) return;
        try {
          await ex.once(context.workload, tally);
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
    const elapsed = performance.now() - started;
    const peak = await server.memory();
    await Promise.all(exchangers.map((ex) => ex.close()));
    const after = await server.memory();
    const stop = await server.stop();
    return {
      pass: tally.errors === 0 && tally.wrong === 0 && stop.code === 0 &&
        server.faults().length === 0,
      connections,
      openMs: round(openMs),
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
  const server = await ServerProcess.start(context.service, ["--idle-timeout", `${idleMs}ms`]);
  let conns: Deno.TcpConn[] = [];
  try {
    const warm = await Exchanger.open(server.port, 0);
    await warm.once(context.workload, new Tally());
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
        const end = await drain(conn, idleMs * 3, 256);
        closeAll([conn]); // a live client closes at end of stream
        return end;
      });
      const open = await server.memory();
      const results = await Promise.all(ends);
      const reclaimedMs = performance.now() - started;
      const closed = results.filter((r) => r.end === "eof" && r.bytes === 0).length;
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
  const server = await ServerProcess.start(context.service, [
    "--shutdown-timeout",
    `${shutdownMs}ms`,
  ]);
  const exchangers: Exchanger[] = [];
  try {
    const conns = await openMany(server.port, inFlight);
    exchangers.push(...conns.map((conn, i) => new Exchanger(conn, i)));
    // One exchange each first: every connection has been accepted.
    const warm = new Tally();
    await Promise.all(exchangers.map((ex) => ex.once(context.workload, warm)));
    const before = await server.memory();
    // One request in flight on each connection, then the signal at once.
    const requests = exchangers.map((_, i) => context.workload.request(10_000 + i));
    await Promise.all(
      exchangers.map((ex, i) => writeAll(ex.conn, encoder.encode(requests[i] + "\n"))),
    );
    const signalled = performance.now();
    const stopping = server.stop("SIGTERM", shutdownMs * 3);
    let answered = 0, wrong = 0, missing = 0, half = 0, cleanEnd = 0;
    await Promise.all(exchangers.map(async (ex, i) => {
      const { text, end } = await drain(ex.conn, shutdownMs * 2);
      await ex.close(); // as a client does at end of stream
      if (end === "eof") cleanEnd++;
      if (text === "") missing++;
      else if (!text.endsWith("\n")) half++;
      else if (context.workload.check(requests[i], text.slice(0, -1))) answered++;
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
  const server = await ServerProcess.start(context.service, [
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
    const request = (i: number) => encoder.encode(context.workload.request(i) + "\n");
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
      const a = context.workload.request(i), b = context.workload.request(i + 1);
      await writeAll(conn, encoder.encode(`${a}\n${b}\n`));
      await conn.closeWrite();
      const { text, end } = await drain(conn, 10_000);
      const [ra, rb] = text.split("\n");
      count(
        end === "eof" && context.workload.check(a, ra) && context.workload.check(b, rb)
          ? "half-close answered"
          : `half-close: ${end} ${JSON.stringify(text.slice(0, 40))}`,
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
  const connections = n(context, 100);
  const size = n(context, 1024 * 1024);
  const server = await ServerProcess.start(context.service, []);
  const good: Exchanger[] = [];
  try {
    const before = await server.memory();
    const tally = new Tally();
    let flooding = true;
    good.push(
      ...await Promise.all(Array.from({ length: 20 }, (_, i) => Exchanger.open(server.port, i))),
    );
    const served = Promise.all(good.map(async (ex) => {
      const started = performance.now();
      while (flooding && performance.now() - started < 120_000) {
        try {
          await ex.once(context.workload, tally);
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
        for (let i = 0; i < size; i += 65536) await writeAll(conn, bytes.subarray(i, i + 65536));
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
      ...memoryFigures(before, peak, after),
      exit: stop.code,
      serverFaults: server.faults().length,
    };
  } finally {
    await Promise.all(good.map((ex) => ex.close()));
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
    let figures: Figures;
    try {
      figures = await SCENARIOS[name].run({ service, workload, scale });
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
  console.log(`# ${names.length - failed} passed, ${failed} failed`);
  Deno.exit(failed === 0 ? 0 : 1);
}
