import { deepEqual, equal, match, ok } from "node:assert/strict";
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
import { drawRandomNumbers } from "../../src/protocol/random.ts";
import { createRandomSource } from "../../src/protocol/rng.ts";

Deno.test("socklab server random --seed sends a reproducible sequence; our client prints the stats", async () => {
  await using server = await startServer(["random", "--port", "0", "--seed", "7"]);
  const port = server.ports[0];
  const source = createRandomSource(7);
  const first = drawRandomNumbers(source, { count: 10, min: 1, max: 100 });
  const second = drawRandomNumbers(source, { count: 10, min: 1, max: 100 });

  const result = await runSocklab(["client", "random", "--server", `127.0.0.1:${port}`]);
  equal(result.code, 0, result.stderr);
  const sum = first.reduce((a, b) => a + b, 0);
  const mean = Math.round((sum / 10) * 1000) / 1000;
  equal(
    result.stdout,
    `Numbers: ${first.join(",")}\n` +
      `Count: 10 | Sum: ${sum} | Min: ${Math.min(...first)} | Max: ${
        Math.max(...first)
      } | Mean: ${mean}\n`,
  );

  const json = await runSocklab(["client", "random", "--json", "--server", `127.0.0.1:${port}`]);
  equal(json.code, 0, json.stderr);
  const row = JSON.parse(json.stdout);
  deepEqual(row.numbers, second);
  equal(row.count, 10);
  equal(row.sum, second.reduce((a, b) => a + b, 0));
  equal(row.closed, true);
});

Deno.test("socklab server random sends on connect, no newline, then closes (the write-up's client reads once)", async () => {
  await using server = await startServer(["random", "--port", "0"]);
  const conn = await connectLocal(server.ports[0]);
  try {
    const reply = await readOnce(conn);
    ok(reply !== null);
    match(reply, /^\d+(,\d+){9}$/);
    ok(reply.split(",").map(Number).every((n) => n >= 1 && n <= 100), reply);
    equal(await readOnce(conn), null, "the server closes after sending");
  } finally {
    closeQuietly(conn);
  }
});

Deno.test("socklab server random --count --min --max --newline shape the reply", async () => {
  await using server = await startServer([
    "random",
    "--port",
    "0",
    "--count",
    "3",
    "--min",
    "-5",
    "--max",
    "-5",
    "--newline",
  ]);
  const conn = await connectLocal(server.ports[0]);
  try {
    equal(await readAll(conn), "-5,-5,-5\n");
  } finally {
    closeQuietly(conn);
  }
});

Deno.test("socklab server random sends 10000 numbers over the whole safe range; our client checks them", async () => {
  const max = String(Number.MAX_SAFE_INTEGER);
  const min = String(Number.MIN_SAFE_INTEGER);
  await using server = await startServer([
    "random",
    "--port",
    "0",
    "--count",
    "10000",
    "--min",
    min,
    "--max",
    max,
    "--seed",
    "1",
  ]);
  const result = await runSocklab([
    "client",
    "random",
    "--json",
    "--count",
    "10000",
    "--min",
    min,
    "--max",
    max,
    "--server",
    `127.0.0.1:${server.ports[0]}`,
  ]);
  equal(result.code, 0, result.stderr);
  // The sum may exceed 2^53: it is printed with every digit.
  const sum = /"sum":(-?\d+)/.exec(result.stdout)![1];
  const expected = drawRandomNumbers(createRandomSource(1), {
    count: 10000,
    min: Number.MIN_SAFE_INTEGER,
    max: Number.MAX_SAFE_INTEGER,
  });
  equal(sum, String(expected.reduce((a, b) => a + BigInt(b), 0n)));
  equal(JSON.parse(result.stdout).count, 10000);
});

Deno.test("socklab server random does not wait for the client: what it sends is dropped", async () => {
  await using server = await startServer([
    "random",
    "--port",
    "0",
    "--count",
    "2",
    "--min",
    "1",
    "--max",
    "1",
  ]);
  equal(await exchangeOnce(server.ports[0], "hello\n"), "1,1");
});

Deno.test("socklab server random refuses bad options with one line, exit 2", async () => {
  const cases: [string[], RegExp][] = [
    [["--count", "0"], /Cannot use --count "0": must be a whole number from 1 to 10000/],
    [["--count", "10001"], /Cannot use --count "10001"/],
    [["--min", "5", "--max", "1"], /Cannot use --min 5 with --max 1: --min must not exceed --max/],
    [["--max", "9007199254740992"], /Cannot use --max "9007199254740992": must be a whole number/],
    [["--min", "1.5"], /Cannot use --min "1.5"/],
    [["--seed", "-1"], /Cannot use --seed "-1"/],
  ];
  for (const [args, message] of cases) {
    const result = await runSocklab(["server", "random", "--port", "0", ...args]);
    equal(result.code, 2, result.stderr);
    match(result.stderr, message);
    equal(result.stderr.trim().split("\n").length, 1, result.stderr);
  }
});

Deno.test("the classroom client (write-up 002) works against socklab's server", async () => {
  await using server = await startServer(["random", "--port", "0", "--seed", "3"]);
  const expected = drawRandomNumbers(createRandomSource(3), { count: 10, min: 1, max: 100 });
  await using client = classroom("random_client.py", [String(server.ports[0])]);
  const result = await client.wait();
  equal(result.code, 0, result.stderr);
  equal(result.stdout, `[${expected.map((n) => `'${n}'`).join(", ")}]\n`);
});

Deno.test("socklab client random works against the classroom server (write-up 002)", async () => {
  await using peer = classroom("random_server.py", ["0"]);
  const port = Number((await peer.stdout.waitFor(/listening on/)).split(":").pop());
  const result = await runSocklab([
    "client",
    "random",
    "--min",
    "1",
    "--max",
    "100",
    "--count",
    "10",
    "--server",
    `127.0.0.1:${port}`,
  ]);
  equal(result.code, 0, result.stderr);
  match(
    result.stdout,
    /^Numbers: \d+(,\d+){9}\nCount: 10 \| Sum: \d+ \| Min: \d+ \| Max: \d+ \| Mean: [\d.]+\n$/,
  );
});

Deno.test("socklab client random reports a malformed reply with its bytes, exit 1", async () => {
  const replies = ["1, 2,3", "1;2;3", "1,2,x", "1,2,300", "1,2", ""];
  await using fake = fakeServer(async (conn) => {
    const reply = replies.shift()!;
    if (reply) await send(conn, reply);
  });
  const server = `127.0.0.1:${fake.port}`;
  const expected = [
    `bad reply from ${server}: number 2 " 2" has whitespace around it; "," alone separates: "1, 2,3"`,
    `bad reply from ${server}: number 1 "1;2;3" holds several numbers; "," alone separates: "1;2;3"`,
    `bad reply from ${server}: number 3 "x" is not an integer: "1,2,x"`,
    `bad reply from ${server}: number 3 300 is above the announced maximum 100: "1,2,300"`,
    `bad reply from ${server}: 2 numbers where 3 were expected: "1,2"`,
    `bad reply from ${server}: no numbers: ""`,
  ];
  for (const line of expected) {
    const result = await runSocklab([
      "client",
      "random",
      "--max",
      "100",
      "--count",
      "3",
      "--server",
      server,
    ]);
    equal(result.code, 1);
    equal(result.stdout, "");
    equal(result.stderr.trim(), `socklab: ${line}`);
  }
});

Deno.test("socklab client random uses what a server sent if it never closes, with a warning", async () => {
  await using fake = fakeServer(async (conn) => {
    await send(conn, "4,5,6");
    await readAll(conn); // until the client closes
  });
  const result = await runSocklab(["client", "random", "--server", `127.0.0.1:${fake.port}`]);
  equal(result.code, 0, result.stderr);
  equal(result.stdout, "Numbers: 4,5,6\nCount: 3 | Sum: 15 | Min: 4 | Max: 6 | Mean: 5\n");
  match(result.stderr, /did not close the connection after sending; using the 5 bytes it sent/);
});

Deno.test("socklab client random: a server that sends nothing is one line naming the deadline, exit 1", async () => {
  await using fake = fakeServer(async (conn) => {
    await readAll(conn); // sends nothing; reads until the client gives up and closes
  });
  const result = await runSocklab([
    "client",
    "random",
    "--server",
    `127.0.0.1:${fake.port}`,
    "--timeout",
    "300ms",
  ]);
  equal(result.code, 1);
  equal(result.stderr, `socklab: 127.0.0.1:${fake.port} did not reply within 300 ms\n`);
});

Deno.test("socklab client random: a refused connection is one line, exit 1", async () => {
  const port = await freePort();
  const result = await runSocklab(["client", "random", "--server", `127.0.0.1:${port}`]);
  equal(result.code, 1);
  equal(result.stderr.trim(), `socklab: connection refused by 127.0.0.1:${port}`);
  const usage = await runSocklab(["client", "random", "--min", "5", "--max", "1"]);
  equal(usage.code, 2);
  match(usage.stderr, /--min must not exceed --max/);
});

Deno.test("socklab server random and its client run with exactly their port and everything else denied", async () => {
  const port = await freePort();
  const permissions = [`--allow-net=127.0.0.1:${port}`, ...DENY_ALL_BUT_NET];
  await using server = await startServer(["random", "--port", String(port), "--seed", "9"], 1, {
    permissions,
  });
  const result = await runSocklab(["client", "random", "--server", `127.0.0.1:${port}`], {
    permissions,
  });
  equal(result.code, 0, result.stderr);
  const expected = drawRandomNumbers(createRandomSource(9), { count: 10, min: 1, max: 100 });
  equal(result.stdout.split("\n")[0], `Numbers: ${expected.join(",")}`);
  equal((await server.stop()).code, 0);
});
