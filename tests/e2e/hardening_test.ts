import { equal, match, ok } from "node:assert/strict";
import { SERVICES } from "../../src/cli/services.ts";
import {
  closeQuietly,
  connectLocal,
  DENY_ALL_BUT_NET,
  freePort,
  readAll,
  readLines,
  runSocklab,
  send,
  startServer,
} from "../_helpers.ts";

Deno.test("SIGTERM with 200 requests in flight: every one answered whole, exit 0 in time", async () => {
  await using server = await startServer(["double", "--port", "0", "--shutdown-timeout", "3s"]);
  const port = server.ports[0];
  const conns = await Promise.all(Array.from({ length: 50 }, () => connectLocal(port)));
  try {
    // One round trip each: every connection has been accepted before the signal.
    await Promise.all(conns.map(async (conn, i) => {
      await send(conn, `${i}\n`);
      equal((await readLines(conn, 1))[0], String(2 * i));
    }));
    // Four requests in flight on each; the last has no newline and ends by the quiet period.
    await Promise.all(conns.map((conn, i) => send(conn, `${i}\n+1_0\r\n-${i}\n${i}7`)));
    const signalled = performance.now();
    server.child.process.kill("SIGTERM");
    const replies = await Promise.all(conns.map(async (conn) => {
      const reply = await readAll(conn, 5_000);
      closeQuietly(conn); // as a client does at end of stream
      return reply;
    }));
    for (const [i, reply] of replies.entries()) {
      equal(reply, `${2 * i}\n20\r\n${-2 * i}\n${2 * Number(`${i}7`)}`);
    }
    const result = await server.child.wait();
    const elapsed = performance.now() - signalled;
    equal(result.code, 0, result.stderr);
    ok(elapsed < 3_000, `exited ${elapsed} ms after the signal`);
    match(result.stderr, /Shutting down: received SIGTERM/);
    match(
      result.stderr,
      /Stopped 1 listener\(s\): 50 connection\(s\), 250 message\(s\), 0 refused/,
    );
    ok(!/Shutdown timeout/.test(result.stderr));
  } finally {
    conns.forEach(closeQuietly);
  }
});

Deno.test("--deny refuses a peer at once and logs it with a counter", async () => {
  await using server = await startServer(["double", "--port", "0", "--deny", "127.0.0.0/8"]);
  for (const n of [1, 2]) {
    const conn = await connectLocal(server.ports[0]);
    try {
      equal(await readAll(conn).catch(() => ""), "");
    } finally {
      closeQuietly(conn);
    }
    await server.child.stderr.waitFor(
      new RegExp(`WARN .*Refused 127\\.0\\.0\\.1:\\d+: not allowed \\(refused so far: ${n}\\)`),
    );
  }
  const result = await server.stop();
  equal(result.code, 0);
  match(result.stderr, /0 connection\(s\), 0 message\(s\), 2 refused/);
});

Deno.test("--allow admits only its networks, --deny refuses, and an --allow wins over a --deny", async () => {
  const cases: [string[], boolean][] = [
    [["--allow", "10.0.0.0/8", "--allow", "::1"], false],
    [["--allow", "127.0.0.0/8"], true],
    [["--deny", "127.0.0.0/8"], false],
    [["--deny", "127.0.0.0/8", "--allow", "127.0.0.1"], true],
    [["--allow", "127.0.0.2", "--deny", "127.0.0.0/8"], false],
  ];
  for (const [flags, admitted] of cases) {
    await using server = await startServer(["double", "--port", "0", ...flags]);
    const conn = await connectLocal(server.ports[0]);
    try {
      if (admitted) {
        await send(conn, "5\n");
        equal((await readLines(conn, 1))[0], "10", flags.join(" "));
      } else {
        equal(await readAll(conn).catch(() => ""), "", flags.join(" "));
        await server.child.stderr.waitFor(/Refused 127\.0\.0\.1:\d+: not allowed/);
      }
    } finally {
      closeQuietly(conn);
    }
  }
});

Deno.test("--allow and --deny name a bad network in one line, exit 2", async () => {
  const bad = await runSocklab(["server", "double", "--port", "0", "--allow", "10.0.0.256/8"]);
  equal(bad.code, 2);
  equal(
    bad.stderr.split("\n")[0],
    'socklab: Cannot parse network "10.0.0.256/8": expected an IPv4 or IPv6 address, ' +
      "optionally with /PREFIX (e.g. 10.0.0.0/8, ::1)",
  );
  const prefix = await runSocklab(["server", "double", "--port", "0", "--deny", "::/129"]);
  equal(prefix.code, 2);
  match(prefix.stderr, /^socklab: Cannot use prefix \/129 in network "::\/129": must be 0-128/);
});

Deno.test("--max-connections refuses the next peer with one line, logged with a counter", async () => {
  await using server = await startServer(["double", "--port", "0", "--max-connections", "1"]);
  const port = server.ports[0];
  const held = await connectLocal(port);
  try {
    await send(held, "1\n");
    equal((await readLines(held, 1))[0], "2");
    const extra = await connectLocal(port);
    try {
      equal(await readAll(extra), "error: server busy (1 connections)\n");
    } finally {
      closeQuietly(extra);
    }
    await server.child.stderr.waitFor(
      /WARN .*Refused 127\.0\.0\.1:\d+: 1 connections open, the limit \(refused so far: 1\)/,
    );
  } finally {
    closeQuietly(held);
  }
});

Deno.test("--idle-timeout and --message-timeout take duration suffixes", async () => {
  await using server = await startServer([
    "double",
    "--port",
    "0",
    "--idle-timeout",
    "0.6s",
    "--message-timeout",
    "300ms",
    "--flush-ms",
    "5000",
  ]);
  const port = server.ports[0];
  const silent = await connectLocal(port);
  const started = await connectLocal(port);
  try {
    await send(started, "12");
    const [idle, message] = await Promise.all([readAll(silent), readAll(started)]);
    equal(idle, "");
    equal(message, "error: message not completed within 300 ms\n");
  } finally {
    closeQuietly(silent);
    closeQuietly(started);
  }
  await server.child.stderr.waitFor(/INFO .*idle for 600 ms/);
  await server.child.stderr.waitFor(/INFO .*message not completed within 300 ms/);
  const bad = await runSocklab(["server", "double", "--port", "0", "--idle-timeout", "5 minutes"]);
  equal(bad.code, 2);
  match(
    bad.stderr,
    /^socklab: Cannot parse duration "5 minutes": expected a number with ms, s, m or h/,
  );
});

Deno.test("every service runs under exactly its own port with all else denied", async () => {
  for (const entry of SERVICES) {
    const port = await freePort();
    await using server = await startServer([entry.name, "--port", String(port)], 1, {
      permissions: [`--allow-net=127.0.0.1:${port}`, ...DENY_ALL_BUT_NET],
    });
    const conn = await connectLocal(port);
    closeQuietly(conn);
    const result = await server.stop();
    equal(result.code, 0, `${entry.name}: ${result.stderr}`);
    ok(!/denied|NotCapable/i.test(result.stderr), result.stderr);
  }
});
