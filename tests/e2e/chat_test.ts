import { deepEqual, equal, match, ok } from "node:assert/strict";
import {
  Child,
  classroom,
  CLI_PERMISSIONS,
  closeQuietly,
  connectLocal,
  deadline,
  DENY_ALL_BUT_NET,
  freePort,
  readAll,
  runSocklab,
  send,
  socklab,
  startServer,
} from "../_helpers.ts";
import { CLEAR_LINE } from "../../src/client/line_editor.ts";

const decoder = new TextDecoder();
const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const PTY = new URL("../fixtures/pty_run.py", import.meta.url).pathname;

/** A raw TCP client of the chat that records everything it receives. */
class ChatPeer {
  readonly conn: Deno.TcpConn;
  /** The name the server gave (from its own join announcement). */
  name = "";
  /** Everything received, decoded. */
  text = "";
  /** The first bytes received (up to 64 KiB, for the raw tests). */
  bytes = new Uint8Array(0);
  /** Complete lines received. */
  readonly lines: string[] = [];
  readonly done: Promise<void>;
  #partial = "";
  #ended = false;
  #waiters: (() => void)[] = [];

  constructor(conn: Deno.TcpConn) {
    this.conn = conn;
    this.done = this.#pump();
  }

  static async connect(port: number): Promise<ChatPeer> {
    return new ChatPeer(await connectLocal(port));
  }

  /** The local port, as the server's log names this client. */
  get port(): number {
    return this.conn.localAddr.port;
  }

  get ended(): boolean {
    return this.#ended;
  }

  async #pump(): Promise<void> {
    const buf = new Uint8Array(64 * 1024);
    try {
      while (true) {
        const n = await this.conn.read(buf);
        if (n === null) break;
        const chunk = buf.subarray(0, n);
        if (this.bytes.length < 64 * 1024) {
          const all = new Uint8Array(this.bytes.length + n);
          all.set(this.bytes);
          all.set(chunk, this.bytes.length);
          this.bytes = all;
        }
        const text = decoder.decode(chunk, { stream: true });
        this.text += text;
        const parts = (this.#partial + text).split("\n");
        this.#partial = parts.pop()!;
        this.lines.push(...parts);
        this.#wake();
      }
    } catch { /* reset or closed by the test */ }
    this.#ended = true;
    this.#wake();
  }

  #wake(): void {
    for (const waiter of this.#waiters.splice(0)) waiter();
  }

  /** Waits until `check` is true (checked on every arrival and at the end). */
  async until(check: () => boolean, what: string, ms = 5_000): Promise<void> {
    await deadline(
      (async () => {
        while (!check()) {
          if (this.#ended) throw new Error(`stream ended before ${what}`);
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
      })(),
      ms,
      `${what}; received so far:\n${this.text.slice(-2000)}`,
    );
  }

  /** Waits until `count` lines match `pattern`; returns the first. */
  async waitFor(pattern: RegExp, count = 1, ms = 5_000): Promise<string> {
    let seen = 0;
    let scanned = 0;
    let first: string | undefined;
    await this.until(
      () => {
        for (; scanned < this.lines.length; scanned++) {
          if (pattern.test(this.lines[scanned])) {
            first ??= this.lines[scanned];
            seen++;
          }
        }
        return seen >= count;
      },
      `${count} line(s) matching ${pattern}`,
      ms,
    );
    return first!;
  }

  /** Waits for the server to close the connection. */
  async waitForEnd(ms = 5_000): Promise<void> {
    await deadline(this.done, ms, "the server to close the connection");
  }

  send(text: string | Uint8Array): Promise<void> {
    return send(this.conn, text);
  }

  async close(): Promise<void> {
    closeQuietly(this.conn);
    await this.done;
  }
}

/**
 * Joins `count` clients one after the other; returns once each has seen its
 * own join and everyone else's, so that nothing sent later can overtake them.
 */
async function joinChat(port: number, count: number): Promise<ChatPeer[]> {
  const peers: ChatPeer[] = [];
  for (let i = 0; i < count; i++) {
    const peer = await ChatPeer.connect(port);
    const own = await peer.waitFor(/^<announce> \S+ is connected as <(user\d+)>/);
    peer.name = /<(user\d+)>/.exec(own)![1];
    peers.push(peer);
  }
  for (const [i, peer] of peers.entries()) {
    for (const later of peers.slice(i + 1)) {
      await peer.waitFor(new RegExp(`is connected as <${later.name}>`));
    }
  }
  return peers;
}

async function closeAll(peers: ChatPeer[]): Promise<void> {
  await Promise.all(peers.map((peer) => peer.close()));
}

Deno.test("socklab server chat relays a line to every other client, never back to its sender", async () => {
  await using server = await startServer(["chat", "--port", "0"]);
  const peers = await joinChat(server.ports[0], 3);
  const [a, b, c] = peers;
  try {
    await a.send("hello, all\n");
    equal(await b.waitFor(/^<user1> /), "<user1> hello, all");
    equal(await c.waitFor(/^<user1> /), "<user1> hello, all");
    // Had a been sent its own line, it would come before b's answer.
    // Braces are text, not placeholders of the log.
    await b.send("hi a {x} }}\n");
    await a.waitFor(/^<user2> hi a \{x\} \}\}$/);
    ok(!a.lines.some((line) => line.startsWith("<user1>")), a.text);
    equal(c.lines.filter((line) => line.startsWith("<user2>")).length <= 1, true);
  } finally {
    await closeAll(peers);
  }
  const log = (await server.stop()).stderr;
  match(log, /INFO +server\.chat: <user1> hello, all/);
  match(log, /INFO +server\.chat: <user2> hi a \{x\} \}\}\n/);
});

Deno.test("chat announces joins and departures with the count, and tells a newcomer who is there", async () => {
  await using server = await startServer(["chat", "--port", "0"]);
  const [a, b] = await joinChat(server.ports[0], 2);
  const c = await ChatPeer.connect(server.ports[0]);
  try {
    equal(
      await c.waitFor(/^<announce> already/),
      "<announce> already connected: 127.0.0.1 as <user1>, 127.0.0.1 as <user2>.",
    );
    equal(c.lines[0], "<announce> 127.0.0.1 is connected as <user3> (3 connected).");
    await a.waitFor(/^<announce> 127\.0\.0\.1 is connected as <user3> \(3 connected\)\.$/);
    await c.close();
    await a.waitFor(/^<announce> <user3> is disconnected \(2 connected\)\.$/);
    await b.waitFor(/^<announce> <user3> is disconnected \(2 connected\)\.$/);
    // /quit leaves at once: announced, then closed by the server.
    await b.send("/quit\n");
    await b.waitForEnd();
    await a.waitFor(/^<announce> <user2> is disconnected \(1 connected\)\.$/);
    // Names are never reused within a run.
    const [d] = await joinChat(server.ports[0], 1);
    equal(d.name, "user4");
    await d.close();
  } finally {
    await closeAll([a, b, c]);
  }
});

Deno.test("chat renames with /nick, refuses collisions and bad names, answers /who to the asker", async () => {
  await using server = await startServer(["chat", "--port", "0"]);
  const peers = await joinChat(server.ports[0], 3);
  const [a, b, c] = peers;
  try {
    await a.send("/nick alice\n");
    for (const peer of peers) {
      await peer.waitFor(/^<announce> <user1> is now known as <alice> \(3 connected\)\.$/);
    }
    await b.send("/nick ALICE\n");
    equal(await b.waitFor(/^<error>/), "<error> Cannot use the name <ALICE>: it is taken.");
    await b.send("/nick bad name!\n");
    await b.waitFor(/^<error> Cannot use the name "bad name!": use 1-32 letters/);
    await b.send("/nick user9\n");
    await b.waitFor(/^<error> Cannot use the name <user9>: names user<N> are given by the server/);
    await b.send("/nick announce\n");
    await b.waitFor(/^<error> Cannot use the name <announce>: it is reserved\.$/);
    await b.send("/nick\n");
    await b.waitFor(/^<error> Usage: \/nick NAME/);
    await b.send("/who\n");
    equal(
      await b.waitFor(/^<announce> \d+ connected: /),
      "<announce> 3 connected: <alice>, <user2> (you), <user3>.",
    );
    await b.send("/frob\n");
    await b.waitFor(/^<error> Unknown command "\/frob"; \/help lists the commands\.$/);
    await b.send("/help\n");
    await b.waitFor(/^<announce> Commands: \/nick NAME .*\/who, \/me ACTION, \/quit, \/help/);
    await b.send("/me waves\n");
    await a.waitFor(/^\* user2 waves$/);
    await b.send("//nick is a command\n");
    await a.waitFor(/^<user2> \/nick is a command$/);
    await c.waitFor(/^<user2> \/nick is a command$/);
    // None of b's errors, /who or /help reached the others.
    for (const peer of [a, c]) {
      ok(!peer.lines.some((line) => /^<error>|connected: <|Commands:/.test(line)), peer.text);
    }
    await a.send("renamed\n");
    await c.waitFor(/^<alice> renamed$/);
  } finally {
    await closeAll(peers);
  }
});

Deno.test("chat escapes control bytes as ncat does and keeps UTF-8 text", async () => {
  await using server = await startServer(["chat", "--port", "0"]);
  const peers = await joinChat(server.ports[0], 2);
  const [a, b] = peers;
  try {
    await a.send(new Uint8Array([...new TextEncoder().encode("é\x1b[2J\x07\tx"), 0xff, 10]));
    equal(await b.waitFor(/^<user1> /), "<user1> é\\033[2J\\007\tx\\377");
  } finally {
    await closeAll(peers);
  }
});

Deno.test("chat serves the write-up's client style (no newline, one read) and telnet's CRLF", async () => {
  await using server = await startServer(["chat", "--port", "0"]);
  const peers = await joinChat(server.ports[0], 2);
  const [a, b] = peers;
  try {
    await a.send("hi there"); // one send, no newline: the quiet period ends it
    await b.waitFor(/^<user1> hi there$/);
    await b.send("hello\r\n"); // telnet
    await a.waitFor(/^<user2> hello$/);
    await a.send("and CRLF back\n");
    await b.until(() => b.text.endsWith("<user1> and CRLF back\r\n"), "a CRLF line");
  } finally {
    await closeAll(peers);
  }
});

Deno.test("chat sends an over-long line back as a notice, relays nothing of it, keeps the connection", async () => {
  await using server = await startServer(["chat", "--port", "0", "--max-line-bytes", "100"]);
  const peers = await joinChat(server.ports[0], 3);
  const [a, b, c] = peers;
  try {
    await a.send("x".repeat(300) + "\n");
    equal(await a.waitFor(/^<error>/), "<error> Line longer than 100 bytes: not sent.");
    await a.send("short\n");
    await b.waitFor(/^<user1> short$/);
    // Without a newline, the over-long message ends at the quiet period.
    await a.send("y".repeat(300));
    await a.waitFor(/^<error> Line longer/, 2);
    // c's message, sent after, ends after its own quiet period: a's is then over.
    await c.send("ping");
    await b.waitFor(/^<user3> ping$/);
    await a.send("after");
    await b.waitFor(/^<user1> after$/);
    ok(!b.text.includes("xxx") && !b.text.includes("yyy"), b.text);
    ok(!c.text.includes("xxx") && !c.text.includes("yyy"), c.text);
  } finally {
    await closeAll(peers);
  }
});

Deno.test("chat refuses a client past --max-clients with one line", async () => {
  await using server = await startServer(["chat", "--port", "0", "--max-clients", "2"]);
  const peers = await joinChat(server.ports[0], 2);
  try {
    const refused = await connectLocal(server.ports[0]);
    try {
      equal(await readAll(refused), "<error> The chat is full (2 clients); try again later.\n");
    } finally {
      closeQuietly(refused);
    }
    // The refused client was never announced.
    await peers[0].send("still two\n");
    await peers[1].waitFor(/^<user1> still two$/);
    ok(!peers[1].lines.some((line) => line.includes("(3 connected)")), peers[1].text);
  } finally {
    await closeAll(peers);
  }
  match((await server.stop()).stderr, /Refused 127\.0\.0\.1:\d+: the chat is full \(2 clients\)/);
});

Deno.test("the operator console sends Server: lines; exit closes the chat gracefully", async () => {
  await using server = await startServer(["chat", "--port", "0"], 1, { stdin: true });
  const peers = await joinChat(server.ports[0], 2);
  try {
    await server.child.write("hello from the console\n");
    for (const peer of peers) await peer.waitFor(/^Server: hello from the console$/);
    await server.child.write("exit\n");
    for (const peer of peers) {
      await peer.waitFor(/^<announce> The server is closing\.$/);
      await peer.waitForEnd();
    }
    const result = await server.child.wait();
    equal(result.code, 0, result.stderr);
    match(result.stderr, /INFO +server\.chat: Server: hello from the console \(2 connected\)/);
    match(result.stderr, /Shutting down: the operator typed exit/);
    // Departures during the shutdown are not announced to those still there.
    for (const peer of peers) ok(!peer.text.includes("is disconnected"), peer.text);
  } finally {
    await closeAll(peers);
  }
});

Deno.test("the end of the server's stdin does not stop the chat", async () => {
  await using server = await startServer(
    ["chat", "--port", "0", "--log-level", "debug"],
    1,
    { stdin: true },
  );
  await server.child.closeStdin();
  await server.child.stderr.waitFor(/end of input; the server keeps running/);
  const peers = await joinChat(server.ports[0], 2);
  try {
    await peers[0].send("still here\n");
    await peers[1].waitFor(/^<user1> still here$/);
  } finally {
    await closeAll(peers);
  }
  equal((await server.stop()).code, 0);
});

Deno.test("chat honours an --idle-timeout given on the command line (it has none by default)", async () => {
  await using server = await startServer(["chat", "--port", "0", "--idle-timeout", "300ms"]);
  const [silent] = await joinChat(server.ports[0], 1);
  try {
    await silent.waitForEnd(5_000);
  } finally {
    await silent.close();
  }
  match((await server.stop()).stderr, /Closing 127\.0\.0\.1:\d+: idle for 300 ms/);
});

Deno.test("SIGTERM tells the clients the server is closing, then exits 0", async () => {
  await using server = await startServer(["chat", "--port", "0"]);
  const peers = await joinChat(server.ports[0], 2);
  try {
    const result = await server.stop();
    equal(result.code, 0, result.stderr);
    for (const peer of peers) {
      await peer.waitFor(/^<announce> The server is closing\.$/);
      await peer.waitForEnd();
    }
  } finally {
    await closeAll(peers);
  }
});

Deno.test("socklab server chat --raw relays bytes unchanged, with no names, announcements or commands", async () => {
  await using server = await startServer(["chat", "--port", "0", "--raw"], 1, { stdin: true });
  const peers: ChatPeer[] = [];
  try {
    for (let i = 1; i <= 3; i++) {
      peers.push(await ChatPeer.connect(server.ports[0]));
      await server.child.stderr.waitFor(new RegExp(`connected \\(${i} connected\\)`));
    }
    const [a, b, c] = peers;
    const payload = new Uint8Array([0, 0xff, 0x68, 0x69, 10, 0x1b, 0x5b]);
    await a.send(payload);
    for (const peer of [b, c]) {
      await peer.until(() => peer.bytes.length >= payload.length, "the payload");
      deepEqual(peer.bytes, payload);
    }
    await b.send("/nick bob");
    await a.until(() => a.text.length >= 9, "b's bytes");
    equal(a.text, "/nick bob"); // nothing before it: a got nothing back of its own
    await server.child.write("from the console\n");
    for (const peer of peers) {
      await peer.until(() => peer.text.endsWith("Server: from the console"), "the console line");
    }
    await server.child.write("exit\n");
    for (const peer of peers) await peer.waitForEnd();
    equal(a.text, "/nick bobServer: from the console");
    equal(c.text, "\0\ufffdhi\n\x1b[/nick bobServer: from the console");
    equal((await server.child.wait()).code, 0);
  } finally {
    await closeAll(peers);
  }
});

Deno.test("a client that stops reading is cut once its queue is full; the others keep receiving", async () => {
  await using server = await startServer(["chat", "--port", "0", "--max-pending-bytes", "16384"]);
  const port = server.ports[0];
  const peers = await joinChat(port, 2);
  const [sender, reader] = peers;
  const stalled = await connectLocal(port); // never reads
  try {
    await sender.waitFor(/is connected as <user3>/);
    await reader.waitFor(/is connected as <user3>/);
    const cutLine = new RegExp(
      `Disconnecting 127\\.0\\.0\\.1:${stalled.localAddr.port}: more than 16384 bytes`,
    );
    let cut = false;
    const cutSeen = server.child.stderr.waitFor(cutLine, 30_000).then(() => cut = true);
    cutSeen.catch(() => {}); // awaited below; the loop may fail first
    // Enough traffic to fill the kernel's buffers for the stalled client, then its queue.
    // Each line must reach the reader before the next is sent: the reader, in this same
    // process, never falls behind, so only the stalled client can be cut.
    const filler = "x".repeat(8000);
    let sent = 0;
    let received = 0;
    let scanned = 0;
    const countReceived = () => {
      for (; scanned < reader.lines.length; scanned++) {
        if (reader.lines[scanned].startsWith("<user1> ")) {
          equal(reader.lines[scanned], `<user1> ${received} ${filler}`);
          received++;
        }
      }
      return received;
    };
    while (!cut && sent < 4000) {
      await sender.send(`${sent} ${filler}\n`);
      sent++;
      await reader.until(() => countReceived() >= sent, `line ${sent - 1} at the reader`, 2_000);
    }
    await cutSeen;
    ok(sent < 4000, "the stalled client was cut within the traffic bound");
    // The others are told.
    await reader.waitFor(/^<announce> <user3> is disconnected \(2 connected\)\.$/);
    await sender.waitFor(/^<announce> <user3> is disconnected \(2 connected\)\.$/);
    await sender.send("after the cut\n");
    await reader.waitFor(/^<user1> after the cut$/, 1, 2_000);
  } finally {
    closeQuietly(stalled);
    await closeAll(peers);
  }
});

Deno.test("socklab client chat sends piped lines, names itself, prints JSON, exits 0 after /quit", async () => {
  await using server = await startServer(["chat", "--port", "0"]);
  const port = server.ports[0];
  const [watcher] = await joinChat(port, 1);
  try {
    const result = await runSocklab(
      ["client", "chat", "--server", `127.0.0.1:${port}`, "--nick", "alice", "--json"],
      { input: "hello\n\n/who\n/me waves\n/quit\nnot sent\n" },
    );
    equal(result.code, 0, result.stderr);
    const rows = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
    deepEqual(rows[0], {
      kind: "announcement",
      from: null,
      text: "127.0.0.1 is connected as <user2> (2 connected).",
    });
    deepEqual(rows.slice(2), [
      { kind: "announcement", from: null, text: "<user2> is now known as <alice> (2 connected)." },
      { kind: "announcement", from: null, text: "2 connected: <user1>, <alice> (you)." },
    ]);
    await watcher.waitFor(/^<alice> hello$/);
    await watcher.waitFor(/^\* alice waves$/);
    await watcher.waitFor(/^<announce> <alice> is disconnected \(1 connected\)\.$/);
    ok(!watcher.text.includes("not sent"));
  } finally {
    await watcher.close();
  }
});

Deno.test("socklab client chat prints what arrives; the server going is one line and exit 1", async () => {
  await using server = await startServer(["chat", "--port", "0"]);
  const port = server.ports[0];
  const [watcher] = await joinChat(port, 1);
  try {
    await using client = socklab(["client", "chat", "--server", `127.0.0.1:${port}`], {
      stdin: true,
    });
    await watcher.waitFor(/is connected as <user2>/);
    await watcher.send("hi client\n");
    await client.stdout.waitFor(/^<user1> hi client$/);
    await client.write("hi watcher\n");
    await watcher.waitFor(/^<user2> hi watcher$/);
    equal((await server.stop()).code, 0);
    const result = await client.wait();
    equal(result.code, 1);
    match(result.stdout, /^<announce> The server is closing\.$/m);
    equal(result.stderr, "Disconnected from server\n");
  } finally {
    await watcher.close();
  }
});

Deno.test("socklab client chat: a refused server is one line and exit 1; a bad --nick exit 2", async () => {
  const port = await freePort();
  const refused = await runSocklab(["client", "chat", "--server", `127.0.0.1:${port}`], {
    input: "",
  });
  equal(refused.code, 1);
  equal(refused.stderr.trim(), `socklab: connection refused by 127.0.0.1:${port}`);
  const nick = await runSocklab(["client", "chat", "--nick", "no spaces"], { input: "" });
  equal(nick.code, 2);
  match(nick.stderr, /Cannot use --nick "no spaces"/);
});

/** Runs `socklab client chat` on a pseudo-terminal (tests/fixtures/pty_run.py). */
function chatOnTerminal(port: number, ...args: string[]): Child {
  return new Child("python3", [
    PTY,
    Deno.execPath(),
    "run",
    "--quiet",
    ...CLI_PERMISSIONS,
    MAIN,
    "client",
    "chat",
    "--server",
    `127.0.0.1:${port}`,
    ...args,
  ], { stdin: true });
}

Deno.test("socklab client chat on a terminal prints arrivals above the line being typed, redrawn", async () => {
  await using server = await startServer(["chat", "--port", "0"]);
  const port = server.ports[0];
  const [watcher] = await joinChat(port, 1);
  try {
    await using tty = chatOnTerminal(port, "--nick", "tty");
    // The name is sent once the terminal is in raw mode.
    await watcher.waitFor(/^<announce> <user2> is now known as <tty>/);
    await tty.write("half typ");
    await tty.stdout.waitForText(/> half typ$/);
    await watcher.send("message while typing\n");
    // The arrival, then the prompt and the partial input redrawn after it (CLEAR_LINE first).
    await tty.stdout.waitForText(
      new RegExp(`<user1> message while typing\r?\r\n${escapeRegExp(CLEAR_LINE)}> half typ$`),
    );
    await tty.write("ed é\x1b[A\r"); // an arrow key is ignored
    await watcher.waitFor(/^<tty> half typed é$/);
    await tty.write("exit\r");
    const result = await tty.wait();
    match(result.stdout, /\[exit 0 cooked=True\]\n$/);
  } finally {
    await watcher.close();
  }
});

Deno.test("socklab client chat on a terminal restores it and exits 1 when the server goes", async () => {
  await using server = await startServer(["chat", "--port", "0"]);
  const port = server.ports[0];
  const [watcher] = await joinChat(port, 1);
  try {
    await using tty = chatOnTerminal(port, "--nick", "tty");
    await watcher.waitFor(/^<announce> <user2> is now known as <tty>/);
    await tty.write("unsent");
    await tty.stdout.waitForText(/> unsent$/);
    equal((await server.stop()).code, 0);
    const result = await tty.wait();
    match(result.stdout, /The server is closing\.[^]*Disconnected from server\r?\n/);
    match(result.stdout, /\[exit 1 cooked=True\]\n$/);
  } finally {
    await watcher.close();
  }
});

Deno.test("the classroom chat client (write-up 004) works with socklab's chat server", async () => {
  await using server = await startServer(["chat", "--port", "0"]);
  const port = server.ports[0];
  const [ours] = await joinChat(port, 1);
  try {
    await using student = classroom("chat_client.py", [String(port)], { stdin: true });
    await student.stdout.waitFor(/Connected to the server\./);
    await ours.waitFor(/is connected as <user2>/);
    await student.write("hello from python\n");
    await ours.waitFor(/^<user2> hello from python$/);
    await ours.send("hi python\n");
    await student.stdout.waitFor(/Message received: <user1> hi python/);
    await student.write("exit\n");
    equal((await student.wait()).code, 0);
    await ours.waitFor(/^<announce> <user2> is disconnected \(1 connected\)\.$/);
  } finally {
    await ours.close();
  }
});

Deno.test("socklab client chat works against the classroom chat server (write-up 004)", async () => {
  await using peer = classroom("chat_server.py", ["0"], { stdin: true });
  const port = Number((await peer.stdout.waitFor(/listening on/)).split(":").pop());
  const student = await ChatPeer.connect(port); // a client like the write-up's
  try {
    await peer.stdout.waitFor(/New connection from/);
    await using client = socklab(["client", "chat", "--server", `127.0.0.1:${port}`], {
      stdin: true,
    });
    await peer.stdout.waitForCount(/New connection from/, 2);
    await client.write("hello\n");
    await student.until(() => student.text === "hello\n", "our line, relayed raw");
    await student.send("yo there"); // no newline, as the write-up's client
    await client.stdout.waitFor(/^yo there$/);
    await peer.write("from the console\n");
    await client.stdout.waitFor(/^Server: from the console$/);
    await peer.write("exit\n");
    const result = await client.wait();
    equal(result.code, 1);
    equal(result.stderr, "Disconnected from server\n");
  } finally {
    await student.close();
  }
});

Deno.test("the chat server runs with exactly its own port and everything else denied", async () => {
  const port = await freePort();
  const permissions = [`--allow-net=127.0.0.1:${port}`, ...DENY_ALL_BUT_NET];
  await using server = await startServer(["chat", "--port", String(port)], 1, {
    stdin: true,
    permissions,
  });
  const [watcher] = await joinChat(port, 1);
  try {
    await server.child.write("console works\n");
    await watcher.waitFor(/^Server: console works$/);
    const result = await runSocklab(
      ["client", "chat", "--server", `127.0.0.1:${port}`, "--nick", "bob"],
      { input: "hello\n/quit\n", permissions },
    );
    equal(result.code, 0, result.stderr);
    await watcher.waitFor(/^<bob> hello$/);
  } finally {
    await watcher.close();
  }
  equal((await server.stop()).code, 0);
});

Deno.test("socklab server lists chat on port 8000 among the services it starts by default", async () => {
  const help = await runSocklab(["server", "--help"], { permissions: [] });
  equal(help.code, 0);
  match(help.stdout, /^ {2}chat +8000 +relays each line/m);
  match(help.stdout, /--max-clients <n>/);
  match(help.stdout, /--raw/);
});

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
