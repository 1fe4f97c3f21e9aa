import { deepEqual, equal, match } from "node:assert/strict";
import { runSocklab, startServer } from "../_helpers.ts";
import { serve } from "../../src/net/server.ts";

Deno.test("socklab check double passes socklab's server, exit 0, h2spec-style summary", async () => {
  await using server = await startServer(["double", "--port", "0"]);
  const result = await runSocklab(["check", "double", `127.0.0.1:${server.ports[0]}`]);
  equal(result.code, 0, result.stdout + result.stderr);
  match(result.stdout, /^socklab check double 127\.0\.0\.1:\d+\n/);
  match(result.stdout, / {2}✔ double\/framing\/no-newline\n/);
  match(result.stdout, /\n22 tests, 21 passed, 1 skipped, 0 failed\n$/);
});

Deno.test("socklab check exits 1 on a failure and shows Expected and Actual", async () => {
  // A server that answers every message with "7".
  await using server = serve({
    name: "seven",
    open: (peer) => ({ message: () => peer.sendText("7\n") }),
  }, { port: 0 });
  const target = `127.0.0.1:${server.addr.port}`;
  const result = await runSocklab(["check", "double", target, "--only", "double/answer/zero"]);
  equal(result.code, 1);
  match(
    result.stdout,
    / {2}× double\/answer\/zero\n {4}-> Zero gets 0\.\n {7}Expected: "0"\n {9}Actual: "7\\n"\n/,
  );
  match(result.stdout, /1 tests, 0 passed, 0 skipped, 1 failed\n$/);
  const json = await runSocklab(["check", "double", target, "--only", "double/answer/*", "--json"]);
  equal(json.code, 1);
  const report = JSON.parse(json.stdout);
  equal(report.counts.total, 6);
  equal(report.results[0].actual, '"7\\n"');
});

Deno.test("socklab check exits 2 when nothing listens, in one line", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const result = await runSocklab(["check", "double", `127.0.0.1:${port}`]);
  equal(result.code, 2);
  equal(result.stderr.trim(), `socklab: cannot run: connection refused by 127.0.0.1:${port}`);
});

Deno.test("socklab check --list shows every case without any permission", async () => {
  const result = await runSocklab(["check", "double", "--list"], { permissions: [] });
  equal(result.code, 0);
  match(result.stdout, /double\/framing\/exact-bytes \[strict, skipped\]\n {4}The reply to/);
});

Deno.test("socklab check --list --json, and check client --list, list without running anything", async () => {
  const json = await runSocklab([
    "check",
    "double",
    "--list",
    "--json",
    "--only",
    "double/framing/*",
  ], {
    permissions: [],
  });
  equal(json.code, 0, json.stderr);
  deepEqual(JSON.parse(json.stdout).map((c: { id: string }) => c.id), [
    "double/framing/no-newline",
    "double/framing/lf",
    "double/framing/crlf",
    "double/framing/exact-bytes",
  ]);
  const client = await runSocklab(["check", "client", "double", "--list"], { permissions: [] });
  equal(client.code, 0, client.stderr);
  match(client.stdout, /^client-double\/request\/one-per-number\n {4}Each number typed/);
  match(client.stdout, /client-double\/request\/exact-bytes \[strict, skipped\]\n/);
  const serverFlag = await runSocklab([
    "check",
    "client",
    "double",
    "--dialect",
    "json",
    "--",
    "x",
  ]);
  equal(serverFlag.code, 2);
  equal(serverFlag.stderr, "socklab: --dialect applies to checking a server, not a client\n");
});

Deno.test("socklab check --junit writes a report where write permission is granted", async () => {
  await using server = await startServer(["double", "--port", "0"]);
  const file = await Deno.makeTempFile({ suffix: ".xml" });
  try {
    const result = await runSocklab(
      [
        "check",
        "double",
        `127.0.0.1:${server.ports[0]}`,
        "--only",
        "double/answer/*",
        "--junit",
        file,
      ],
      { permissions: ["--allow-net=127.0.0.1", `--allow-write=${file}`] },
    );
    equal(result.code, 0, result.stderr);
    match(
      await Deno.readTextFile(file),
      /<testsuite name="socklab check double" tests="6" failures="0"/,
    );
    const denied = await runSocklab(
      [
        "check",
        "double",
        `127.0.0.1:${server.ports[0]}`,
        "--only",
        "double/answer/zero",
        "--junit",
        file,
      ],
    );
    equal(denied.code, 1);
    equal(
      denied.stderr,
      `socklab: cannot write ${file}: permission denied: write access to ${file}; run with --allow-write=${file}\n`,
    );
    equal(denied.stdout, "", "the denial comes before any case runs");
  } finally {
    await Deno.remove(file);
  }
});

Deno.test("socklab check client needs run permission and names the flag", async () => {
  const result = await runSocklab(["check", "client", "double", "--", "python3", "x.py", "{port}"]);
  equal(result.code, 2);
  match(result.stderr, /permission denied: run access to python3; run with --allow-run=python3/);
});

Deno.test("socklab check refuses a selection that leaves no case, and a dialect the service lacks, exit 2", async () => {
  const none = "; --list shows the cases";
  const cases: [string[], string][] = [
    [
      ["double", "127.0.0.1:1", "--only", "double/nothing/*"],
      `no case of double matches --only "double/nothing/*"${none}`,
    ],
    [
      ["sum", "--list", "--only", "sum/text/*", "--dialect", "json"],
      `no case of sum matches --only "sum/text/*" with --dialect json${none}`,
    ],
    [
      ["client", "double", "--only", "nothing", "--", "x"],
      `no case of client double matches --only "nothing"${none}`,
    ],
    [
      ["sum", "127.0.0.1:1", "--dialect", "xml"],
      'Cannot use --dialect "xml" with sum: choose text or json',
    ],
    [
      ["double", "127.0.0.1:1", "--dialect", "json"],
      "Cannot use --dialect with double: it has one dialect",
    ],
  ];
  for (const [args, message] of cases) {
    const result = await runSocklab(["check", ...args], { permissions: ["--allow-net=127.0.0.1"] });
    equal(result.code, 2, args.join(" "));
    equal(result.stdout, "");
    equal(result.stderr, `socklab: ${message}\n`);
  }
});

Deno.test("socklab check client names the port its reference server cannot listen on, exit 2", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  const result = await runSocklab(
    ["check", "client", "double", "--listen", String(port), "--", "python3", "x.py"],
    { permissions: ["--allow-net=127.0.0.1", "--allow-run=python3"] },
  );
  equal(result.code, 2);
  equal(
    result.stderr,
    `socklab: cannot run: cannot listen on 127.0.0.1:${port}: address already in use\n`,
  );
});
