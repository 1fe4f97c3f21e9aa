import { equal, match, ok } from "node:assert/strict";
import { serve, type Service } from "../../src/net/server.ts";
import { doubleService } from "../../src/server/double.ts";
import type { BenchResult } from "../../src/bench/aggregator.ts";
import { runSocklab } from "../_helpers.ts";

/** A short `socklab bench double … --json` run against `port`, with `extra` flags. */
function benchDoubleJson(port: number, ...extra: string[]) {
  return runSocklab([
    "bench",
    "double",
    `127.0.0.1:${port}`,
    "--duration",
    "300ms",
    "--warmup",
    "100ms",
    ...extra,
    "--json",
  ]);
}

Deno.test("socklab bench double prints JSON figures and exits 0 when every reply is right", async () => {
  await using server = serve(doubleService(), { port: 0 });
  const result = await benchDoubleJson(server.addr.port, "-c", "2");
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

Deno.test("socklab bench --threads 2 runs the load on two threads and merges their figures", async () => {
  await using server = serve(doubleService(), { port: 0 });
  const result = await benchDoubleJson(server.addr.port, "-c", "3", "--threads", "2");
  equal(result.code, 0, result.stderr);
  const figures = JSON.parse(result.stdout) as BenchResult;
  equal(figures.threads, 2);
  equal(figures.connections, 3);
  equal(figures.errors, 0);
  ok(figures.completed > 0);
  equal(figures.latency.count, figures.completed);
  equal(figures.series.completed.reduce((a, b) => a + b, 0), figures.completed);
  ok(figures.loadCpu !== undefined && figures.loadCpu.ms > 0);
  equal(result.stderr, "");
});

Deno.test("socklab bench --threads 2 still catches a wrong server, exit 1", async () => {
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
    "2",
    "--threads",
    "2",
  ]);
  equal(result.code, 1, result.stderr);
  match(result.stdout, /persistent, closed loop, 2 connections, 2 threads, /);
  match(result.stdout, /Requests +0 completed, [\d,]+ errors/);
  match(result.stdout, /wrong-reply +e\.g\. request -?\d+: expected -?\d+, got "-?\d+"/);
});

Deno.test("socklab bench refuses a wrong --threads with exit status 2 and one line", async () => {
  for (
    const [args, pattern] of [
      [["--threads", "0"], /--threads/],
      [["--threads", "3", "-c", "2"], /Cannot use --threads 3 with 2 connections/],
      [["--threads", "two"], /--threads/],
    ] as const
  ) {
    const result = await runSocklab(["bench", "double", "127.0.0.1:1", ...args]);
    equal(result.code, 2, `${args.join(" ")}: ${result.stderr}`);
    match(result.stderr, pattern);
    equal(result.stderr.trimEnd().split("\n").length, 1, result.stderr);
  }
  const chat = await runSocklab(["bench", "chat", "127.0.0.1:1", "--threads", "2"]);
  equal(chat.code, 2, chat.stderr);
  equal(chat.stderr, "socklab: chat runs on one thread; it has no --threads\n");
});
