import { equal, match, ok } from "node:assert/strict";
import {
  classroom,
  closeQuietly,
  connectLocal,
  DENY_ALL_BUT_NET,
  exchangeOnce,
  fakeServer,
  freePort,
  readAll,
  readOnce,
  runSocklab,
  send,
  startServer,
} from "../_helpers.ts";
import { createRandomSource, randomInteger } from "../../src/protocol/rng.ts";

Deno.test("socklab server sum answers our client in the text dialect; both print the sum", async () => {
  await using server = await startServer([
    "sum",
    "--port",
    "0",
    "--number",
    "50",
    "--name",
    "Server of Ada",
  ]);
  const port = server.ports[0];
  const result = await runSocklab(["client", "sum", "25", "--server", `127.0.0.1:${port}`]);
  equal(result.code, 0, result.stderr);
  equal(
    result.stdout,
    "Client Name: Client of socklab | Server Name: Server of Ada\n" +
      "Client Number: 25 | Server Number: 50 | Sum: 75\n",
  );
  const stopped = await server.stop();
  equal(stopped.code, 0);
  match(
    stopped.stderr,
    /INFO +server\.sum: Client Name: Client of socklab \| Server Name: Server of Ada\n/,
  );
  match(stopped.stderr, /INFO +server\.sum: Client Number: 25 \| Server Number: 50 \| Sum: 75\n/);
});

Deno.test("socklab server sum answers our client in the JSON dialect; --json for scripts", async () => {
  await using server = await startServer(["sum", "--port", "0", "--number", "10"]);
  const port = server.ports[0];
  const result = await runSocklab([
    "client",
    "sum",
    "25",
    "--format",
    "json",
    "--name",
    "Ada Client",
    "--json",
    "--server",
    `127.0.0.1:${port}`,
  ]);
  equal(result.code, 0, result.stderr);
  const row = JSON.parse(result.stdout);
  equal(row.dialect, "json");
  equal(row.request, '{"client_name": "Ada Client", "client_number": 25}');
  equal(row.reply, '{"server_name": "Server of socklab", "server_number": 10}');
  equal(row.ok, true);
  equal(row.serverNumber, 10);
  equal(row.sum, 35);
});

Deno.test("socklab server sum --seed makes the server's numbers reproducible", async () => {
  await using server = await startServer(["sum", "--port", "0", "--seed", "42"]);
  const port = server.ports[0];
  const result = await runSocklab([
    "client",
    "sum",
    "1",
    "2",
    "3",
    "--server",
    `127.0.0.1:${port}`,
  ]);
  equal(result.code, 0, result.stderr);
  const source = createRandomSource(42);
  const expected = [1, 2, 3].map((n) => {
    const drawn = randomInteger(source, { min: 1, max: 100 });
    return `Client Number: ${n} | Server Number: ${drawn} | Sum: ${n + drawn}`;
  });
  equal(
    result.stdout.split("\n").filter((l) => l.startsWith("Client Number")).join("\n"),
    expected.join("\n"),
  );
});

Deno.test("socklab server sum serves a raw client like the write-ups': one send, no newline, one read", async () => {
  await using server = await startServer([
    "sum",
    "--port",
    "0",
    "--number",
    "50",
    "--name",
    "Server of John Q. Smith",
  ]);
  const text = await connectLocal(server.ports[0]);
  try {
    await send(text, "Client of John Q. Smith;25");
    equal(await readOnce(text), "Server of John Q. Smith;50");
    equal(await readOnce(text), null, "the server closes after its reply");
  } finally {
    closeQuietly(text);
  }
  const json = await connectLocal(server.ports[0]);
  try {
    await send(json, '{"client_name": "Amirreza Yarahmadi Client", "client_number": 25}');
    equal(await readOnce(json), '{"server_name": "Server of John Q. Smith", "server_number": 50}');
    equal(await readOnce(json), null);
  } finally {
    closeQuietly(json);
  }
});

Deno.test("socklab server sum gives nc users a line back, ending as the request did", async () => {
  await using server = await startServer(["sum", "--port", "0", "--number", "50"]);
  for (
    const [request, reply] of [["A;25\n", "Server of socklab;50\n"], [
      "A; 7\r\n",
      "Server of socklab;50\r\n",
    ]]
  ) {
    equal(await exchangeOnce(server.ports[0], request), reply);
  }
});

Deno.test("socklab server sum: out of range gets no reply and a warning; the server keeps serving", async () => {
  await using server = await startServer(["sum", "--port", "0", "--number", "50"]);
  for (const request of ["A;0", "A;101\n", '{"client_name": "B", "client_number": -3}']) {
    equal(await exchangeOnce(server.ports[0], request), "", `no reply to ${request}`);
  }
  equal(await exchangeOnce(server.ports[0], "A;100\n"), "Server of socklab;50\n");
  const stopped = await server.stop();
  equal(stopped.code, 0);
  match(
    stopped.stderr,
    /WARN +server\.sum: Client number out of range 1\.\.100: 0 from A at 127\.0\.0\.1:\d+; closing without a reply/,
  );
  match(stopped.stderr, /out of range 1\.\.100: 101 from A/);
  match(stopped.stderr, /out of range 1\.\.100: -3 from B/);
});

Deno.test("socklab server sum: malformed requests are logged with their bytes, closed, and serving goes on", async () => {
  await using server = await startServer(["sum", "--port", "0", "--number", "50"]);
  const cases: [Uint8Array | string, RegExp][] = [
    [
      "no separator",
      /Malformed text request from 127\.0\.0\.1:\d+: no ";" between the name and the number; closing without a reply: "no separator"/,
    ],
    [
      "A;twenty",
      /Malformed text request .*: the number "twenty" is not an integer; .*: "A;twenty"/,
    ],
    [
      '{"client_name": "A"',
      /Malformed json request .*: not valid JSON; .*: "\{\\"client_name\\": \\"A\\""/,
    ],
    [
      '{"client_name": "A"}\n',
      /Malformed json request .*: "client_number" is missing; .*: "\{\\"client_name\\": \\"A\\"\}"/,
    ],
    [
      new Uint8Array([0x41, 0x3b, 0xff, 0x00]),
      /Malformed text request .*: not UTF-8; .*: "A;\\xff\\x00"/,
    ],
  ];
  for (const [request] of cases) {
    equal(await exchangeOnce(server.ports[0], request), "", `no reply to ${request}`);
  }
  equal(await exchangeOnce(server.ports[0], "A;1\n"), "Server of socklab;50\n");
  const stopped = await server.stop();
  equal(stopped.code, 0);
  for (const [, pattern] of cases) match(stopped.stderr, pattern);
});

Deno.test("socklab server sum --exit-on-out-of-range shuts down gracefully: in-flight replies, exit 0, the reason", async () => {
  // A long quiet period keeps the first client's request (no newline) in flight
  // while the second client's out-of-range number starts the shutdown.
  await using server = await startServer([
    "sum",
    "--port",
    "0",
    "--number",
    "50",
    "--exit-on-out-of-range",
    "--flush-ms",
    "1500",
    "--trace",
  ]);
  const port = server.ports[0];
  const inFlight = await connectLocal(port);
  const outOfRange = await connectLocal(port);
  try {
    await send(inFlight, "Early;25");
    await server.child.stderr.waitFor(/read 127\.0\.0\.1:\d+ "Early;25"/);
    await send(outOfRange, "Late;0\n");
    equal(await readAll(outOfRange), "", "no reply to the out-of-range number");
    equal(await readAll(inFlight), "Server of socklab;50", "the request in flight is answered");
  } finally {
    closeQuietly(inFlight);
    closeQuietly(outOfRange);
  }
  const result = await server.child.wait();
  equal(result.code, 0);
  match(
    result.stderr,
    /Shutting down: sum client 127\.0\.0\.1:\d+ sent 0, outside 1\.\.100 \(--exit-on-out-of-range\)/,
  );
  match(result.stderr, /Client Number: 25 \| Server Number: 50 \| Sum: 75/);
  match(result.stderr, /Stopped 1 listener\(s\): 2 connection\(s\), 2 message\(s\)/);
});

Deno.test("the classroom JSON client (write-up 001) works against socklab's server", async () => {
  await using server = await startServer([
    "sum",
    "--port",
    "0",
    "--number",
    "10",
    "--name",
    "Amirreza Yarahmadi Server",
    "--exit-on-out-of-range",
  ]);
  const port = String(server.ports[0]);
  await using client = classroom("sum_json_client.py", [port], { stdin: true });
  await client.write("25\n");
  const result = await client.wait();
  equal(result.code, 0, result.stdout + result.stderr);
  match(
    result.stdout,
    /\[INFO\] \[send_message\]: Amirreza Yarahmadi Client \| Amirreza Yarahmadi Server\n/,
  );
  match(
    result.stdout,
    /\[INFO\] \[send_message\]: Client Number: 25 \| Server Number: 10 \| Sum: 35\n/,
  );
  // As in the write-up: a number out of range, sent without reading the reply, stops the server.
  await using second = classroom("sum_json_client.py", [port], { stdin: true });
  await second.write("0\n");
  const refused = await second.wait();
  equal(refused.code, 0, refused.stderr);
  match(refused.stdout, /The integer input out of range/);
  const stopped = await server.child.wait();
  equal(stopped.code, 0);
  match(
    stopped.stderr,
    /Client Name: Amirreza Yarahmadi Client \| Server Name: Amirreza Yarahmadi Server/,
  );
  match(stopped.stderr, /Shutting down: sum client .* sent 0, outside 1\.\.100/);
});

Deno.test("the classroom text client (write-up 003) works against socklab's server", async () => {
  await using server = await startServer([
    "sum",
    "--port",
    "0",
    "--number",
    "50",
    "--name",
    "Server of John Q. Smith",
  ]);
  await using client = classroom("sum_text_client.py", [String(server.ports[0])], { stdin: true });
  await client.write("25\n101\nabc\n7\n");
  await client.closeStdin();
  const result = await client.wait();
  equal(result.code, 0, result.stderr);
  match(result.stdout, /Received response from Server of John Q\. Smith with number 50\./);
  match(result.stdout, /Calculation: 25 \(client\) \+ 50 \(server\) = 75/);
  match(result.stdout, /Calculation: 7 \(client\) \+ 50 \(server\) = 57/);
  match(result.stdout, /\[ERROR\] No response received from the server\./);
  match(result.stdout, /\[ERROR\] Invalid input/);
});

Deno.test("socklab client sum works against the classroom JSON server (write-up 001), which stops on 0", async () => {
  await using peer = classroom("sum_json_server.py", ["0"]);
  const port = Number((await peer.stdout.waitFor(/listening on/)).split(":").pop());
  const server = `127.0.0.1:${port}`;
  const result = await runSocklab([
    "client",
    "sum",
    "25",
    "--format",
    "json",
    "--bare",
    "--server",
    server,
  ]);
  equal(result.code, 0, result.stderr);
  const numbers = /Client Number: 25 \| Server Number: (\d+) \| Sum: (\d+)\n/.exec(result.stdout);
  ok(numbers, result.stdout);
  equal(Number(numbers[2]), 25 + Number(numbers[1]));
  match(result.stdout, /Server Name: Amirreza Yarahmadi Server/);
  // Both sides print the same sum: the point of write-up 001.
  await peer.stdout.waitFor(new RegExp(`Sum: ${numbers[2]}$`));
  const unchecked = await runSocklab([
    "client",
    "sum",
    "0",
    "--unchecked",
    "--format",
    "json",
    "--server",
    server,
  ]);
  equal(unchecked.code, 0, unchecked.stderr);
  match(
    unchecked.stdout,
    /No reply: 127\.0\.0\.1:\d+ (closed|reset) the connection, as the contract says for 0/,
  );
  const stopped = await peer.wait();
  equal(stopped.code, 0);
  match(stopped.stdout, /Client int out of range: 0\. Terminating the server\./);
});

Deno.test("socklab client sum works against the classroom text server (write-up 003), NAME;50 and NAME; 50", async () => {
  for (const extra of [[], ["--space"]]) {
    await using peer = classroom("sum_text_server.py", ["0", ...extra]);
    const port = Number((await peer.stdout.waitFor(/listening on/)).split(":").pop());
    const result = await runSocklab(["client", "sum", "25", "--server", `127.0.0.1:${port}`]);
    equal(result.code, 0, result.stderr);
    equal(
      result.stdout,
      "Client Name: Client of socklab | Server Name: Server of John Q. Smith\n" +
        "Client Number: 25 | Server Number: 50 | Sum: 75\n",
    );
    await peer.stdout.waitFor(/Calculation: 25 \(client\) \+ 50 \(server\) = 75/);
  }
});

Deno.test("socklab client sum refuses a number outside 1..100 before connecting, exit 2", async () => {
  const port = await freePort(); // nothing listens: a connection attempt would fail with exit 1
  for (const number of ["0", "101", "-5"]) {
    const result = await runSocklab(["client", "sum", number, "--server", `127.0.0.1:${port}`]);
    equal(result.code, 2, result.stderr);
    equal(
      result.stderr.trim(),
      `socklab: Cannot send ${number}: the number must be from 1 to 100 (--unchecked sends it anyway)`,
    );
  }
  const text = await runSocklab(["client", "sum", "abc", "--server", `127.0.0.1:${port}`]);
  equal(text.code, 2);
  equal(text.stderr.trim(), 'socklab: "abc" is not an integer');
  const name = await runSocklab(["client", "sum", "5", "--name", "a;b"]);
  equal(name.code, 2);
  match(name.stderr, /Cannot use --name "a;b": must not contain ";"/);
});

Deno.test("socklab client sum reports a reply that breaks the contract with its bytes, exit 1", async () => {
  const replies = [
    "nonsense\x01",
    "Server;fifty",
    "Server;150",
    '{"server_name": "S", "server_number": 5}',
    "",
  ];
  await using fake = fakeServer(async (conn) => {
    await readOnce(conn);
    const reply = replies.shift()!;
    if (reply) await send(conn, reply);
  });
  const server = `127.0.0.1:${fake.port}`;
  const expected = [
    `bad reply from ${server}: no ";" between the name and the number: "nonsense\\x01"`,
    `bad reply from ${server}: the number "fifty" is not an integer: "Server;fifty"`,
    `bad reply from ${server}: the server's number 150 is outside 1..100: "Server;150"`,
    `bad reply from ${server}: the reply is in the json dialect, the request was in text: "{\\"server_name\\": \\"S\\", \\"server_number\\": 5}"`,
    `${server} closed the connection without a reply`,
  ];
  for (const line of expected) {
    const result = await runSocklab(["client", "sum", "5", "--server", server]);
    equal(result.code, 1);
    equal(result.stdout, "");
    const lines = result.stderr.trim().split("\n");
    equal(lines.length, 1, result.stderr);
    ok(lines[0].endsWith(line), `${lines[0]}\n  should end with\n${line}`);
  }
});

Deno.test("socklab client sum --unchecked flags a server that answers an out-of-range number", async () => {
  await using fake = fakeServer(async (conn) => {
    await readOnce(conn);
    await send(conn, "Server;50");
  });
  const result = await runSocklab([
    "client",
    "sum",
    "500",
    "--unchecked",
    "--server",
    `127.0.0.1:${fake.port}`,
  ]);
  equal(result.code, 1);
  match(
    result.stderr,
    /replied to 500, outside 1\.\.100; the contract is to close without a reply: "Server;50"/,
  );
});

Deno.test("socklab client sum reads numbers from piped stdin until exit", async () => {
  await using server = await startServer(["sum", "--port", "0", "--number", "50"]);
  const result = await runSocklab(["client", "sum", "--server", `127.0.0.1:${server.ports[0]}`], {
    input: "25\n\n 30 \nexit\n40\n",
  });
  equal(result.code, 0, result.stderr);
  equal(
    result.stdout.split("\n").filter((l) => l.startsWith("Client Number")).join("|"),
    "Client Number: 25 | Server Number: 50 | Sum: 75|Client Number: 30 | Server Number: 50 | Sum: 80",
  );
  const empty = await runSocklab(["client", "sum", "--server", `127.0.0.1:${server.ports[0]}`], {
    input: "",
  });
  equal(empty.code, 2);
  match(empty.stderr, /no number to send/);
});

Deno.test("socklab server sum refuses bad flags with one line, exit 2", async () => {
  for (
    const [args, message] of [
      [["--number", "0"], /Cannot use --number "0": must be a whole number from 1 to 100/],
      [["--name", "a;b"], /Cannot use --name "a;b": must not contain ";"/],
      [["--seed", "x"], /Cannot use --seed "x"/],
    ] as const
  ) {
    const result = await runSocklab(["server", "sum", "--port", "0", ...args]);
    equal(result.code, 2, result.stderr);
    match(result.stderr, message);
    equal(result.stderr.trim().split("\n").length, 1);
  }
});

Deno.test("socklab server sum and its client run with exactly their port and everything else denied", async () => {
  const port = await freePort();
  const permissions = [`--allow-net=127.0.0.1:${port}`, ...DENY_ALL_BUT_NET];
  await using server = await startServer(["sum", "--port", String(port), "--number", "50"], 1, {
    permissions,
  });
  for (const format of ["text", "json"]) {
    const result = await runSocklab(
      ["client", "sum", "8", "--format", format, "--server", `127.0.0.1:${port}`],
      { permissions },
    );
    equal(result.code, 0, result.stderr);
    equal(result.stdout.split("\n")[1], "Client Number: 8 | Server Number: 50 | Sum: 58");
  }
  equal((await server.stop()).code, 0);
});
