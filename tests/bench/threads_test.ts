import { deepEqual, equal, ok, rejects, throws } from "node:assert/strict";
import { serve } from "../../src/net/server.ts";
import { doubleService } from "../../src/server/double.ts";
import type { ExchangeSettings } from "../../src/bench/settings.ts";
import { runThreads, splitEvenly } from "../../src/bench/threads.ts";
import { deadline } from "../_helpers.ts";

function settings(port: number, more: Partial<ExchangeSettings> = {}): ExchangeSettings {
  return {
    service: "double",
    options: {},
    target: { hostname: "127.0.0.1", port },
    connections: 3,
    durationMs: 200,
    warmupMs: 0,
    timeoutMs: 2000,
    ...more,
  };
}

Deno.test("splitEvenly shares connections out as evenly as possible", () => {
  deepEqual(splitEvenly(10, 3), [4, 3, 3]);
  deepEqual(splitEvenly(4, 4), [1, 1, 1, 1]);
  deepEqual(splitEvenly(7, 1), [7]);
});

Deno.test("runThreads refuses more threads than connections, and bad settings, before starting", () => {
  throws(() => runThreads(settings(1, { connections: 2 }), 3), /Cannot use --threads 3 with 2/);
  throws(() => runThreads(settings(1), 0), /Cannot use --threads 0/);
  throws(
    () =>
      runThreads(
        settings(1, {
          service: "random",
          options: { count: "10", min: "1", max: "100" },
          mode: "persistent",
        }),
        2,
      ),
    /random cannot run --mode persistent/,
  );
});

Deno.test("runThreads shares an open-loop schedule between its threads and merges their figures", async () => {
  await using server = serve(doubleService(), { port: 0 });
  const run = runThreads(settings(server.addr.port, { rate: 1000, warmupMs: 50 }), 2);
  equal(run.unit, "requests");
  const result = await deadline(run.done, 10_000, "the threaded run");
  equal(result.threads, 2);
  equal(result.connections, 3);
  equal(result.rate, 1000);
  equal(result.loop, "open");
  equal(result.errors, 0);
  ok(result.completed > 0);
  equal(result.latency.count, result.completed);
  ok((result.sendLag?.count ?? 0) > 0);
  // 250 ms at 1,000/s in all: the two schedules of 500/s add up to about 250 due.
  ok(
    result.extra !== undefined && result.extra.due >= 240 && result.extra.due <= 260,
    `${result.extra?.due}`,
  );
  equal(run.progress().phase, "done");
  equal(run.progress().completed, result.completed);
});

Deno.test("runThreads stops every thread on abort and keeps what they measured", async () => {
  await using server = serve(doubleService(), { port: 0 });
  const controller = new AbortController();
  const run = runThreads(settings(server.addr.port, { durationMs: 30_000 }), 2, controller.signal);
  await deadline(
    (async () => {
      while (run.progress().completed === 0) await new Promise((r) => setTimeout(r, 10));
    })(),
    10_000,
    "progress from the threads",
  );
  controller.abort();
  const result = await deadline(run.done, 10_000, "the interrupted run");
  equal(result.interrupted, true);
  ok(result.completed > 0);
  ok(result.elapsedMs < 30_000);
  equal(result.errors, 0);
});

Deno.test("runThreads rejects with a thread's permission denial, as one thread would", async () => {
  // The tests may connect to 127.0.0.1 only.
  const run = runThreads(settings(1, { target: { hostname: "127.0.0.2", port: 1 } }), 2);
  await rejects(deadline(run.done, 10_000, "the denied run"), (error) => {
    ok(error instanceof Deno.errors.NotCapable, String(error));
    return /127\.0\.0\.2/.test(error.message);
  });
});
