import { deepEqual, equal, match, ok } from "node:assert/strict";
import { serve, type Service } from "../../src/net/server.ts";
import { doubleService } from "../../src/server/double.ts";
import { DOUBLE_CASES } from "../../src/check/cases/double.ts";
import { type CheckReport, runChecks } from "../../src/check/runner.ts";
import { TERMINATOR_BYTES } from "../../src/net/framing.ts";
import { formatJunit, formatText } from "../../src/check/report.ts";
import { Child } from "../_helpers.ts";

const decoder = new TextDecoder();

async function check(service: Service, options: { strict?: boolean; only?: string[] } = {}) {
  await using server = serve(service, { port: 0, lingerMs: 100 });
  return await runChecks(
    "double",
    { hostname: "127.0.0.1", port: server.addr.port },
    DOUBLE_CASES,
    {
      timeoutMs: 1500,
      ...options,
    },
  );
}

function failedIds(report: CheckReport): string[] {
  return report.results.filter((r) => r.status === "failed").map((r) => r.id);
}

/** A service that answers each message with `answer(text)`, ending as the request did. */
function broken(answer: (text: string) => string): Service {
  return {
    name: "broken",
    open: (peer) => ({
      message(message, terminator) {
        peer.sendText(answer(decoder.decode(message)));
        peer.send(TERMINATOR_BYTES[terminator]);
      },
    }),
  };
}

Deno.test("socklab's double server passes every double case, strict ones included", async () => {
  const report = await check(doubleService(), { strict: true });
  deepEqual(failedIds(report), [], formatText(report));
  equal(report.counts.passed, DOUBLE_CASES.length);
});

Deno.test("check double catches a server that doubles with floating point", async () => {
  const report = await check(broken((t) => {
    const n = Number(t.trim().replaceAll("_", ""));
    return Number.isInteger(n) && t.trim() !== ""
      ? String(n * 2)
      : "Received data is not a valid integer";
  }));
  const failed = failedIds(report);
  equal(failed.includes("double/answer/big"), true, formatText(report));
  equal(failed.includes("double/answer/positive"), false);
});

Deno.test("check double catches the wrong error text", async () => {
  const report = await check(
    broken((t) => /^\s*[+-]?\d+\s*$/.test(t) ? String(BigInt(t.trim()) * 2n) : "error"),
    {
      only: ["double/invalid/*"],
    },
  );
  deepEqual(failedIds(report), [
    "double/invalid/text",
    "double/invalid/float",
    "double/invalid/empty-line",
    "double/invalid/4301-digits",
  ]);
  const text = formatText(report);
  match(
    text,
    /Expected: "Received data is not a valid integer" or "Received data is not valid integer"/,
  );
  match(text, /Actual: "error\\n"/);
});

Deno.test("check double catches a server that answers one request per connection", async () => {
  const once: Service = {
    name: "once",
    open: (peer) => ({
      message(message) {
        peer.sendText(String(BigInt(decoder.decode(message).trim()) * 2n));
        peer.end();
      },
    }),
  };
  const report = await check(once, { only: ["double/connection/*"] });
  deepEqual(failedIds(report), [
    "double/connection/several-requests",
    "double/connection/pipelined",
  ]);
  match(formatText(report), /Reason: request 2 of 3 on the same connection/);
});

Deno.test("check double --strict catches a newline added to a no-newline reply", async () => {
  const report = await check(broken((t) => String(BigInt(t.trim()) * 2n) + "\n"), {
    strict: true,
    only: ["double/framing/*"],
  });
  deepEqual(failedIds(report), [
    "double/framing/no-newline",
    "double/framing/crlf",
    "double/framing/exact-bytes",
  ]);
});

Deno.test("check double catches a sequential server blocked by an idle client", async () => {
  // Serves one connection at a time, to the end, as a naive server does.
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served = (async () => {
    for await (const conn of listener) {
      const buf = new Uint8Array(1024);
      try {
        while (true) {
          const n = await conn.read(buf);
          if (n === null) break;
          const text = decoder.decode(buf.subarray(0, n)).trim();
          await conn.write(new TextEncoder().encode(String(BigInt(text) * 2n)));
        }
      } catch { /* peer gone */ }
      conn.close();
    }
  })();
  const report = await runChecks(
    "double",
    { hostname: "127.0.0.1", port: listener.addr.port },
    DOUBLE_CASES,
    {
      timeoutMs: 800,
      only: ["double/concurrency/idle-client"],
    },
  );
  listener.close();
  await served.catch(() => {});
  deepEqual(failedIds(report), ["double/concurrency/idle-client"]);
  match(formatText(report), /Actual: no reply before the deadline/);
});

Deno.test("runChecks() says an over-long reply in plain words", async () => {
  const report = await check(broken(() => "9".repeat(70_000)), { only: ["double/answer/zero"] });
  const reason = report.results[0].reason ?? "";
  match(reason, /sent a message longer than \d+ bytes/);
  ok(!reason.includes("RangeError"), reason);
});

Deno.test("runChecks() fails the cases of a server that accepts and resets, rather than not running", async () => {
  const script = `
import socket, struct
listener = socket.socket()
listener.bind(("127.0.0.1", 0))
listener.listen(64)
print(listener.getsockname()[1], flush=True)
while True:
    conn, _ = listener.accept()
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()
`;
  await using server = new Child("python3", ["-c", script]);
  const port = Number(await server.stdout.waitFor(/^\d+$/));
  const report = await runChecks("double", { hostname: "127.0.0.1", port }, DOUBLE_CASES, {
    timeoutMs: 800,
    only: ["double/answer/zero", "double/answer/negative"],
  });
  equal(report.results.length, 2);
  deepEqual(report.results.map((result) => result.status), ["failed", "failed"]);
  ok(!/[A-Za-z]Error:/.test(formatText(report)), formatText(report));
});

Deno.test("formatJunit() writes one testcase per case, failures with their details", async () => {
  const report = await check(broken(() => "7"), { only: ["double/answer/zero"] });
  const xml = formatJunit(report);
  match(xml, /<testsuite name="socklab check double" tests="1" failures="1" skipped="0"/);
  match(
    xml,
    /<failure message="Zero gets 0.">Zero gets 0.\nExpected: &quot;0&quot;\nActual: &quot;7&quot;<\/failure>/,
  );
});
