import { deepEqual, equal, match, ok } from "node:assert/strict";
import { serve, type Service } from "../../src/net/server.ts";
import { doubleService } from "../../src/server/double.ts";
import { type Dial, runExchanges } from "../../src/bench/engine.ts";
import { doubleWorkload } from "../../src/bench/double.ts";
import type { ExchangeWorkload } from "../../src/bench/workload.ts";
import { deadline } from "../_helpers.ts";

const decoder = new TextDecoder();
const local = (port: number) => ({ hostname: "127.0.0.1", port });
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);

/** A double server that gets every `every`-th request wrong in the way `reply` says. */
function faultyDouble(every: number, reply: (request: string) => string): Service {
  let count = 0;
  return {
    name: "faulty",
    open: (peer) => ({
      message(message) {
        const request = decoder.decode(message);
        peer.sendText(++count % every === 0 ? `${reply(request)}\n` : `${Number(request) * 2}\n`);
      },
    }),
  };
}

Deno.test("runExchanges() drives a double server; every request is answered and counted", async () => {
  await using server = serve(doubleService(), { port: 0 });
  const result = await deadline(
    runExchanges({
      target: local(server.addr.port),
      workload: doubleWorkload(),
      connections: 4,
      durationMs: 300,
      warmupMs: 100,
    }).done,
    10_000,
    "the run",
  );
  equal(result.errors, 0, JSON.stringify(result.errorKinds));
  ok(result.completed > 100, `only ${result.completed} completed`);
  ok(result.warmupCompleted > 0);
  equal(result.latency.count, result.completed);
  equal(sum(result.series.completed), result.completed);
  equal(result.unit, "requests");
  equal(result.loop, "closed");
  ok(result.elapsedMs >= 300 && result.elapsedMs < 3000, String(result.elapsedMs));
  ok(result.latency.p50Ms > 0 && result.latency.p50Ms <= result.latency.p99Ms);
  ok(result.latency.p99Ms <= result.latency.maxMs);
  // Closed loop, one request outstanding: every message the server saw was answered and judged.
  await server.shutdown();
  equal(server.stats.messages, result.completed + result.warmupCompleted);
  equal(server.stats.connections, 4);
});

Deno.test("runExchanges() per-connection opens one connection per request", async () => {
  await using server = serve(doubleService(), { port: 0 });
  const result = await deadline(
    runExchanges({
      target: local(server.addr.port),
      workload: doubleWorkload(),
      mode: "per-connection",
      connections: 2,
      durationMs: 300,
    }).done,
    10_000,
    "the run",
  );
  equal(result.errors, 0, JSON.stringify(result.errorKinds));
  equal(result.unit, "connections");
  ok(result.completed > 10);
  await server.shutdown();
  equal(server.stats.connections, result.completed);
  equal(server.stats.messages, result.completed);
});

Deno.test("runExchanges() counts wrong and malformed replies as errors by kind", async () => {
  await using wrong = serve(faultyDouble(5, (r) => String(Number(r) * 2 + 1)), { port: 0 });
  const result = await runExchanges({
    target: local(wrong.addr.port),
    workload: doubleWorkload(),
    connections: 2,
    durationMs: 200,
  }).done;
  ok(result.errors > 0);
  equal(result.errorKinds.length, 1);
  equal(result.errorKinds[0].kind, "wrong-reply");
  match(result.errorKinds[0].example, /^request -?\d+: expected -?\d+, got "-?\d+"$/);
  // Wrong replies are not successes, and the connection goes on being used.
  await wrong.shutdown();
  equal(wrong.stats.messages, result.completed + result.errors);
  equal(wrong.stats.connections, 2);

  await using garbled = serve(faultyDouble(3, () => "forty\u0000two"), { port: 0 });
  const malformed = await runExchanges({
    target: local(garbled.addr.port),
    workload: doubleWorkload(),
    connections: 1,
    durationMs: 100,
  }).done;
  equal(malformed.errorKinds[0].kind, "malformed-reply");
  // Shown as `socklab check` shows bytes: escaped, nothing lost.
  match(malformed.errorKinds[0].example, /the reply is not an integer: "forty\\x00two"/);
});

Deno.test("runExchanges() judges how a reply ends: CRLF, a second line, an over-long line", async (t) => {
  /** A double server that answers each request as `reply` says. */
  const answering = (reply: (double: number) => string): Service => ({
    name: "answering",
    open: (peer) => ({
      message: (message) => void peer.sendText(reply(Number(decoder.decode(message)) * 2)),
    }),
  });
  const run = async (service: Service) => {
    await using server = serve(service, { port: 0, maxPendingBytes: 1 << 20 });
    return await deadline(
      runExchanges({
        target: local(server.addr.port),
        workload: doubleWorkload(),
        connections: 2,
        durationMs: 100,
      }).done,
      10_000,
      "the run",
    );
  };

  await t.step("a reply ended by CRLF is right", async () => {
    const result = await run(answering((n) => `${n}\r\n`));
    equal(result.errors, 0, JSON.stringify(result.errorKinds));
    ok(result.completed > 0);
  });

  await t.step("two lines for one request are an extra reply", async () => {
    const result = await run(answering((n) => `${n}\n${n}\n`));
    equal(result.completed, 0);
    deepEqual(result.errorKinds.map((e) => e.kind), ["extra-reply"]);
  });

  await t.step("a line past the reply limit is an oversize reply", async () => {
    const result = await run(answering((n) => `${n}${"0".repeat(9000)}\n`));
    equal(result.completed, 0);
    deepEqual(result.errorKinds.map((e) => e.kind), ["oversize-reply"]);
  });
});

Deno.test("runExchanges() reports a server that closes, one that is silent, and one that is gone", async () => {
  const closing: Service = { name: "closing", open: (peer) => ({ message: () => peer.end() }) };
  await using closer = serve(closing, { port: 0 });
  const closed = await runExchanges({
    target: local(closer.addr.port),
    workload: doubleWorkload(),
    connections: 1,
    durationMs: 100,
  }).done;
  equal(closed.completed, 0);
  equal(closed.errorKinds[0].kind, "closed");

  const silent: Service = { name: "silent", open: () => ({}) };
  await using mute = serve(silent, { port: 0 });
  const timedOut = await runExchanges({
    target: local(mute.addr.port),
    workload: doubleWorkload(),
    connections: 2,
    durationMs: 100,
    timeoutMs: 150,
  }).done;
  deepEqual(timedOut.errorKinds.map((e) => [e.kind, e.count]), [["reply-timeout", 2]]);

  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = listener.addr.port;
  listener.close();
  const refused = await runExchanges({
    target: local(port),
    workload: doubleWorkload(),
    connections: 1,
    durationMs: 120,
  }).done;
  equal(refused.completed, 0);
  equal(refused.errorKinds[0].kind, "connect-refused");
  // A pause after each failure: a dead server is not hammered.
  ok(refused.errors <= 4, `${refused.errors} connection attempts in 120 ms`);
});

Deno.test("engine: no free local port to connect from is an error of its own kind", async () => {
  // What connect(2) says when every ephemeral port is in use or in TIME_WAIT.
  const dial: Dial = () =>
    Promise.reject(
      new Deno.errors.AddrNotAvailable("Cannot assign requested address (os error 99)"),
    );
  const result = await runExchanges({
    target: local(9),
    workload: doubleWorkload(),
    mode: "per-connection",
    connections: 1,
    durationMs: 60,
    dial,
  }).done;
  equal(result.completed, 0);
  deepEqual(result.errorKinds.map((e) => e.kind), ["no-local-port"]);
  equal(
    result.errorKinds[0].example,
    "cannot connect to 127.0.0.1:9: no free local port or address to connect from",
  );
});

/** A dial that never connects: it ends only when its signal is aborted, and says how often. */
function hangingDial(): { dial: Dial; attempts: () => number; ended: () => number } {
  let attempts = 0;
  let ended = 0;
  const dial: Dial = (_address, _timeoutMs, signal) => {
    attempts++;
    return new Promise((_resolve, reject) => {
      ok(signal, "the engine keeps the deadline of each attempt");
      signal.addEventListener("abort", () => {
        ended++;
        reject(new DOMException("The signal has been aborted", "AbortError"));
      }, { once: true });
    });
  };
  return { dial, attempts: () => attempts, ended: () => ended };
}

Deno.test("runExchanges() ends a connection attempt at its deadline, and every attempt when stopped", async (t) => {
  await t.step("an overdue attempt is a connect-timeout", async () => {
    const hanging = hangingDial();
    const result = await deadline(
      runExchanges({
        target: local(1),
        workload: doubleWorkload(),
        mode: "per-connection",
        connections: 2,
        durationMs: 150,
        timeoutMs: 50,
        dial: hanging.dial,
      }).done,
      5_000,
      "the run to end",
    );
    equal(result.completed, 0);
    deepEqual(result.errorKinds.map((e) => e.kind), ["connect-timeout"]);
    match(result.errorKinds[0].example, /did not accept the connection within 50 ms/);
    equal(hanging.ended(), hanging.attempts());
  });

  await t.step("a stop ends the attempts under way at once", async () => {
    const hanging = hangingDial();
    const controller = new AbortController();
    const run = runExchanges({
      target: local(1),
      workload: doubleWorkload(),
      connections: 3,
      durationMs: 60_000,
      timeoutMs: 60_000,
      dial: hanging.dial,
      signal: controller.signal,
    });
    controller.abort();
    const result = await deadline(run.done, 5_000, "the run to stop");
    ok(result.interrupted);
    equal(result.errors, 0);
    equal(hanging.attempts(), 3);
    equal(hanging.ended(), 3);
  });
});

Deno.test("runExchanges() stops early on abort and still returns its figures", async () => {
  await using server = serve(doubleService(), { port: 0 });
  const controller = new AbortController();
  const run = runExchanges({
    target: local(server.addr.port),
    workload: doubleWorkload(),
    connections: 2,
    durationMs: 60_000,
    signal: controller.signal,
  });
  // The engine has no progress event: poll its counter, within a deadline.
  await deadline(
    (async () => {
      while (run.progress().completed < 50) await new Promise((resolve) => setTimeout(resolve, 5));
    })(),
    10_000,
    "50 exchanges",
  );
  controller.abort();
  const result = await deadline(run.done, 5_000, "the run to stop");
  ok(result.interrupted);
  equal(result.errors, 0);
  ok(result.completed >= 50);
  equal(run.progress().phase, "done");
});

Deno.test("runExchanges() reads a reply to end of stream for workloads that need it", async () => {
  const speaker: Service = {
    name: "speaker",
    open(peer) {
      peer.sendText("1,2,3");
      peer.end();
      return {};
    },
  };
  const workload: ExchangeWorkload = {
    service: "speaker",
    modes: ["per-connection"],
    reply: "end",
    client: () => ({
      request: () => new Uint8Array(0),
      check: (reply) =>
        decoder.decode(reply) === "1,2,3" ? null : { kind: "wrong-reply", detail: "not 1,2,3" },
    }),
  };
  await using server = serve(speaker, { port: 0 });
  const result = await runExchanges({
    target: local(server.addr.port),
    workload,
    connections: 2,
    durationMs: 150,
  }).done;
  equal(result.errors, 0, JSON.stringify(result.errorKinds));
  ok(result.completed > 0);
});
