import { deepEqual, equal, match } from "node:assert/strict";
import { serve, type Service } from "../../src/net/server.ts";
import { sumService } from "../../src/server/sum.ts";
import { randomService } from "../../src/server/random.ts";
import { createRandomSource } from "../../src/protocol/rng.ts";
import { SUM_CASES } from "../../src/check/cases/sum.ts";
import { RANDOM_CASES } from "../../src/check/cases/random.ts";
import { type CheckReport, runChecks } from "../../src/check/runner.ts";
import type { CheckCase } from "../../src/check/types.ts";
import { formatText } from "../../src/check/report.ts";

async function check(
  service: string,
  implementation: Service,
  cases: readonly CheckCase[],
  options: { strict?: boolean; only?: string[]; dialect?: string; timeoutMs?: number } = {},
): Promise<CheckReport> {
  await using server = serve(implementation, { port: 0, lingerMs: 100 });
  return await runChecks(service, { hostname: "127.0.0.1", port: server.addr.port }, cases, {
    timeoutMs: 1500,
    ...options,
  });
}

const failedIds = (report: CheckReport) =>
  report.results.filter((r) => r.status === "failed").map((r) => r.id);

/** A one-exchange service that answers each message with `answer(text)` (undefined: close without reply). */
function oneShot(answer: (text: string) => string | undefined): Service {
  return {
    name: "broken",
    open: (peer) => ({
      message(message) {
        const reply = answer(new TextDecoder().decode(message));
        if (reply !== undefined) peer.sendText(reply);
        peer.end();
      },
    }),
  };
}

Deno.test("socklab's sum server passes every sum case, strict and destructive ones included", async () => {
  const report = await check("sum", sumService({ random: createRandomSource(7) }), SUM_CASES, {
    strict: true,
  });
  deepEqual(failedIds(report), [], formatText(report));
  equal(report.counts.passed, SUM_CASES.length);
});

Deno.test("check sum skips what follows once the server stops after an out-of-range number", async () => {
  const stop = Promise.withResolvers<void>();
  const server = serve(sumService({ number: 50, onOutOfRange: () => stop.resolve() }), {
    port: 0,
    lingerMs: 100,
  });
  stop.promise.then(() => server.shutdown());
  const report = await runChecks(
    "sum",
    { hostname: "127.0.0.1", port: server.addr.port },
    SUM_CASES,
    {
      timeoutMs: 1500,
      only: ["sum/*/range/*"],
    },
  );
  await server.shutdown();
  deepEqual(failedIds(report), [], formatText(report));
  const skipped = report.results.filter((r) => r.status === "skipped").map((r) => r.id);
  deepEqual(skipped, ["sum/text/range/101", "sum/json/range/zero", "sum/json/range/101"]);
});

Deno.test("check sum catches a reply to an out-of-range number", async () => {
  const report = await check("sum", oneShot(() => "Server;50"), SUM_CASES, {
    only: ["sum/text/range/*"],
  });
  deepEqual(failedIds(report), ["sum/text/range/zero", "sum/text/range/101"]);
  match(
    formatText(report),
    /Expected: no reply, and the connection closed\n {9}Actual: "Server;50"/,
  );
});

Deno.test("check sum catches a text reply to a JSON request, and a number out of 1..100", async () => {
  const report = await check("sum", oneShot(() => "Server;500"), SUM_CASES, {
    only: ["sum/*/answer"],
  });
  deepEqual(failedIds(report), ["sum/text/answer", "sum/json/answer"]);
  const text = formatText(report);
  match(text, /Reason: server number 500 is outside 1\.\.100/);
  match(text, /Reason: a text reply to a json request/);
});

Deno.test("check sum --strict catches a newline after the reply, and loose JSON", async () => {
  const report = await check(
    "sum",
    oneShot((t) => t.startsWith("{") ? '{"server_name":"S","server_number":5}' : "S;5\n"),
    SUM_CASES,
    { strict: true, only: ["sum/*/exact-bytes"] },
  );
  deepEqual(failedIds(report), ["sum/text/exact-bytes", "sum/json/exact-bytes"]);
  match(
    formatText(report),
    /Expected: "\{\\"server_name\\": \\"S\\", \\"server_number\\": 5\}" exactly/,
  );
});

Deno.test("check sum catches a server that answers malformed requests", async () => {
  const report = await check("sum", oneShot(() => "Server;5"), SUM_CASES, {
    only: ["sum/text/malformed/*"],
  });
  deepEqual(failedIds(report), [
    "sum/text/malformed/no-semicolon",
    "sum/text/malformed/not-an-integer",
  ]);
});

Deno.test("socklab's random server passes every random case, strict ones included", async () => {
  const report = await check(
    "random",
    randomService({ random: createRandomSource(1) }),
    RANDOM_CASES,
    {
      strict: true,
    },
  );
  deepEqual(failedIds(report), [], formatText(report));
});

/** A random-like service that sends `text` on connect, then closes (or not). */
function sender(text: () => string, close = true): Service {
  return {
    name: "broken",
    open(peer) {
      peer.sendText(text());
      if (close) peer.end();
      return {};
    },
  };
}

Deno.test("check random catches spaces after the commas", async () => {
  const report = await check(
    "random",
    sender(() => "1, 2, 3, 4, 5, 6, 7, 8, 9, 10"),
    RANDOM_CASES,
    {
      only: ["random/format/numbers"],
    },
  );
  deepEqual(failedIds(report), ["random/format/numbers"]);
  match(formatText(report), /Reason: number 2 " 2" has whitespace around it/);
});

Deno.test("check random catches a server that never closes", async () => {
  const report = await check("random", sender(() => "1,2,3,4,5,6,7,8,9,10", false), RANDOM_CASES, {
    only: ["random/format/numbers"],
    timeoutMs: 600,
  });
  deepEqual(failedIds(report), ["random/format/numbers"]);
  match(formatText(report), /Actual: the server did not close the connection before the deadline/);
});

Deno.test("check random catches the same list every time, and a newline in strict mode", async () => {
  const report = await check("random", sender(() => "5,5,5,5,5,5,5,5,5,5\n"), RANDOM_CASES, {
    strict: true,
    only: ["random/format/*", "random/variety/*"],
  });
  deepEqual(failedIds(report), [
    "random/format/no-newline",
    "random/variety/across-connections",
    "random/variety/within-a-list",
  ]);
});
