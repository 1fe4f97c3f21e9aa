/**
 * Shared helpers for the end-to-end and network tests: run the real CLI as a
 * child process, wait on events with deadlines (never fixed sleeps), talk raw
 * TCP like the classroom programs do.
 *
 * @module
 */

import { DENY_ALL_BUT_NET, EMBEDDED_PERMISSIONS } from "../scripts/compile.ts";

const MAIN = new URL("../main.ts", import.meta.url).pathname;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The permissions the CLI gets in tests: exactly the set the compiled binary embeds. */
export const CLI_PERMISSIONS: readonly string[] = EMBEDDED_PERMISSIONS;

/** Rejects with `what` if `promise` has not settled within `ms`. */
export async function deadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Reads a stream as lines as they come, keeping everything seen. */
export class LineStream {
  readonly lines: string[] = [];
  readonly done: Promise<void>;
  #raw = "";
  #waiters: (() => void)[] = [];
  #ended = false;

  constructor(stream: ReadableStream<Uint8Array>) {
    this.done = this.#pump(stream);
  }

  /** Everything read so far, exactly. */
  get text(): string {
    return this.#raw;
  }

  async #pump(stream: ReadableStream<Uint8Array>): Promise<void> {
    let partial = "";
    for await (const chunk of stream.pipeThrough(new TextDecoderStream())) {
      partial += chunk;
      this.#raw += chunk;
      const parts = partial.split("\n");
      partial = parts.pop()!;
      this.lines.push(...parts);
      this.#wake();
    }
    if (partial) this.lines.push(partial);
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Waits until a line matches `pattern`; returns it. */
  async waitFor(pattern: RegExp, ms = 10_000): Promise<string> {
    const find = () => this.lines.find((line) => pattern.test(line));
    return await deadline(
      (async () => {
        while (true) {
          const line = find();
          if (line !== undefined) return line;
          if (this.#ended) throw new Error(`stream ended without a line matching ${pattern}`);
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
      })(),
      ms,
      `a line matching ${pattern}; seen so far:\n${this.text}`,
    );
  }

  /** Waits until everything read so far (a partial last line included) matches `pattern`. */
  async waitForText(pattern: RegExp, ms = 10_000): Promise<void> {
    await deadline(
      (async () => {
        while (!pattern.test(this.#raw)) {
          if (this.#ended) throw new Error(`stream ended without matching ${pattern}`);
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
      })(),
      ms,
      `text matching ${pattern}; seen so far:\n${JSON.stringify(this.text.slice(-2000))}`,
    );
  }

  /** Waits until `count` lines match `pattern`; returns them. */
  async waitForCount(pattern: RegExp, count: number, ms = 10_000): Promise<string[]> {
    return await deadline(
      (async () => {
        while (true) {
          const found = this.lines.filter((line) => pattern.test(line));
          if (found.length >= count) return found;
          if (this.#ended) {
            throw new Error(`stream ended with ${found.length}/${count} lines matching ${pattern}`);
          }
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
      })(),
      ms,
      `${count} lines matching ${pattern}; seen so far:\n${this.text}`,
    );
  }
}

/** A running child process with its output followed line by line. */
export class Child implements AsyncDisposable {
  readonly process: Deno.ChildProcess;
  readonly stdout: LineStream;
  readonly stderr: LineStream;
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array> | null;
  #status: Promise<Deno.CommandStatus>;

  constructor(command: string, args: string[], options: { stdin?: boolean } = {}) {
    this.process = new Deno.Command(command, {
      args,
      stdin: options.stdin ? "piped" : "null",
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).spawn();
    this.stdout = new LineStream(this.process.stdout);
    this.stderr = new LineStream(this.process.stderr);
    this.#stdin = options.stdin ? this.process.stdin.getWriter() : null;
    this.#status = this.process.status;
  }

  /** Writes text to the child's stdin. */
  async write(text: string): Promise<void> {
    if (!this.#stdin) throw new Error("stdin is not piped");
    await this.#stdin.write(encoder.encode(text));
  }

  /** Closes the child's stdin (end of input). */
  async closeStdin(): Promise<void> {
    if (this.#stdin) await this.#stdin.close().catch(() => {});
  }

  /** Waits for the child to exit; returns its status and all its output. */
  async wait(ms = 15_000): Promise<{ code: number; stdout: string; stderr: string }> {
    const status = await deadline(this.#status, ms, "the child process to exit");
    await Promise.all([this.stdout.done, this.stderr.done]);
    return { code: status.code, stdout: this.stdout.text, stderr: this.stderr.text };
  }

  /** Sends a signal (if still running) and waits for the exit. */
  async stop(signal: Deno.Signal = "SIGTERM", ms = 15_000) {
    try {
      this.process.kill(signal);
    } catch { /* already exited */ }
    return await this.wait(ms);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.closeStdin();
    try {
      this.process.kill("SIGKILL");
    } catch { /* already exited */ }
    await this.#status;
    await Promise.all([this.stdout.done, this.stderr.done]).catch(() => {});
  }
}

/** Starts `socklab ARGS` with the CLI permissions. */
export function socklab(
  args: string[],
  options: { stdin?: boolean; permissions?: readonly string[] } = {},
): Child {
  return new Child(Deno.execPath(), [
    "run",
    "--quiet",
    ...(options.permissions ?? CLI_PERMISSIONS),
    MAIN,
    ...args,
  ], options);
}

/** Runs `socklab ARGS` to completion, feeding `input` on stdin. */
export async function runSocklab(
  args: string[],
  options: { input?: string; permissions?: readonly string[]; ms?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = socklab(args, {
    stdin: options.input !== undefined,
    permissions: options.permissions,
  });
  if (options.input !== undefined) {
    await child.write(options.input);
    await child.closeStdin();
  }
  return await child.wait(options.ms);
}

/** A running socklab server and the ports of its listeners, by service. */
export interface RunningServer extends AsyncDisposable {
  child: Child;
  /** Ports in the order the ready lines came. */
  ports: number[];
  /** Ports by service name. */
  byService: Record<string, number[]>;
  stop(signal?: Deno.Signal): Promise<{ code: number; stdout: string; stderr: string }>;
}

const READY = /^socklab (\S+) listening on (\S+):(\d+)$/;

/** Starts `socklab server ARGS` and waits for `listeners` ready lines. */
export async function startServer(
  args: string[],
  listeners = 1,
  options: { stdin?: boolean; permissions?: readonly string[] } = {},
): Promise<RunningServer> {
  const child = socklab(["server", ...args], options);
  let lines: string[];
  try {
    lines = await child.stdout.waitForCount(READY, listeners);
  } catch (error) {
    const result = await child.stop("SIGKILL");
    throw new Error(`${(error as Error).message}\nstderr:\n${result.stderr}`);
  }
  const ports: number[] = [];
  const byService: Record<string, number[]> = {};
  for (const line of lines) {
    const [, service, , port] = READY.exec(line)!;
    ports.push(Number(port));
    (byService[service] ??= []).push(Number(port));
  }
  return {
    child,
    ports,
    byService,
    stop: (signal: Deno.Signal = "SIGTERM") => child.stop(signal),
    [Symbol.asyncDispose]: () => child[Symbol.asyncDispose](),
  };
}

/** Starts a Python classroom peer from tests/fixtures/classroom. */
export function classroom(
  script: string,
  args: string[],
  options: { stdin?: boolean } = {},
): Child {
  const path = new URL(`./fixtures/classroom/${script}`, import.meta.url).pathname;
  return new Child("python3", ["-u", path, ...args], options);
}

/** Connects to 127.0.0.1:port. */
export function connectLocal(port: number): Promise<Deno.TcpConn> {
  return Deno.connect({ hostname: "127.0.0.1", port });
}

/** Reads once (as `recv(1024)` does), with a deadline; null at end of stream. */
export async function readOnce(conn: Deno.Conn, ms = 5_000, size = 1024): Promise<string | null> {
  const buf = new Uint8Array(size);
  const n = await deadline(conn.read(buf), ms, "a read");
  return n === null ? null : decoder.decode(buf.subarray(0, n));
}

/** Reads until end of stream, with a deadline. */
export async function readAll(conn: Deno.Conn, ms = 5_000): Promise<string> {
  const buf = new Uint8Array(64 * 1024);
  let text = "";
  await deadline(
    (async () => {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) return;
        text += decoder.decode(buf.subarray(0, n), { stream: true });
      }
    })(),
    ms,
    "end of stream",
  );
  return text;
}

/** Reads until `count` LF-terminated lines have come (or end of stream), with a deadline. */
export async function readLines(conn: Deno.Conn, count: number, ms = 5_000): Promise<string[]> {
  const buf = new Uint8Array(64 * 1024);
  let text = "";
  await deadline(
    (async () => {
      while ((text.match(/\n/g)?.length ?? 0) < count) {
        const n = await conn.read(buf);
        if (n === null) return;
        text += decoder.decode(buf.subarray(0, n), { stream: true });
      }
    })(),
    ms,
    `${count} lines; got ${JSON.stringify(text)}`,
  );
  return text.split("\n").slice(0, count);
}

/** Writes all of `text`. */
export async function send(conn: Deno.Conn, text: string | Uint8Array): Promise<void> {
  const bytes = typeof text === "string" ? encoder.encode(text) : text;
  let offset = 0;
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/** Connects, sends `request`, and reads until the server closes: the whole reply. */
export async function exchangeOnce(
  port: number,
  request: string | Uint8Array,
  ms = 5_000,
): Promise<string> {
  const conn = await connectLocal(port);
  try {
    await send(conn, request);
    return await readAll(conn, ms);
  } finally {
    closeQuietly(conn);
  }
}

/** Closes a connection, ignoring "already closed". */
export function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch { /* already closed */ }
}

export { DENY_ALL_BUT_NET };

/**
 * A port nothing listens on (bound, read back, released), for the tests that
 * must name the port in a permission before the server starts.
 */
export async function freePort(): Promise<number> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  await Promise.resolve();
  return port;
}

/** A server that handles each connection with `handle`, one at a time, then closes it. */
export function fakeServer(
  handle: (conn: Deno.TcpConn) => Promise<void>,
): AsyncDisposable & { port: number } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    while (true) {
      let conn: Deno.TcpConn;
      try {
        conn = await listener.accept();
      } catch {
        return;
      }
      try {
        await handle(conn);
      } catch {
        /* the client went away */
      } finally {
        closeQuietly(conn);
      }
    }
  })();
  return {
    port: listener.addr.port,
    async [Symbol.asyncDispose]() {
      listener.close();
      await done;
    },
  };
}
