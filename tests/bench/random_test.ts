import { deepEqual, equal, match, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import { serve, type Service } from "../../src/net/server.ts";
import { randomService } from "../../src/server/random.ts";
import { runExchanges } from "../../src/bench/engine.ts";
import { randomWorkload } from "../../src/bench/random.ts";
import type { BenchResult } from "../../src/bench/aggregator.ts";
import { deadline, runSocklab } from "../_helpers.ts";

const encoder = new TextEncoder();
const local = (port: number) => ({ hostname: "127.0.0.1", port });

/** A random server that sends `reply(n)` to its n-th connection (from 1), then closes. */
function brokenRandom(reply: (n: number) => string): Service {
  let count = 0;
  return {
    name: "broken-random",
    framing: "raw",
    open(peer) {
      peer.sendText(reply(++count));
      peer.end();
      return {};
    },
  };
}

async function bench(
  service: Service,
  workload = randomWorkload(),
  durationMs = 200,
): Promise<BenchResult> {
  await using server = serve(service, { port: 0 });
  const result = await deadline(
    runExchanges({
      target: local(server.addr.port),
      workload,
      connections: 2,
      durationMs,
    }).done,
    10_000,
    "the run",
  );
  await server.shutdown();
  // Every connection the server took was judged, right or wrong.
  equal(server.stats.connections, result.completed + result.warmupCompleted + result.errors);
  return result;
}

Deno.test("random workload: socklab's random service passes, one connection per reply", async () => {
  await using server = serve(randomService(), { port: 0 });
  const result = await deadline(
    runExchanges({
      target: local(server.addr.port),
      workload: randomWorkload(),
      connections: 4,
      durationMs: 300,
      warmupMs: 50,
    }).done,
    10_000,
    "the run",
  );
  equal(result.errors, 0, JSON.stringify(result.errorKinds));
  equal(result.mode, "per-connection");
  equal(result.unit, "connections");
  ok(result.completed > 10, `only ${result.completed} completed`);
  await server.shutdown();
  equal(server.stats.connections, result.completed + result.warmupCompleted);
});

Deno.test("random workload: other counts and ranges, and a final newline, pass", async () => {
  const options = { count: 500, min: -3, max: 3 };
  const result = await bench(randomService({ ...options, newline: true }), randomWorkload(options));
  equal(result.errors, 0, JSON.stringify(result.errorKinds));
  ok(result.completed > 0);
});

Deno.test("random workload: a server that sends one number too few is caught as wrong-count", async () => {
  const result = await bench(
    brokenRandom((n) => n % 3 === 0 ? "5,6,7,8,9,10,11,12,13" : "1,2,3,4,5,6,7,8,9,10"),
  );
  deepEqual(result.errorKinds.map((e) => e.kind), ["wrong-count"]);
  equal(
    result.errorKinds[0].example,
    '9 numbers where 10 were expected: "5,6,7,8,9,10,11,12,13"',
  );
  ok(result.completed > 0, "the right replies still count");
});

Deno.test("random workload: a number outside the range is caught as out-of-range", async () => {
  // 0 and 101: the classic off-by-one of randint(0, 100) and randrange(1, 102).
  const result = await bench(
    brokenRandom((n) => n % 2 ? "1,2,3,4,0,6,7,8,9,10" : "1,2,3,4,5,6,7,8,9,101"),
  );
  deepEqual(result.errorKinds.map((e) => e.kind), ["out-of-range"]);
  match(
    result.errorKinds[0].example,
    /^number (5 0 is below the announced minimum 1|10 101 is above the announced maximum 100): "/,
  );
  equal(result.completed, 0);
});

Deno.test("random workload: spaces, a trailing comma and non-numbers are malformed-reply", async () => {
  for (
    const [reply, reason] of [
      ["1, 2,3,4,5,6,7,8,9,10", /^number 2 " 2" has whitespace around it/],
      ["1,2,3,4,5,6,7,8,9,10,", /^number 11 is empty/],
      ["[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]", /^number 1 "\[1" is not an integer/],
      ["1;2;3;4;5;6;7;8;9;10", /holds several numbers/],
    ] as const
  ) {
    const result = await bench(brokenRandom(() => reply), randomWorkload(), 100);
    deepEqual(result.errorKinds.map((e) => e.kind), ["malformed-reply"], reply);
    match(result.errorKinds[0].example, reason);
    equal(result.completed, 0);
  }
});

Deno.test("random workload: a server that closes without a number is caught as closed", async () => {
  const result = await bench(brokenRandom(() => ""), randomWorkload(), 100);
  deepEqual(result.errorKinds.map((e) => e.kind), ["closed"]);
  equal(result.completed, 0);
});

Deno.test("random workload: any reply the service could send passes, any other count fails (property)", () => {
  fc.assert(
    fc.property(
      fc.integer({ min: -1000, max: 1000 }),
      fc.nat({ max: 1000 }),
      fc.integer({ min: 1, max: 50 }),
      fc.integer({ min: -3, max: 3 }).filter((d) => d !== 0),
      fc.nat(),
      (min, width, count, delta, seed) => {
        const max = min + width;
        const client = randomWorkload({ count, min, max }).client(0);
        const draw = (n: number) =>
          Array.from({ length: n }, (_, i) => min + ((seed + i * 7919) % (width + 1)));
        const right = client.check(encoder.encode(draw(count).join(",")));
        const wrong = count + delta >= 1
          ? client.check(encoder.encode(draw(count + delta).join(",")))
          : { kind: "wrong-count", detail: "" };
        return right === null && wrong?.kind === "wrong-count";
      },
    ),
  );
});

Deno.test("randomWorkload() refuses options the service could not have", () => {
  throws(() => randomWorkload({ count: 0 }), /Cannot use --count 0/);
  throws(() => randomWorkload({ min: 5, max: 1 }), /Cannot use --min 5 with --max 1/);
});

Deno.test("socklab bench random checks replies from the command line, per-connection only", async () => {
  await using server = serve(randomService({ count: 3, min: 7, max: 9 }), { port: 0 });
  const address = `127.0.0.1:${server.addr.port}`;
  const result = await runSocklab([
    "bench",
    "random",
    address,
    "--count",
    "3",
    "--min",
    "7",
    "--max",
    "9",
    "-c",
    "2",
    "-d",
    "200ms",
    "--warmup",
    "0",
    "--json",
  ]);
  equal(result.code, 0, result.stderr);
  const figures = JSON.parse(result.stdout) as BenchResult;
  deepEqual([figures.service, figures.mode, figures.errors], ["random", "per-connection", 0]);
  ok(figures.completed > 0);

  // The defaults (10 numbers in 1..100) do not match this server: exit 1, the kind named.
  const wrong = await runSocklab(["bench", "random", address, "-c", "1", "-d", "100ms"]);
  equal(wrong.code, 1, wrong.stderr);
  match(wrong.stdout, /wrong-count +e\.g\. 3 numbers where 10 were expected: "[789],[789],[789]"/);

  for (
    const [args, pattern] of [
      [["--mode", "persistent"], /random cannot run --mode persistent; it runs per-connection/],
      [["--count", "0"], /Cannot use --count "0": must be a whole number from 1 to 10000/],
      [["--min", "5", "--max", "1"], /Cannot use --min 5 with --max 1/],
    ] as const
  ) {
    const refused = await runSocklab(["bench", "random", address, ...args]);
    equal(refused.code, 2, `${args.join(" ")}: ${refused.stderr}`);
    match(refused.stderr, pattern);
  }
});
