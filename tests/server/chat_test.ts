import { equal, match } from "node:assert/strict";
import { ChatService, runChatConsole } from "../../src/server/chat.ts";
import { serve } from "../../src/net/server.ts";
import { closeQuietly, connectLocal, deadline, readLines } from "../_helpers.ts";

/** Lines typed by a test, as an async iterable that waits for more. */
class Typed implements AsyncIterable<string> {
  readonly #lines: string[] = [];
  #ended = false;
  #wake: (() => void) | null = null;

  type(line: string): void {
    this.#lines.push(line);
    this.#wake?.();
  }

  end(): void {
    this.#ended = true;
    this.#wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<string> {
    while (true) {
      if (this.#lines.length > 0) {
        yield this.#lines.shift()!;
        continue;
      }
      if (this.#ended) return;
      await new Promise<void>((resolve) => this.#wake = resolve);
    }
  }
}

async function joinedClient(port: number): Promise<Deno.TcpConn> {
  const conn = await connectLocal(port);
  // The join announcement and the list of those already there.
  match((await readLines(conn, 2))[0], /is connected as <user\d+>/);
  return conn;
}

Deno.test("runChatConsole() sends each line as Server: and stops reading when the signal aborts", async () => {
  const chat = new ChatService();
  await using server = serve(chat, { port: 0 });
  const conn = await joinedClient(server.addr.port);
  const typed = new Typed();
  const controller = new AbortController();
  let shutdown = "";
  try {
    const stopped = runChatConsole(chat, {
      lines: typed,
      signal: controller.signal,
      requestShutdown: (reason) => shutdown = reason,
    });
    typed.type("hello \x1b[2J all");
    equal((await readLines(conn, 1))[0], "Server: hello \\033[2J all");
    controller.abort();
    await deadline(stopped, 2_000, "the console to stop");
    equal(shutdown, "");
  } finally {
    typed.end();
    closeQuietly(conn);
  }
});

Deno.test("runChatConsole() on exit tells the clients the server is closing and asks for shutdown", async () => {
  const chat = new ChatService();
  await using server = serve(chat, { port: 0 });
  const conn = await joinedClient(server.addr.port);
  const typed = new Typed();
  let shutdown = "";
  try {
    const stopped = runChatConsole(chat, {
      lines: typed,
      signal: new AbortController().signal,
      requestShutdown: (reason) => shutdown = reason,
    });
    typed.type("  EXIT ");
    await deadline(stopped, 2_000, "the console to stop");
    equal(shutdown, "the operator typed exit");
    equal((await readLines(conn, 1))[0], "<announce> The server is closing.");
  } finally {
    typed.end();
    closeQuietly(conn);
  }
});

Deno.test("runChatConsole() ends at the end of input and the chat goes on", async () => {
  const chat = new ChatService();
  await using server = serve(chat, { port: 0 });
  const typed = new Typed();
  let shutdown = "";
  typed.end();
  await deadline(
    runChatConsole(chat, {
      lines: typed,
      signal: new AbortController().signal,
      requestShutdown: (reason) => shutdown = reason,
    }),
    2_000,
    "the console to stop",
  );
  equal(shutdown, "");
  const conn = await joinedClient(server.addr.port);
  closeQuietly(conn);
});
