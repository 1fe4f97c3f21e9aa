import { equal, match, ok } from "node:assert/strict";
import { serve, type Service } from "../../src/net/server.ts";
import { doubleService } from "../../src/server/double.ts";
import type { BenchResult } from "../../src/bench/aggregator.ts";
import { runSocklab } from "../_helpers.ts";

Deno.test("socklab bench double prints JSON figures and exits 0 when every reply is right", async () => {
  await using server = serve(doubleService(), { port: 0 });
  const result = await runSocklab([
    "bench",
    "double",
    `127.0.0.1:${server.addr.port}`,
    "--duration",
    "300ms",
    "--warmup",
    "100ms",
    "-c",
    "2",
    "--json",
  ]);
  equal(result.code, 0, result.stderr);
  const figures = JSON.parse(result.stdout) as BenchResult;
  equal(figures.service, "double");
  equal(figures.connections, 2);
  equal(figures.errors, 0);
  ok(figures.completed > 0);
  // The generator's own CPU, so that a run can tell when the generator was the limit.
  ok(figures.loadCpu !== undefined && figures.loadCpu.ms > 0 && figures.loadCpu.cores > 0);
  equal(result.stderr, "", "no progress line when stderr is not a terminal");
});

Deno.test("socklab bench exits 1 and names the error kind when replies are wrong", async () => {
  const offByOne: Service = {
    name: "off-by-one",
    open: (peer) => ({
      message: (m) => peer.sendText(`${Number(new TextDecoder().decode(m)) * 2 + 1}\n`),
    }),
  };
  await using server = serve(offByOne, { port: 0 });
  const result = await runSocklab([
    "bench",
    "double",
    `127.0.0.1:${server.addr.port}`,
    "-d",
    "200ms",
    "--warmup",
    "0",
    "-c",
    "1",
  ]);
  equal(result.code, 1, result.stderr);
  match(result.stdout, /Requests +0 completed, [\d,]+ errors/);
  match(result.stdout, /Load CPU +[\d.]+ cores/);
  match(result.stdout, /wrong-reply +e\.g\. request -?\d+: expected -?\d+, got "-?\d+"/);
});

Deno.test("socklab bench refuses bad flags with exit status 2, before any load", async () => {
  for (
    const [args, pattern] of [
      [["bench", "dubble", "127.0.0.1:1"], /unknown service "dubble"; choose from double/],
      [["bench", "double", "127.0.0.1:1", "-d", "soon"], /Cannot parse duration "soon"/],
      [["bench", "double", "127.0.0.1:1", "--rate", "-5"], /Cannot use --rate "-5"/],
      [["bench", "double", "127.0.0.1:1", "--report", "run.png"], /must end in \.svg or \.html/],
      [["bench", "double", "127.0.0.1:1", "--receivers", "5"], /--receivers is a chat flag/],
      [["bench", "chat", "127.0.0.1:1", "--count", "5"], /--count is a random flag/],
    ] as const
  ) {
    const result = await runSocklab([...args]);
    equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    match(result.stderr, pattern);
  }
});

Deno.test("socklab bench --report asks for write permission before running", async () => {
  const result = await runSocklab(["bench", "double", "127.0.0.1:1", "--report", "run.svg"]);
  equal(result.code, 1);
  equal(
    result.stderr,
    "socklab: permission denied: write access to run.svg; run with --allow-write=run.svg\n",
  );
});
