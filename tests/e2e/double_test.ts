import { equal, match, ok } from "node:assert/strict";
import {
  classroom,
  closeQuietly,
  connectLocal,
  DENY_ALL_BUT_NET,
  exchangeOnce,
  freePort,
  readAll,
  readLines,
  readOnce,
  runSocklab,
  send,
  startServer,
} from "../_helpers.ts";

Deno.test("socklab server double answers our client, and says which server answered", async () => {
  await using server = await startServer(["double", "--port", "0"]);
  const port = server.ports[0];
  const result = await runSocklab([
    "client",
    "double",
    "21",
    "-5",
    " +1_000 ",
    "--server",
    `127.0.0.1:${port}`,
  ]);
  equal(result.code, 0, result.stderr);
  equal(
    result.stdout,
    `Received from 127.0.0.1:${port}: 42\nReceived from 127.0.0.1:${port}: -10\n` +
      `Received from 127.0.0.1:${port}: 2000\n`,
  );
  const stopped = await server.stop();
  equal(stopped.code, 0);
  match(stopped.stderr, /Stopped 1 listener\(s\): 3 connection\(s\), 3 message\(s\)/);
});

Deno.test("socklab server double serves the classroom client's single send without newline", async () => {
  await using server = await startServer(["double", "--port", "0"]);
  const conn = await connectLocal(server.ports[0]);
  try {
    await send(conn, "21");
    equal(await readOnce(conn), "42");
    await send(conn, "abc");
    equal(await readOnce(conn), "Received data is not a valid integer");
  } finally {
    closeQuietly(conn);
  }
});

Deno.test("socklab server double gives nc users lines back, ending as they were sent", async () => {
  await using server = await startServer(["double", "--port", "0"]);
  const conn = await connectLocal(server.ports[0]);
  try {
    await send(conn, "21\n5\r\n");
    equal((await readLines(conn, 2)).join("|"), "42|10\r");
  } finally {
    closeQuietly(conn);
  }
});

Deno.test("socklab server double answers a request, then closes after a half-close", async () => {
  await using server = await startServer(["double", "--port", "0"]);
  const conn = await connectLocal(server.ports[0]);
  try {
    await send(conn, "1\n2\n3");
    await conn.closeWrite();
    equal(await readAll(conn), "2\n4\n6");
  } finally {
    closeQuietly(conn);
  }
});

Deno.test("socklab server double closes a message past the size limit with one error line", async () => {
  await using server = await startServer(["double", "--port", "0", "--max-line-bytes", "100"]);
  equal(
    await exchangeOnce(server.ports[0], "1".repeat(5000)),
    "error: message longer than 100 bytes\n",
  );
  // The server keeps serving others.
  const other = await connectLocal(server.ports[0]);
  try {
    await send(other, "4\n");
    equal((await readLines(other, 1))[0], "8");
  } finally {
    closeQuietly(other);
  }
});

Deno.test("socklab client double picks among servers and skips one that refuses", async () => {
  await using server = await startServer(["double", "--port", "0", "--port", "0"], 2);
  const [a, b] = server.ports;
  const refused = await freePort();
  const servers = [a, b, refused].flatMap((p) => ["--server", `127.0.0.1:${p}`]);
  const numbers = Array.from({ length: 12 }, (_, i) => String(i));
  const result = await runSocklab(["client", "double", ...numbers, ...servers, "--json"]);
  equal(result.code, 0, result.stderr);
  const rows = result.stdout.trim().split("\n").map((line) => JSON.parse(line));
  equal(rows.length, 12);
  for (const [i, row] of rows.entries()) {
    equal(row.reply, String(i * 2));
    equal(row.ok, true);
    ok([`127.0.0.1:${a}`, `127.0.0.1:${b}`].includes(row.server));
  }
});

Deno.test("socklab client double reads numbers from piped stdin until exit", async () => {
  await using server = await startServer(["double", "--port", "0"]);
  const port = server.ports[0];
  const result = await runSocklab(["client", "double", "--server", `127.0.0.1:${port}`], {
    input: "4\n\n 7 \nexit\n9\n",
  });
  equal(result.code, 0, result.stderr);
  equal(result.stdout, `Received from 127.0.0.1:${port}: 8\nReceived from 127.0.0.1:${port}: 14\n`);
});

Deno.test("socklab client double reports a refused server on one line, exit 1", async () => {
  const port = await freePort();
  const result = await runSocklab(["client", "double", "1", "--server", `127.0.0.1:${port}`]);
  equal(result.code, 1);
  match(
    result.stderr,
    new RegExp(`^\\S+ ERROR client\\.double: connection refused by 127\\.0\\.0\\.1:${port}\n$`),
  );
});

Deno.test("the classroom client (write-up 000) works against socklab's three servers", async () => {
  await using server = await startServer(
    ["double", "--port", "0", "--port", "0", "--port", "0"],
    3,
  );
  await using client = classroom("double_client.py", server.ports.map(String), { stdin: true });
  await client.write("21\n-4\nabc\nexit\n");
  const result = await client.wait();
  equal(result.code, 0, result.stderr);
  const replies = result.stdout.match(/Received from server: [^\n]*?(?=Enter|$)/gm) ?? [];
  equal(replies.length, 3, result.stdout);
  match(result.stdout, /Received from server: 42/);
  match(result.stdout, /Received from server: -8/);
  match(result.stdout, /Received from server: Received data is not a valid integer/);
});

Deno.test("socklab client double works against the classroom server (write-up 000)", async () => {
  await using peer = classroom("double_server.py", ["0"]);
  const line = await peer.stdout.waitFor(/listening on/);
  const port = Number(line.split(":").pop());
  const result = await runSocklab([
    "client",
    "double",
    "21",
    "--server",
    `127.0.0.1:${port}`,
    "--bare",
  ]);
  equal(result.code, 0, result.stderr);
  equal(result.stdout, `Received from 127.0.0.1:${port}: 42\n`);
  const again = await runSocklab(["client", "double", "x1", "--server", `127.0.0.1:${port}`]);
  equal(again.stdout, `Received from 127.0.0.1:${port}: Received data is not a valid integer\n`);
});

Deno.test("socklab server names the address already in use, exit 1", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const result = await runSocklab(["server", "double", "--port", String(port)]);
  equal(result.code, 1);
  equal(
    result.stderr.trim(),
    `socklab: cannot listen on 127.0.0.1:${port}: address already in use`,
  );
});

Deno.test("a permission denial names the flag to add, exit 1", async () => {
  const port = await freePort();
  const result = await runSocklab(["server", "double", "--port", String(port)], {
    permissions: ["--allow-net=127.0.0.1:1"],
  });
  equal(result.code, 1);
  equal(
    result.stderr.trim(),
    `socklab: permission denied: net access to 127.0.0.1:${port}; run with --allow-net=127.0.0.1:${port}`,
  );
});

Deno.test("usage errors exit 2 with a hint", async () => {
  const unknown = await runSocklab(["server", "--bogus"]);
  equal(unknown.code, 2);
  equal(unknown.stderr, "socklab: unknown option '--bogus' (add --help for usage)\n");
  const missing = await runSocklab(["client", "double", "--timeout"]);
  equal(missing.code, 2);
  equal(missing.stderr.split("\n").length, 2, missing.stderr);
  match(missing.stderr, /^socklab: option '--timeout <duration>' argument missing/);
  const noSubcommand = await runSocklab(["client"]);
  equal(noSubcommand.code, 2);
  match(noSubcommand.stderr, /Usage: socklab client/);
  const foreign = await runSocklab(["server", "double", "--port", "0", "--raw"]);
  equal(foreign.code, 2);
  equal(foreign.stderr, "socklab: --raw is a chat flag; it does nothing for double\n");
  const shared = await runSocklab(["server", "double", "--port", "0", "--seed", "3"]);
  equal(shared.stderr, "socklab: --seed is a random and sum flag; it does nothing for double\n");
  const service = await runSocklab(["server", "nope"]);
  equal(service.code, 2);
  match(service.stderr, /unknown service "nope"/);
  const port = await runSocklab(["server", "double", "--port", "70000"]);
  equal(port.code, 2);
  match(port.stderr, /Cannot parse port "70000"/);
  const address = await runSocklab(["client", "double", "1", "--server", "nonsense"]);
  equal(address.code, 2);
});

Deno.test("--help and --version exit 0 without any permission", async () => {
  const help = await runSocklab(["--help"], { permissions: [] });
  equal(help.code, 0);
  match(help.stdout, /Usage: socklab/);
  const version = await runSocklab(["--version"], { permissions: [] });
  equal(version.code, 0);
  match(version.stdout, /^\d+\.\d+\.\d+/);
});

Deno.test("the server runs with exactly its own port and everything else denied", async () => {
  const port = await freePort();
  await using server = await startServer(["double", "--port", String(port)], 1, {
    permissions: [`--allow-net=127.0.0.1:${port}`, ...DENY_ALL_BUT_NET],
  });
  const result = await runSocklab(["client", "double", "8", "--server", `127.0.0.1:${port}`], {
    permissions: [`--allow-net=127.0.0.1:${port}`, ...DENY_ALL_BUT_NET],
  });
  equal(result.code, 0, result.stderr);
  equal(result.stdout, `Received from 127.0.0.1:${port}: 16\n`);
  equal((await server.stop()).code, 0);
});

Deno.test("--trace shows every read and write with the bytes escaped", async () => {
  await using server = await startServer(["double", "--port", "0", "--trace"]);
  const conn = await connectLocal(server.ports[0]);
  try {
    await send(conn, "21\r\n");
    equal((await readLines(conn, 1))[0], "42\r");
  } finally {
    closeQuietly(conn);
  }
  const result = await server.stop();
  match(result.stderr, /read 127\.0\.0\.1:\d+ "21\\r\\n"/);
  match(result.stderr, /write 127\.0\.0\.1:\d+ "42\\r\\n"/);
});
