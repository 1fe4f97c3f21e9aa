import { deepEqual, match } from "node:assert/strict";
import { type Peer, serve, type Service } from "../../src/net/server.ts";
import { ChatService } from "../../src/server/chat.ts";
import { CHAT_CASES } from "../../src/check/cases/chat.ts";
import { type CheckReport, runChecks } from "../../src/check/runner.ts";
import { formatText } from "../../src/check/report.ts";

async function check(service: Service, only?: string[]): Promise<CheckReport> {
  await using server = serve(service, { port: 0, lingerMs: 100 });
  return await runChecks("chat", { hostname: "127.0.0.1", port: server.addr.port }, CHAT_CASES, {
    timeoutMs: 2500,
    only,
  });
}

const failedIds = (report: CheckReport) =>
  report.results.filter((r) => r.status === "failed").map((r) => r.id);

/** A raw relay whose `deliver` decides who gets each chunk. */
function relay(deliver: (peers: Peer[], from: Peer) => Peer[]): Service {
  const peers: Peer[] = [];
  return {
    name: "relay",
    framing: "raw",
    open(peer) {
      peers.push(peer);
      return {
        chunk(bytes) {
          for (const to of deliver(peers, peer)) to.send(bytes);
        },
        closed() {
          peers.splice(peers.indexOf(peer), 1);
        },
      };
    },
  };
}

Deno.test("socklab's chat server passes every chat case, named and raw", async () => {
  for (const raw of [false, true]) {
    const report = await check(new ChatService({ raw }));
    deepEqual(failedIds(report), [], formatText(report));
  }
});

Deno.test("check chat catches a relay that echoes to the sender", async () => {
  const report = await check(relay((peers) => peers), ["chat/delivery/*"]);
  deepEqual(failedIds(report), ["chat/delivery/not-the-sender"]);
  match(formatText(report), /Actual: the sender received "echo-/);
});

Deno.test("check chat catches a relay that only reaches the newest client", async () => {
  const report = await check(
    relay((peers, from) => peers.filter((p) => p !== from).slice(-1)),
    ["chat/delivery/every-other-client"],
  );
  deepEqual(failedIds(report), ["chat/delivery/every-other-client"]);
});

Deno.test("check chat catches a relay that stops after a client vanishes", async () => {
  let broken = false;
  const inner = relay((peers, from) => broken ? [] : peers.filter((p) => p !== from));
  const service: Service = {
    ...inner,
    open(peer) {
      const session = inner.open(peer);
      return {
        ...session,
        closed() {
          broken = true; // as a server whose broadcast loop dies on a dead socket
          session.closed?.();
        },
      };
    },
  };
  const report = await check(service, ["chat/survival/abrupt-disconnect"]);
  deepEqual(failedIds(report), ["chat/survival/abrupt-disconnect"]);
});
