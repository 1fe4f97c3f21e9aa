/**
 * Checking a client: socklab plays the reference server on a free port,
 * runs the client command with scripted input, records what the client
 * sends and prints, and judges it with the service's client cases.
 *
 * @module
 */
import type { Terminator } from "../net/framing.ts";
import { serve, type Server, type Service, type Session } from "../net/server.ts";
import { TIMEOUT, within } from "../net/deadline.ts";
import type { Verdict } from "./types.ts";
import {
  type CaseResult,
  type CheckReport,
  countResults,
  globToRegExp,
  STRICT_ONLY,
} from "./runner.ts";

/** One message a client sent to the reference server. */
export interface RecordedMessage {
  /** The connection it came on (1, 2, …). */
  connection: number;
  /** The message, without its terminator. */
  bytes: Uint8Array;
  /** How it ended on the wire. */
  terminator: Terminator;
}

/** Everything observed during one run of the client. */
export interface ClientRecord {
  /** Messages received by the reference server, in order. */
  messages: RecordedMessage[];
  /** Connections the client opened. */
  connections: number;
  /** Connections the client closed (or half-closed) itself. */
  closedByClient: number;
  /** What the client printed on stdout and stderr. */
  stdout: string;
  /** What it printed on stderr. */
  stderr: string;
  /** Its exit status, or null when it had to be stopped. */
  exitCode: number | null;
  /** The scripted input it was given. */
  input: string;
  /** Observations a scenario's driver adds (e.g. what a second client saw). */
  notes: Record<string, unknown>;
}

/** What a scenario's driver can do while the client runs. */
export interface DriveSession {
  /** The reference server's port. */
  port: number;
  /** The record of this run, as it fills. */
  record: ClientRecord;
  /** Writes to the client's stdin. */
  write(text: string): Promise<void>;
  /** Resolves true once the client's stdout contains `text`, false after `ms`. */
  waitForOutput(text: string, ms: number): Promise<boolean>;
}

/** One requirement on a client, judged from the records of its runs (one per scenario run). */
export interface ClientCase {
  /** `client-SERVICE/group/name`, e.g. `client-double/output/result`. */
  id: string;
  /** One line: what a client must do. */
  requirement: string;
  /** Only judged with `--strict`. */
  strictOnly?: boolean;
  /** The verdict, from the records of every run. */
  judge(runs: readonly ClientRecord[]): Verdict;
}

/** One run of the client: its scripted input and the reference service it talks to. */
export interface ClientRun {
  /** The scripted input fed on the client's stdin (after `drive`, if any, has finished). */
  input: string;
  /** The reference service for this run. */
  service(): Service;
  /** Interacts while the client runs (e.g. as a second chat client); stdin closes after it. */
  drive?(session: DriveSession): Promise<void>;
}

/** How to exercise a client of one service. */
export interface ClientScenario {
  /** The runs, in order (e.g. an ordinary exchange, then an out-of-range number). */
  runs: readonly ClientRun[];
  /** The cases judged once every run is done. */
  cases: readonly ClientCase[];
}

/** Options for {@linkcode runClientCheck}. */
export interface ClientCheckOptions {
  /** Ports for the reference server; default one free port. */
  ports?: number[];
  /** Time the client may take, in ms. @default {10000} */
  timeoutMs?: number;
  /** Judge the classroom-exact cases too (`--strict`). @default {false} */
  strict?: boolean;
  /** Only cases whose id matches one of these globs. */
  only?: string[];
  /** Called once the reference server listens (for a log line). */
  onListening?: (addresses: string[]) => void;
}

/** The reference server could not listen on `address` (a `--listen` port in use, say). */
export class ReferenceListenError extends Error {
  /** The address it tried, `127.0.0.1:9001`. */
  readonly address: string;
  /** `cause` is the error `Deno.listen` threw. */
  constructor(address: string, cause: unknown) {
    super(`cannot listen on ${address}`, { cause });
    this.name = "ReferenceListenError";
    this.address = address;
  }
}

/** Wraps a service so every message and connection is recorded. */
export function recording(service: Service, record: ClientRecord): Service {
  return {
    name: service.name,
    framing: service.framing,
    open(peer) {
      const connection = ++record.connections;
      const inner: Session = service.open(peer);
      let closedByPeer = true;
      return {
        message(bytes, terminator) {
          record.messages.push({ connection, bytes: bytes.slice(), terminator });
          inner.message?.(bytes, terminator);
        },
        chunk(bytes) {
          record.messages.push({ connection, bytes: bytes.slice(), terminator: "none" });
          inner.chunk?.(bytes);
        },
        oversize: () => inner.oversize?.() ?? "close",
        closed() {
          if (closedByPeer) record.closedByClient++;
          closedByPeer = false;
          inner.closed?.();
        },
      };
    },
  };
}

/** Replaces `{host}` and `{port}` (the first reference port) in each argument. */
export function substitute(args: readonly string[], host: string, port: number): string[] {
  return args.map((arg) => arg.replaceAll("{host}", host).replaceAll("{port}", String(port)));
}

/** Runs `command` against the reference server and judges it. */
export async function runClientCheck(
  service: string,
  scenario: ClientScenario,
  command: readonly string[],
  options: ClientCheckOptions = {},
): Promise<CheckReport> {
  const started = performance.now();
  const records: ClientRecord[] = [];
  for (const run of scenario.runs) {
    const record: ClientRecord = {
      messages: [],
      connections: 0,
      closedByClient: 0,
      stdout: "",
      stderr: "",
      exitCode: null,
      input: run.input,
      notes: {},
    };
    records.push(record);
    const reference = recording(run.service(), record);
    const servers: Server[] = [];
    try {
      for (const port of options.ports ?? [0]) {
        try {
          servers.push(serve(reference, { port, lingerMs: 200, shutdownTimeoutMs: 1000 }));
        } catch (error) {
          throw new ReferenceListenError(`127.0.0.1:${port}`, error);
        }
      }
      if (records.length === 1) options.onListening?.(servers.map((s) => s.address));
      const [program, ...args] = substitute(command, "127.0.0.1", servers[0].addr.port);
      await runProgram(
        program,
        args,
        run,
        servers[0].addr.port,
        options.timeoutMs ?? 10_000,
        record,
      );
    } finally {
      await Promise.all(servers.map((s) => s.shutdown()));
    }
  }
  const patterns = (options.only ?? []).map(globToRegExp);
  const results: CaseResult[] = [];
  for (const testCase of scenario.cases) {
    if (patterns.length > 0 && !patterns.some((p) => p.test(testCase.id))) continue;
    const verdict: Verdict = testCase.strictOnly && !options.strict
      ? { status: "skipped", reason: STRICT_ONLY }
      : testCase.judge(records);
    results.push({
      id: testCase.id,
      requirement: testCase.requirement,
      phase: "normal",
      durationMs: 0,
      ...verdict,
    });
  }
  return {
    service: `client ${service}`,
    target: command.join(" "),
    results,
    counts: countResults(results),
    durationMs: performance.now() - started,
  };
}

async function runProgram(
  program: string,
  args: string[],
  run: ClientRun,
  port: number,
  timeoutMs: number,
  record: ClientRecord,
): Promise<void> {
  const child = new Deno.Command(program, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let wake: (() => void)[] = [];
  const collect = async (stream: ReadableStream<Uint8Array>, key: "stdout" | "stderr") => {
    for await (const text of stream.pipeThrough(new TextDecoderStream())) {
      if (record[key].length < 1 << 20) record[key] += text;
      for (const resolve of wake) resolve();
      wake = [];
    }
  };
  const outputs = Promise.all([collect(child.stdout, "stdout"), collect(child.stderr, "stderr")]);
  const writer = child.stdin.getWriter();
  const encoder = new TextEncoder();
  // Some clients exit before reading all their input: a failed write is not an error here.
  const write = (text: string) => writer.write(encoder.encode(text)).catch(() => {});
  const deadline = performance.now() + timeoutMs;
  if (run.drive) {
    await within(
      run.drive({
        port,
        record,
        write,
        waitForOutput: async (text, ms) => {
          const until = Math.min(performance.now() + ms, deadline);
          while (!record.stdout.includes(text)) {
            const left = until - performance.now();
            if (left <= 0) return false;
            await within(new Promise<void>((resolve) => wake.push(resolve)), left);
          }
          return true;
        },
      }),
      timeoutMs,
    );
  }
  await write(run.input);
  await writer.close().catch(() => {});
  const status = await within(child.status, Math.max(1, deadline - performance.now()));
  if (status === TIMEOUT) {
    try {
      child.kill("SIGKILL");
    } catch { /* exited meanwhile */ }
    await child.status;
    record.exitCode = null;
  } else {
    record.exitCode = status.code;
  }
  await outputs;
}
