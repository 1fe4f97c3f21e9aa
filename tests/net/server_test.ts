import { deepEqual, equal, match, ok } from "node:assert/strict";
import fc from "fast-check";
import {
  type Peer,
  serve,
  type ServeOptions,
  type Server,
  type Service,
} from "../../src/net/server.ts";
import { LineFramer, type Terminator, TERMINATOR_BYTES } from "../../src/net/framing.ts";
import { AccessList } from "../../src/net/cidr.ts";
import { doubleService } from "../../src/server/double.ts";
import { doubleReply } from "../../src/protocol/double.ts";
import { resetLogging, setupLogging } from "../../src/log.ts";
import {
  closeQuietly,
  connectLocal,
  deadline,
  exchangeOnce,
  readAll,
  readLines,
  readOnce,
  send,
} from "../_helpers.ts";

const encoder = new TextEncoder();

/** Log lines captured for one test, with a way to wait for one. */
class CapturedLog implements Disposable {
  readonly lines: string[] = [];
  #waiters: (() => void)[] = [];

  constructor() {
    setupLogging({
      level: "debug",
      write: (line) => {
        this.lines.push(line.trimEnd());
        for (const waiter of this.#waiters.splice(0)) waiter();
      },
    });
  }

  matching(pattern: RegExp): string[] {
    return this.lines.filter((line) => pattern.test(line));
  }

  async waitFor(pattern: RegExp, ms = 5_000): Promise<string> {
    return await deadline(
      (async () => {
        while (true) {
          const line = this.lines.find((l) => pattern.test(l));
          if (line !== undefined) return line;
          await new Promise<void>((resolve) => this.#waiters.push(resolve));
        }
      })(),
      ms,
      `a log line matching ${pattern}; seen:\n${this.lines.join("\n")}`,
    );
  }

  [Symbol.dispose](): void {
    resetLogging();
  }
}

function serveDouble(options: ServeOptions = {}): Server {
  return serve(doubleService(), { port: 0, lingerMs: 200, ...options });
}

/** Sends one request per line and checks every reply, in lockstep. */
async function exchange(port: number, values: (number | bigint)[]): Promise<void> {
  const conn = await connectLocal(port);
  try {
    for (const value of values) {
      await send(conn, `${value}\n`);
      equal((await readLines(conn, 1))[0], String(BigInt(value) * 2n));
    }
  } finally {
    closeQuietly(conn);
  }
}

/** Writes `bytes` in pieces, ignoring the failure when the server closes first. */
async function writeQuietly(conn: Deno.Conn, bytes: Uint8Array, piece = 64 * 1024) {
  try {
    for (let offset = 0; offset < bytes.length; offset += piece) {
      await send(conn, bytes.subarray(offset, offset + piece));
    }
    await conn.closeWrite();
  } catch { /* reset by the server: expected once it has closed */ }
}

Deno.test("serve() answers an oversize flood with the size error and serves others meanwhile", async () => {
  await using server = serveDouble();
  const port = server.addr.port;
  const flood = await connectLocal(port);
  try {
    const reply = readAll(flood, 10_000);
    const writing = writeQuietly(flood, new Uint8Array(10 * 1024 * 1024).fill(0x31));
    await exchange(port, [1, 2, 3, -4, 10n ** 30n]);
    equal(await reply, "error: message longer than 8192 bytes\n");
    await writing;
  } finally {
    closeQuietly(flood);
  }
  await exchange(port, [21]);
});

Deno.test("serve() gives correct answers to many concurrent connections", async () => {
  await using server = serveDouble();
  const port = server.addr.port;
  const connections = 200;
  const requests = 20;
  await Promise.all(
    Array.from({ length: connections }, (_, c) =>
      exchange(
        port,
        Array.from({ length: requests }, (_, r) => (c * 1000 + r) * (r % 2 ? -1 : 1)),
      )),
  );
  equal(server.stats.connections, connections);
  equal(server.stats.messages, connections * requests);
});

Deno.test("serve() passes buffers from connection to connection without mixing their bytes", async () => {
  await using server = serveDouble();
  const port = server.addr.port;
  // Long and short requests in turn, some ended by a newline and some only by
  // the end of the stream: a short one must never see a long one's leftovers.
  const requests = Array.from(
    { length: 300 },
    (_, i) => i % 2 ? String(i) : `${i}${"0".repeat(12)}`,
  );
  for (let round = 0; round < 3; round++) {
    await Promise.all(requests.map(async (request, i) => {
      const conn = await connectLocal(port);
      try {
        // The reply ends as the request did (with a newline, or without).
        const ending = i % 3 ? "\n" : "";
        await send(conn, `${request}${ending}`);
        await conn.closeWrite();
        equal(await readAll(conn), `${doubleReply(encoder.encode(request))}${ending}`);
      } finally {
        closeQuietly(conn);
      }
    }));
  }
  equal(server.stats.connections, 900);
});

Deno.test("serve() never closes a connection as idle before --idle-timeout has passed since its input", async () => {
  await using server = serveDouble({ idleTimeoutMs: 300 });
  const conns = await Promise.all(Array.from({ length: 3 }, () => connectLocal(server.addr.port)));
  try {
    const lastInput: number[] = [];
    // Each client talks every 40 ms for a while, longer than the timeout and across several of
    // the server's ticks (75 ms here), then falls silent.
    await Promise.all(conns.map(async (conn, i) => {
      const started = performance.now();
      for (let r = 0; performance.now() - started < 400 + 100 * i; r++) {
        await send(conn, `${r}\n`);
        deepEqual(await readLines(conn, 1), [String(r * 2)]);
        lastInput[i] = performance.now();
        await new Promise((resolve) => setTimeout(resolve, 40));
      }
    }));
    const closedAfter = await Promise.all(conns.map(async (conn, i) => {
      equal(await readAll(conn, 5_000), "");
      return performance.now() - lastInput[i];
    }));
    for (const ms of closedAfter) ok(ms >= 300, `closed ${ms.toFixed(0)} ms after the last input`);
  } finally {
    conns.forEach(closeQuietly);
  }
});

Deno.test("serve() reclaims idle connections while serving new clients", async () => {
  using log = new CapturedLog();
  await using server = serveDouble({ idleTimeoutMs: 300 });
  const port = server.addr.port;
  const silent = await Promise.all(Array.from({ length: 50 }, () => connectLocal(port)));
  try {
    const closed = Promise.all(silent.map((conn) => readAll(conn, 5_000)));
    let served = 0;
    let done = false;
    closed.then(() => done = true, () => done = true);
    // Keep serving fresh clients until every silent one has been closed.
    while (!done) {
      await exchange(port, [served++]);
    }
    deepEqual(await closed, new Array(50).fill(""));
    ok(served > 0);
    await exchange(port, [7]);
  } finally {
    silent.forEach(closeQuietly);
  }
  // The 50 silent ones at least (a fresh client stalled past 300 ms would be one more).
  ok(log.matching(/INFO .*idle for 300 ms/).length >= 50);
});

Deno.test("serve() answers every request received before shutdown, whole", async () => {
  const server = serveDouble({ shutdownTimeoutMs: 5_000 });
  const port = server.addr.port;
  const conns = await Promise.all(Array.from({ length: 50 }, () => connectLocal(port)));
  try {
    // Every connection is served once, so it has been accepted.
    for (const [i, conn] of conns.entries()) {
      await send(conn, `${i}\n`);
      equal((await readLines(conn, 1))[0], String(2 * i));
    }
    // Four requests in flight on each, the last without a newline.
    await Promise.all(conns.map((conn, i) => send(conn, `${i}\n1_0\r\n-${i}\n${i}5`)));
    const started = performance.now();
    const stopped = server.shutdown();
    const replies = await Promise.all(conns.map((conn) => readAll(conn, 6_000)));
    for (const [i, reply] of replies.entries()) {
      equal(reply, `${2 * i}\n20\r\n${-2 * i}\n${2 * Number(`${i}5`)}`);
    }
    const stats = await stopped;
    equal(stats.messages, 250);
    ok(performance.now() - started < 5_000);
  } finally {
    conns.forEach(closeQuietly);
    await server.shutdown();
  }
});

Deno.test("serve() cuts connections that stay busy past the shutdown timeout", async () => {
  using log = new CapturedLog();
  const server = serveDouble({ shutdownTimeoutMs: 300, flushMs: 10_000 });
  const conn = await connectLocal(server.addr.port);
  try {
    await send(conn, "1\n");
    equal((await readLines(conn, 1))[0], "2");
    await send(conn, "12"); // a message that never ends
    const started = performance.now();
    const reading = readAll(conn, 5_000).catch(() => "");
    await server.shutdown();
    ok(performance.now() - started < 2_000);
    await reading;
    await log.waitFor(/Shutdown timeout: cutting 1 connection/);
    await log.waitFor(/DEBUG .*Closed 127\.0\.0\.1:\d+ \(#1\): shutdown timeout/);
  } finally {
    closeQuietly(conn);
  }
});

Deno.test("serve() survives a peer that resets mid-message, with one log line", async () => {
  using log = new CapturedLog();
  await using server = serveDouble();
  const conn = await connectLocal(server.addr.port);
  await send(conn, "5\n");
  // Read one byte of the reply and leave the rest unread: closing then resets.
  equal(await readOnce(conn, 5_000, 1), "1");
  await send(conn, "12");
  conn.close();
  const closed = await log.waitFor(/Closed 127\.0\.0\.1:\d+ \(#1\)/);
  match(closed, /DEBUG/);
  equal(log.matching(/#1|127\.0\.0\.1/).filter((l) => !/Connection from/.test(l)).length, 1);
  await exchange(server.addr.port, [8]);
});

Deno.test("serve() keeps accepting at full speed while peers reset before being accepted", async () => {
  using log = new CapturedLog();
  await using server = serveDouble();
  // SO_LINGER 0 closes with a reset, before the server's accept has run.
  const script = `
import socket, struct, sys
for _ in range(50):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
`;
  const output = await new Deno.Command("python3", {
    args: ["-c", script, String(server.addr.port)],
    stdout: "null",
    stderr: "piped",
  }).output();
  equal(output.code, 0, new TextDecoder().decode(output.stderr));
  await exchange(server.addr.port, [21]);
  await log.waitFor(/reset before it was accepted/);
  deepEqual(log.matching(/WARN|Cannot accept/), []);
});

Deno.test("serve() answers a peer that half-closes after sending, then closes", async () => {
  using log = new CapturedLog();
  await using server = serveDouble();
  const conn = await connectLocal(server.addr.port);
  try {
    await send(conn, "1\n2\r\n3");
    await conn.closeWrite();
    equal(await readAll(conn), "2\n4\r\n6");
  } finally {
    closeQuietly(conn);
  }
  await log.waitFor(/DEBUG .*Closed 127\.0\.0\.1:\d+ \(#1\): peer closed/);
});

Deno.test("serve() answers every request of a read whose replies pass the output limit", async () => {
  // One read of 9,216 empty lines asks for about 340 KB of replies, past the
  // 256 KiB limit: a peer that reads them all is answered, not cut.
  await using server = serveDouble();
  const conn = await connectLocal(server.addr.port);
  try {
    await send(conn, "\n".repeat(9_216));
    await conn.closeWrite();
    const lines = (await readAll(conn, 10_000)).split("\n");
    equal(lines.pop(), "");
    equal(lines.length, 9_216);
    ok(lines.every((line) => line === lines[0]));
  } finally {
    closeQuietly(conn);
  }
});

Deno.test("serve() refuses a message one byte past the limit that the end of stream ends", async () => {
  await using server = serveDouble({ maxMessageBytes: 16 });
  const conn = await connectLocal(server.addr.port);
  try {
    await send(conn, "1".repeat(17));
    await conn.closeWrite();
    equal(await readAll(conn), "error: message longer than 16 bytes\n");
  } finally {
    closeQuietly(conn);
  }
});

Deno.test("serve() reclaims a peer that vanishes mid-message", async () => {
  using log = new CapturedLog();
  await using server = serveDouble({ idleTimeoutMs: 300, flushMs: 5_000, messageTimeoutMs: 0 });
  const conn = await connectLocal(server.addr.port);
  try {
    await send(conn, "12"); // then nothing, ever: no FIN, no RST
    equal(await readAll(conn), "");
  } finally {
    closeQuietly(conn);
  }
  await log.waitFor(/DEBUG .*Closed 127\.0\.0\.1:\d+ \(#1\): idle for 300 ms/);
});

Deno.test("serve() keeps serving while peers send invalid UTF-8, NUL and random bytes", async () => {
  await using server = serveDouble();
  const port = server.addr.port;
  const hostile = async (seed: number) => {
    const bytes = new Uint8Array(64 * 1024);
    let x = seed * 2654435761 + 1;
    for (let i = 0; i < bytes.length; i++) {
      x = (x * 1103515245 + 12345) >>> 0;
      bytes[i] = x >>> 24;
    }
    bytes.set([0xff, 0xfe, 0x00, 0x0a, 0xc3, 0x28, 0x0a, 0x00, 0x00, 0x0a], 100);
    const conn = await connectLocal(port);
    try {
      const replies = readAll(conn, 10_000);
      await writeQuietly(conn, bytes);
      const text = await replies;
      // Every line is an answer of the double service, never anything half.
      for (const line of text.split(/\r?\n/)) {
        ok(
          line === "" || line === "Received data is not a valid integer" || /^-?\d+$/.test(line),
          line,
        );
      }
    } finally {
      closeQuietly(conn);
    }
  };
  const good = (async () => {
    for (let i = 0; i < 50; i++) await exchange(port, [i, -i * 7]);
  })();
  await Promise.all([...Array.from({ length: 20 }, (_, i) => hostile(i)), good]);
  await exchange(port, [123456789]);
});

Deno.test("serve() refuses past --max-connections with one line, logged with a counter", async () => {
  using log = new CapturedLog();
  await using server = serveDouble({ maxConnections: 3 });
  const port = server.addr.port;
  const held = await Promise.all([1, 2, 3].map(() => connectLocal(port)));
  try {
    for (const conn of held) {
      await send(conn, "1\n");
      equal((await readLines(conn, 1))[0], "2");
    }
    for (const n of [1, 2]) {
      const extra = await connectLocal(port);
      try {
        equal(await readAll(extra), "error: server busy (3 connections)\n");
      } finally {
        closeQuietly(extra);
      }
      await log.waitFor(
        new RegExp(`WARN .*3 connections open, the limit \\(refused so far: ${n}\\)`),
      );
    }
    equal(server.stats.refused, 2);
    closeQuietly(held.pop()!);
    // The freed slot is served again once the server has seen the close.
    await deadline(
      (async () => {
        while (true) {
          const conn = await connectLocal(port);
          try {
            await send(conn, "4\n");
            if ((await readLines(conn, 1))[0] === "8") return;
          } finally {
            closeQuietly(conn);
          }
        }
      })(),
      5_000,
      "a freed connection slot",
    );
  } finally {
    held.forEach(closeQuietly);
  }
});

Deno.test("serve() closes peers refused by the access list at once, logged with a counter", async () => {
  using log = new CapturedLog();
  for (
    const [rules, admitted] of [
      [{ deny: ["127.0.0.1"] }, false],
      [{ allow: ["10.0.0.0/8", "::1"] }, false],
      [{ allow: ["127.0.0.2"], deny: ["127.0.0.0/8"] }, false],
      [{ allow: ["127.0.0.1"], deny: ["127.0.0.0/8"] }, true],
      [{ deny: ["::1", "10.0.0.0/8"] }, true],
    ] as const
  ) {
    const access = new AccessList(rules);
    await using server = serveDouble({ admit: (remote) => access.admits(remote.hostname) });
    const conn = await connectLocal(server.addr.port);
    try {
      if (admitted) {
        await send(conn, "3\n");
        equal((await readLines(conn, 1))[0], "6", JSON.stringify(rules));
      } else {
        equal(await readAll(conn).catch(() => ""), "", JSON.stringify(rules));
        equal(server.stats.refused, 1);
        equal(server.stats.connections, 0);
      }
    } finally {
      closeQuietly(conn);
    }
  }
  equal(
    log.matching(/WARN .*Refused 127\.0\.0\.1:\d+: not allowed \(refused so far: 1\)/).length,
    3,
  );
});

Deno.test("serve() closes a slow-drip client at the message timeout", async () => {
  using log = new CapturedLog();
  // A quiet period well above the drip's pace: a timer late on a busy machine
  // must not end the message and turn the test into a wait for its 8 s bound.
  await using server = serveDouble({ messageTimeoutMs: 1_000, flushMs: 500 });
  const conn = await connectLocal(server.addr.port);
  try {
    const started = performance.now();
    const reply = readAll(conn, 8_000);
    let closed = false;
    reply.then(() => closed = true, () => closed = true);
    // One byte every 40 ms: far less than the quiet period, so the message never ends.
    while (!closed && performance.now() - started < 8_000) {
      try {
        await send(conn, "1");
      } catch {
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, 40));
    }
    const text = await reply;
    const elapsed = performance.now() - started;
    match(text, /error: message not completed within 1000 ms\n$/);
    ok(elapsed >= 1_000, `closed after ${elapsed} ms, before the timeout`);
  } finally {
    closeQuietly(conn);
  }
  await log.waitFor(/INFO .*message not completed within 1000 ms/);
});

Deno.test("serve() times a message from its first byte, not from an earlier one", async () => {
  // Each chunk ends one message and starts the next: no message lasts long,
  // though some message is always unfinished when a read ends.
  await using server = serveDouble({ messageTimeoutMs: 300, flushMs: 5_000 });
  const conn = await connectLocal(server.addr.port);
  try {
    const started = performance.now();
    await send(conn, "0");
    let i = 1;
    while (performance.now() - started < 1_000) {
      await new Promise((resolve) => setTimeout(resolve, 40));
      await send(conn, `\n${i++}`);
    }
    await conn.closeWrite();
    const expected = Array.from({ length: i }, (_, n) => String(2 * n)).join("\n");
    equal(await readAll(conn), expected);
  } finally {
    closeQuietly(conn);
  }
});

Deno.test("serve() times an over-long message being skipped like any other", async () => {
  const service: Service = {
    name: "skipper",
    open: (peer) => ({ message: (m) => peer.send(m), oversize: () => "skip" }),
  };
  await using server = serve(service, {
    port: 0,
    maxMessageBytes: 16,
    messageTimeoutMs: 300,
    flushMs: 10_000,
    lingerMs: 100,
  });
  equal(
    await exchangeOnce(server.addr.port, "ab\n" + "x".repeat(100)),
    "aberror: message not completed within 300 ms\n",
  );
});

Deno.test("serve() cuts a peer that never reads its replies at the idle timeout", async () => {
  using log = new CapturedLog();
  const big = new Uint8Array(64 * 1024).fill(0x2e);
  const service: Service = {
    name: "amplifier",
    open: (peer) => ({ message: () => peer.send(big) }),
  };
  await using server = serve(service, {
    port: 0,
    idleTimeoutMs: 300,
    maxPendingBytes: 1 << 30,
    lingerMs: 100,
  });
  const conn = await connectLocal(server.addr.port);
  try {
    await send(conn, "x\n".repeat(400)); // 25 MiB of replies, never read
    await log.waitFor(/INFO .*replies not read for 300 ms/);
  } finally {
    closeQuietly(conn);
  }
});

Deno.test("serve() ends only the connection whose service throws", async () => {
  using log = new CapturedLog();
  const service: Service = {
    name: "fragile",
    open: (peer) => ({
      message: (m) => {
        if (m[0] === 0x21) throw new Error("boom");
        peer.send(m);
        peer.send(TERMINATOR_BYTES.lf);
      },
    }),
  };
  await using server = serve(service, { port: 0, lingerMs: 100 });
  equal(await exchangeOnce(server.addr.port, "!\n"), "");
  await log.waitFor(/ERROR .*Service fragile failed in message for 127\.0\.0\.1:\d+: Error: boom/);
  const good = await connectLocal(server.addr.port);
  try {
    await send(good, "ok\n");
    equal((await readLines(good, 1))[0], "ok");
  } finally {
    closeQuietly(good);
  }
});

// --- Fuzzing the framing and the double codec through the real server core ---

/** What the double service must answer to `stream`, framed by LF and end of stream only. */
function expectedReplies(stream: Uint8Array, maxMessageBytes: number): string {
  const framer = new LineFramer({ maxMessageBytes });
  let out = "";
  const answer = (message: Uint8Array, terminator: Terminator) => {
    out += doubleReply(message) + ["\n", "\r\n", ""][["lf", "crlf", "none"].indexOf(terminator)];
  };
  // The end of stream ends the last message: it may be the one past the limit.
  if (!framer.push(stream, answer) || !framer.flush(answer)) {
    return out + `error: message longer than ${maxMessageBytes} bytes\n`;
  }
  return out;
}

function splitAt(stream: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map((c) => c % (stream.length + 1)))].sort((a, b) => a - b);
  const chunks: Uint8Array[] = [];
  let last = 0;
  for (const point of [...points, stream.length]) {
    if (point > last) chunks.push(stream.subarray(last, point));
    last = point;
  }
  return chunks;
}

async function roundTrip(port: number, chunks: Uint8Array[]): Promise<string> {
  const conn = await connectLocal(port);
  try {
    const reply = readAll(conn, 5_000);
    for (const chunk of chunks) await send(conn, chunk);
    await conn.closeWrite();
    return await reply;
  } finally {
    closeQuietly(conn);
  }
}

// The quiet period is made long so that only LF and end of stream end a
// message: the replies then do not depend on timing.
const FUZZ_OPTIONS: ServeOptions = { flushMs: 60_000, lingerMs: 1_000 };

const bytesWithLines = fc.array(
  fc.oneof(
    fc.uint8Array({ maxLength: 40 }),
    fc.constantFrom(...[[10], [13, 10], [13], [0], [0xff], [0xc3, 0x28], [49], [45], [95], [32]]
      .map((bytes) => new Uint8Array(bytes))),
    fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map((n) => encoder.encode(`${n}\n`)),
  ),
  { maxLength: 30 },
).map((parts) => new Uint8Array(parts.flatMap((p) => [...p])));

Deno.test("serve() answers random byte streams split anywhere as the framing says (property)", async () => {
  await using server = serveDouble(FUZZ_OPTIONS);
  await fc.assert(
    fc.asyncProperty(bytesWithLines, fc.array(fc.nat(), { maxLength: 8 }), async (stream, cuts) => {
      equal(
        await roundTrip(server.addr.port, splitAt(stream, cuts)),
        expectedReplies(stream, 8192),
      );
    }),
    { numRuns: 1500 },
  );
});

Deno.test("serve() doubles integers exactly however they are split (property)", async () => {
  await using server = serveDouble(FUZZ_OPTIONS);
  const request = fc.tuple(
    fc.oneof(fc.integer(), fc.bigInt({ min: -(10n ** 80n), max: 10n ** 80n })),
    fc.constantFrom("\n", "\r\n"),
  );
  await fc.assert(
    fc.asyncProperty(
      fc.array(request, { minLength: 1, maxLength: 20 }),
      fc.array(fc.nat(), { maxLength: 8 }),
      async (requests, cuts) => {
        const text = requests.map(([n, t]) => `${n}${t}`).join("");
        const expected = requests.map(([n, t]) => `${BigInt(n) * 2n}${t}`).join("");
        equal(await roundTrip(server.addr.port, splitAt(encoder.encode(text), cuts)), expected);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("serve() enforces a small size limit the same way whatever the split (property)", async () => {
  await using server = serveDouble({ ...FUZZ_OPTIONS, maxMessageBytes: 24, lingerMs: 1_000 });
  await fc.assert(
    fc.asyncProperty(bytesWithLines, fc.array(fc.nat(), { maxLength: 8 }), async (stream, cuts) => {
      equal(await roundTrip(server.addr.port, splitAt(stream, cuts)), expectedReplies(stream, 24));
    }),
    { numRuns: 1000 },
  );
});

Deno.test("serve() writes what one session queues for another peer without waiting on that peer", async () => {
  const peers = new Set<Peer>();
  const bothOpen = Promise.withResolvers<void>();
  await using server = serve({
    name: "relay",
    open(peer) {
      peers.add(peer);
      if (peers.size === 2) bothOpen.resolve();
      return {
        message(message) {
          for (const other of peers) if (other !== peer) other.send(message);
        },
        closed: () => peers.delete(peer),
      };
    },
  }, { port: 0 });
  const a = await connectLocal(server.addr.port);
  const b = await connectLocal(server.addr.port);
  try {
    await deadline(bothOpen.promise, 5_000, "both connections open");
    await send(a, "hi\n");
    // b has sent nothing: its queued output must still go out at once.
    equal(await readOnce(b), "hi");
  } finally {
    closeQuietly(a);
    closeQuietly(b);
  }
});

Deno.test("serve() does not end a message at a quiet period its own busyness made", async () => {
  const seen = Promise.withResolvers<void>();
  await using server = serve({
    name: "brackets",
    open: (peer) => ({
      message(message) {
        const text = new TextDecoder().decode(message);
        if (text === "x") seen.resolve();
        peer.sendText(`<${text}>\n`);
      },
    }),
  }, { port: 0, flushMs: 20 });
  const conn = await connectLocal(server.addr.port);
  try {
    await send(conn, "x\nhel");
    // "x" is answered: "hel" has been read and the quiet-period timer is running.
    await deadline(seen.promise, 5_000, "the first message");
    const written = conn.write(encoder.encode("lo\n"));
    // The process is busy (its event loop blocked) past the quiet period while
    // "lo\n" waits unread: the peer was not quiet, and "hello" is one message.
    const until = performance.now() + 60;
    while (performance.now() < until) { /* busy */ }
    await written;
    deepEqual(await readLines(conn, 2), ["<x>", "<hello>"]);
  } finally {
    closeQuietly(conn);
  }
});

Deno.test("serve() returns memory once a crowd of connections has gone", async () => {
  using log = new CapturedLog();
  await using server = serveDouble({ returnMemoryAfter: 20, idleTimeoutMs: 300 });
  const port = server.addr.port;
  const crowd = await Promise.all(Array.from({ length: 40 }, () => connectLocal(port)));
  try {
    // Every one is served once (so all were accepted), then left to the idle timeout.
    for (const [i, conn] of crowd.entries()) {
      await send(conn, `${i}\n`);
      equal((await readLines(conn, 1))[0], String(2 * i));
    }
    await Promise.all(crowd.map((conn) => readAll(conn, 5_000)));
  } finally {
    crowd.forEach(closeQuietly);
  }
  await log.waitFor(/DEBUG .*Returned memory: heap [\d.]+ -> [\d.]+ MiB/);
  ok(server.stats.memoryReturns >= 1);
  await exchange(port, [21]);
});

Deno.test("serve() returns memory after a burst of short connections once accepts have paused for 5 s", async () => {
  using log = new CapturedLog();
  await using server = serveDouble({ returnMemoryAfter: 20 });
  // Five times the threshold, one connection at a time: a burst, never a crowd.
  for (let i = 0; i < 100; i++) await exchange(server.addr.port, [i]);
  const burstEnded = performance.now();
  await log.waitFor(/DEBUG .*Returned memory: heap [\d.]+ -> [\d.]+ MiB/, 10_000);
  const quietMs = performance.now() - burstEnded;
  // The quiet spell is 5 s of ticks; the last few accepts may fall within one tick's trickle.
  ok(quietMs >= 4_500, `memory handed back ${quietMs.toFixed(0)} ms after the burst`);
  equal(server.stats.memoryReturns, 1);
});

Deno.test("serve() delivers a speak-first service's output whole to a peer that sent first", async () => {
  const speaker: Service = {
    name: "speaker",
    open: (peer) => {
      peer.sendText("5,6,7\n");
      peer.end();
      return {};
    },
  };
  await using server = serve(speaker, { port: 0, lingerMs: 5_000 });
  for (let i = 0; i < 20; i++) {
    // Sent before reading, as `printf 'hi\n' | nc` does; read to the end well before the linger.
    equal(await exchangeOnce(server.addr.port, "hi\n", 2_000), "5,6,7\n");
  }
});

Deno.test("serve() delivers a speak-first service's large output whole to a peer that sent much first", async () => {
  // Closing with the peer's bytes unread sends a reset, which drops output still in flight.
  const output = "1,".repeat(100 * 1024) + "1\n"; // within the 256 KiB of output a peer may owe
  const speaker: Service = {
    name: "speaker",
    open: (peer) => {
      peer.sendText(output);
      peer.end();
      return {};
    },
  };
  await using server = serve(speaker, { port: 0, lingerMs: 5_000 });
  for (let i = 0; i < 3; i++) {
    const reply = await exchangeOnce(server.addr.port, "x".repeat(64 * 1024), 5_000);
    equal(reply.length, output.length);
  }
});
