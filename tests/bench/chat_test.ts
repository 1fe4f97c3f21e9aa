import { deepEqual, equal, match, ok, rejects } from "node:assert/strict";
import { type Peer, serve, type Service } from "../../src/net/server.ts";
import { doubleService } from "../../src/server/double.ts";
import fc from "fast-check";
import {
  type ChatLine,
  decodeChatLine,
  encodeChatLine,
  MAX_CHAT_LINE_BYTES,
  runChat,
} from "../../src/bench/chat.ts";
import type { BenchResult } from "../../src/bench/aggregator.ts";
import { formatText } from "../../src/bench/printer.ts";
import { deadline, runSocklab } from "../_helpers.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();

/**
 * A minimal chat relay on Deno.listen: every line goes to every other client,
 * through `transform` (which sees test lines only, numbered from 0; null
 * drops one).
 */
class Relay implements AsyncDisposable {
  readonly #listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  readonly #conns = new Set<Deno.TcpConn>();
  readonly #tasks: Promise<void>[] = [];
  readonly #tails = new Map<Deno.TcpConn, Promise<void>>();
  readonly #accepting: Promise<void>;
  readonly #transform: (line: string, n: number) => string | null;
  #n = 0;

  constructor(transform: (line: string, n: number) => string | null = (l) => `${l}\n`) {
    this.#transform = transform;
    this.#accepting = this.#accept();
  }

  get port(): number {
    return this.#listener.addr.port;
  }

  async #accept(): Promise<void> {
    try {
      for await (const conn of this.#listener) {
        this.#conns.add(conn);
        this.#tasks.push(this.#serve(conn));
      }
    } catch { /* closed */ }
  }

  async #serve(conn: Deno.TcpConn): Promise<void> {
    const buf = new Uint8Array(16 * 1024);
    const text = new TextDecoder();
    let pending = "";
    try {
      while (true) {
        const n = await conn.read(buf);
        if (n === null) break;
        pending += text.decode(buf.subarray(0, n), { stream: true });
        for (let lf = pending.indexOf("\n"); lf !== -1; lf = pending.indexOf("\n")) {
          const line = pending.slice(0, lf);
          pending = pending.slice(lf + 1);
          const out = line.startsWith("sbjoin") ? `${line}\n` : this.#transform(line, this.#n++);
          if (out === null) continue;
          const bytes = encoder.encode(out);
          for (const other of this.#conns) if (other !== conn) this.#write(other, bytes);
        }
      }
    } catch { /* reset or closed */ }
    this.#conns.delete(conn);
    try {
      conn.close();
    } catch { /* already closed */ }
  }

  /** Writes in order per connection. */
  #write(conn: Deno.TcpConn, bytes: Uint8Array): void {
    const tail = (this.#tails.get(conn) ?? Promise.resolve()).then(async () => {
      let offset = 0;
      while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
    }).catch(() => {});
    this.#tails.set(conn, tail);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    this.#listener.close();
    await this.#accepting;
    for (const conn of this.#conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await Promise.all(this.#tasks);
    await Promise.all(this.#tails.values());
  }
}

const line = (sender: number, sequence: number, timeUs: number) => {
  const buffer = new Uint8Array(MAX_CHAT_LINE_BYTES);
  const end = encodeChatLine(buffer, 0, { sender, sequence, timeUs });
  return decoder.decode(buffer.subarray(0, end - 1)); // without its newline
};

Deno.test("decodeChatLine() reads back what encodeChatLine() wrote, whatever the prefix (property)", () => {
  fc.assert(
    fc.property(
      fc.nat({ max: 10_000 }),
      fc.nat({ max: 10_000_000 }),
      fc.nat({ max: 2 ** 40 }),
      fc.constantFrom("", "<user5> ", "Message received: ", "Server: "),
      (sender, sequence, timeUs, prefix) => {
        const out: ChatLine = { sender: -1, sequence: -1, timeUs: -1 };
        const verdict = decodeChatLine(
          encoder.encode(prefix + line(sender, sequence, timeUs)),
          out,
        );
        return verdict === "ok" && out.sender === sender && out.sequence === sequence &&
          out.timeUs === timeUs;
      },
    ),
  );
});

Deno.test("decodeChatLine() calls any changed digit corrupted (property)", () => {
  fc.assert(
    fc.property(
      fc.nat({ max: 1000 }),
      fc.nat({ max: 1_000_000 }),
      fc.nat({ max: 2 ** 36 }),
      fc.nat(),
      fc.integer({ min: 1, max: 9 }),
      (sender, sequence, timeUs, where, shift) => {
        const text = line(sender, sequence, timeUs);
        const digits = [...text].flatMap((c, i) => i >= 4 && /\d/.test(c) ? [i] : []);
        const at = digits[where % digits.length];
        const changed = text.slice(0, at) + String((Number(text[at]) + shift) % 10) +
          text.slice(at + 1);
        const out: ChatLine = { sender: 0, sequence: 0, timeUs: 0 };
        return decodeChatLine(encoder.encode(changed), out) === "corrupted";
      },
    ),
  );
});

Deno.test("decodeChatLine() tells merged lines and notices apart", () => {
  const out: ChatLine = { sender: 0, sequence: 0, timeUs: 0 };
  equal(decodeChatLine(encoder.encode(line(1, 2, 3) + line(1, 3, 4)), out), "merged");
  equal(
    decodeChatLine(encoder.encode("<announce> 127.0.0.1 is connected as <user5>."), out),
    "none",
  );
  equal(decodeChatLine(encoder.encode(`${line(1, 2, 3)} tail`), out), "corrupted");
});

async function chatRun(relay: Relay, receivers = 6, senders = 2): Promise<BenchResult> {
  await using _relay = relay;
  return await deadline(
    runChat({
      target: { hostname: "127.0.0.1", port: relay.port },
      receivers,
      senders,
      rate: 200,
      durationMs: 300,
      warmupMs: 50,
    }).done,
    10_000,
    "the chat run",
  );
}

Deno.test("runChat() counts every delivery through a faithful relay, and loses nothing", async () => {
  const result = await chatRun(new Relay());
  equal(result.errors, 0, JSON.stringify(result.errorKinds));
  const extra = result.extra!;
  ok(extra.sent >= 2 * 60, `only ${extra.sent} lines sent`);
  equal(extra.expected, extra.sent * 6);
  equal(extra.delivered, extra.expected);
  deepEqual([extra.lost, extra.merged, extra.corrupted, extra.duplicated], [0, 0, 0, 0]);
  equal(result.completed + result.warmupCompleted, extra.delivered);
  equal(result.unit, "deliveries");
  ok(result.latency.count > 0 && result.latency.p99Ms < 1000, `p99 ${result.latency.p99Ms}`);
  match(formatText(result), /Deliveries {3}[\d,]+ of [\d,]+: 0 lost, 0 merged/);
});

Deno.test("runChat() counts the lines a relay drops as lost", async () => {
  const result = await chatRun(new Relay((l, n) => n % 7 === 3 ? null : `${l}\n`), 3, 2);
  const extra = result.extra!;
  ok(extra.lost > 0);
  equal(extra.lost, extra.expected - extra.delivered);
  equal(result.errorKinds.find((e) => e.kind === "lost-line")?.count, extra.lost);
});

Deno.test("runChat() catches lines a relay merges or garbles, as ncat's chat mode can", async () => {
  // Every 5th line is cut in two with a prefix on each piece; every 4th loses its newline.
  const garble = (l: string, n: number) =>
    n % 5 === 0
      ? `<user1> ${l.slice(0, 9)}<user1> ${l.slice(9)}\n`
      : n % 4 === 1
      ? l
      : `<user1> ${l}\n`;
  const result = await chatRun(new Relay(garble), 3, 2);
  const extra = result.extra!;
  ok(extra.corrupted > 0, JSON.stringify(result.errorKinds));
  ok(extra.merged > 0, JSON.stringify(result.errorKinds));
  ok(result.errors > 0);
});

Deno.test("socklab bench chat drives a relay from the command line", async () => {
  await using relay = new Relay();
  const result = await runSocklab([
    "bench",
    "chat",
    `127.0.0.1:${relay.port}`,
    "--receivers",
    "4",
    "--senders",
    "2",
    "--rate",
    "100",
    "-d",
    "200ms",
    "--warmup",
    "0",
  ]);
  equal(result.code, 0, result.stderr);
  match(result.stdout, /fan-out, 2 senders at 100 lines\/s each to 4 receivers/);
  match(result.stdout, /0 lost, 0 merged, 0 corrupted, 0 duplicated/);
});

Deno.test("runChat() says so when the server is not a relay", async () => {
  // A double server answers the join line to its sender and never passes it on.
  await using server = serve(doubleService(), { port: 0 });
  await rejects(
    runChat({
      target: { hostname: "127.0.0.1", port: server.addr.port },
      receivers: 2,
      senders: 1,
      durationMs: 100,
      timeoutMs: 300,
    }).done,
    /only 0 of 2 receivers got a line within 300 ms: is it a chat relay\?/,
  );
});

Deno.test("runChat() names the server that closes every connection at once", async () => {
  using listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const closing = (async () => {
    for await (const conn of listener) conn.close();
  })().catch(() => {});
  const address = `127.0.0.1:${listener.addr.port}`;
  await rejects(
    runChat({
      target: { hostname: "127.0.0.1", port: listener.addr.port },
      receivers: 2,
      senders: 1,
      durationMs: 100,
      timeoutMs: 3_000,
    }).done,
    (error: Error) => error.message.includes(address),
  );
  listener.close();
  await closing;
});

Deno.test("runChat() reports a receiver the relay cuts mid-line as closed and cut, not corrupted", async () => {
  // A relay that, at the 20th test line, sends its first receiver half of it and ends it.
  const peers = new Set<Peer>();
  let lines = 0;
  const cutter: Service = {
    name: "cutter",
    open(peer) {
      peers.add(peer);
      return {
        message(bytes) {
          const text = decoder.decode(bytes);
          const cut = text.startsWith("sb1") && ++lines === 20;
          const victim = cut ? [...peers][0] : undefined;
          for (const other of peers) {
            if (other === peer) continue;
            if (other !== victim) other.sendText(`${text}\n`);
            else {
              other.sendText(text.slice(0, 9));
              other.end();
              peers.delete(other);
            }
          }
        },
        closed: () => peers.delete(peer),
      };
    },
  };
  await using server = serve(cutter, { port: 0 });
  const result = await deadline(
    runChat({
      target: { hostname: "127.0.0.1", port: server.addr.port },
      receivers: 3,
      senders: 2,
      rate: 200,
      durationMs: 300,
    }).done,
    10_000,
    "the chat run",
  );
  const kinds = new Map(result.errorKinds.map((e) => [e.kind, e]));
  equal(kinds.get("receiver-closed")?.count, 1, JSON.stringify(result.errorKinds));
  match(kinds.get("cut-line")?.example ?? "", /closed in the middle of a line: "sb1 [\d ]+"$/);
  ok(!kinds.has("corrupted-line") && !kinds.has("merged-lines"));
  ok(result.extra!.lost > 0);
  equal(result.extra!.corrupted, 0);
});
