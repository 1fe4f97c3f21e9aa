import { equal, ok } from "node:assert/strict";
import { type BenchConn, runExchanges, type Sleep } from "../../src/bench/engine.ts";
import { doubleWorkload } from "../../src/bench/double.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * A simulated double server on a simulated clock: each reply takes
 * `serviceMs(n)` for the n-th request (from 1), and sleeping moves the clock
 * on. One connection at a time, so the simulated time is exact.
 */
function simulation(serviceMs: (n: number) => number) {
  let clock = 0;
  let requests = 0;
  let dials = 0;
  let last = "";
  const conn: BenchConn = {
    write(bytes) {
      last = decoder.decode(bytes).trim();
      return Promise.resolve(bytes.length);
    },
    read(buffer) {
      clock += serviceMs(++requests);
      const reply = encoder.encode(`${Number(last) * 2}\n`);
      buffer.set(reply);
      return Promise.resolve(reply.length);
    },
    close() {},
  };
  const sleep: Sleep = (ms) => {
    clock += ms;
    return Promise.resolve();
  };
  return {
    now: () => clock,
    sleep,
    dial: () => {
      dials++;
      return Promise.resolve(conn);
    },
    get requests() {
      return requests;
    },
    get dials() {
      return dials;
    },
  };
}

Deno.test("open loop counts latency from the intended send time, so a stall is not hidden", async () => {
  // 100 requests/s for 1 s; replies take 1 ms, but the 10th takes 201 ms.
  const sim = simulation((n) => n === 10 ? 201 : 1);
  const result = await runExchanges({
    target: { hostname: "127.0.0.1", port: 1 },
    workload: doubleWorkload(),
    connections: 1,
    durationMs: 1000,
    rate: 100,
    now: sim.now,
    sleep: sim.sleep,
    dial: sim.dial,
  }).done;
  equal(result.errors, 0, JSON.stringify(result.errorKinds));
  equal(result.loop, "open");
  equal(result.completed, 100);
  equal(sim.requests, 100);
  equal(result.extra?.due, 100);
  equal(result.extra?.unsent, 0);
  equal(result.throughput, 100);
  // The stalled reply delayed the 21 requests due behind it: they went out late
  // (the 11th 190 ms after it was due) and their latency counts from when they were due.
  // Measured from when they went out, 99 of 100 would read 1 ms and p90 would hide the stall.
  ok(Math.abs(result.latency.maxMs - 201) < 1, `max ${result.latency.maxMs}`);
  ok(result.latency.p90Ms > 100, `p90 ${result.latency.p90Ms}`);
  ok(Math.abs(result.latency.p50Ms - 1) < 0.01, `p50 ${result.latency.p50Ms}`);
  ok(Math.abs((result.sendLag?.maxMs ?? 0) - 190) < 1, `lag ${result.sendLag?.maxMs}`);
});

Deno.test("open loop says how many requests were due and never sent when it cannot keep up", async () => {
  // 1,000 requests/s on one connection whose replies take 2 ms: only half can go out.
  const sim = simulation(() => 2);
  const result = await runExchanges({
    target: { hostname: "127.0.0.1", port: 1 },
    workload: doubleWorkload(),
    connections: 1,
    durationMs: 100,
    rate: 1000,
    now: sim.now,
    sleep: sim.sleep,
    dial: sim.dial,
  }).done;
  equal(result.completed, 50);
  equal(result.extra?.due, 100);
  equal(result.extra?.unsent, 50);
  // The last request went out 49 ms after its time, and waited for it.
  ok(result.latency.maxMs > 45, `max ${result.latency.maxMs}`);
});

Deno.test("closed loop keeps one request outstanding and splits off the warmup", async () => {
  const sim = simulation(() => 1);
  const result = await runExchanges({
    target: { hostname: "127.0.0.1", port: 1 },
    workload: doubleWorkload(),
    connections: 1,
    durationMs: 100,
    warmupMs: 50,
    now: sim.now,
    sleep: sim.sleep,
    dial: sim.dial,
  }).done;
  // Requests start at 0, 1, … 149 ms and end 1 ms later: those that end before
  // 50 ms are the warmup's; the one ending at 150 ms started within the run.
  equal(result.warmupCompleted, 49);
  equal(result.completed, 101);
  equal(result.throughput, 1010);
  equal(result.latency.maxMs, 1);
  equal(sim.dials, 1);
});

Deno.test("a dead server is retried after a pause, a bounded number of times", async () => {
  const sim = simulation(() => 1);
  const result = await runExchanges({
    target: { hostname: "127.0.0.1", port: 1 },
    workload: doubleWorkload(),
    connections: 2,
    durationMs: 1000,
    now: sim.now,
    sleep: sim.sleep,
    dial: () => Promise.reject(new Deno.errors.ConnectionRefused("Connection refused")),
  }).done;
  equal(result.completed, 0);
  equal(result.errorKinds[0].kind, "connect-refused");
  equal(result.errorKinds[0].example, "connection refused by 127.0.0.1:1");
  // Two workers, each pausing 50 ms after a failure, on a shared clock that both
  // pauses move: about 1000 / 50 attempts in all.
  ok(result.errors >= 19 && result.errors <= 22, `${result.errors} attempts`);
});
