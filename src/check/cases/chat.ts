/**
 * Conformance cases for the chat service (write-up 004): delivery to every
 * other client and not the sender, order per sender, survival of clients
 * that vanish. They hold for a named server (socklab's default, ncat's chat
 * mode) and a raw relay (the write-up's server, `--raw`) alike: a message
 * counts as delivered when its text arrives, whatever surrounds it.
 *
 * @module
 */
import type { CaseContext, CheckCase, Verdict } from "../types.ts";
import { fail, PASS } from "../types.ts";
import type { Probe } from "../probe.ts";
import { escapeText } from "../../net/escape.ts";

/** A connected chat client that keeps everything it has received. */
class Member {
  readonly probe: Probe;
  received = "";
  #closed = false;

  constructor(probe: Probe) {
    this.probe = probe;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Reads until `text` has arrived (true) or `ms` ran out / the server closed (false). */
  async waitFor(text: string, ms: number): Promise<boolean> {
    const until = performance.now() + ms;
    while (!this.received.includes(text)) {
      const left = until - performance.now();
      if (left <= 0 || this.#closed) return false;
      const outcome = await this.probe.read(left);
      if (outcome.kind === "message") this.received += outcome.text + "\n";
      else if (outcome.kind !== "timeout") this.#closed = true;
    }
    return true;
  }

  /** Reads whatever arrives within `ms`. */
  async drain(ms: number): Promise<void> {
    await this.waitFor("\u0000never\u0000", ms);
  }
}

let counter = 0;
/** A word no chat would produce by chance. */
function marker(what: string): string {
  counter++;
  return `${what}-${Date.now().toString(36)}-${counter}`;
}

/**
 * Connects `count` members and makes sure the server relays between them:
 * the first sends a marker until every other member has seen one (a server
 * may register a client a moment after accepting it).
 */
async function room(context: CaseContext, count: number): Promise<Member[] | Verdict> {
  const members: Member[] = [];
  for (let i = 0; i < count; i++) members.push(new Member(await context.connect()));
  const [first, ...others] = members;
  for (let attempt = 0; attempt < 10; attempt++) {
    const sync = marker("sync");
    await first.probe.send(sync + "\n");
    const seen = await Promise.all(
      others.map((m) => m.waitFor(sync, Math.min(200 * (attempt + 1), context.remainingMs() / 2))),
    );
    if (seen.every(Boolean)) {
      // Let any straggling copies of earlier markers arrive before the case proper.
      await Promise.all(members.map((m) => m.drain(60)));
      for (const m of members) m.received = "";
      return members;
    }
    if (context.remainingMs() < 300) break;
  }
  return fail(
    `a line from client 1 reaching the ${count - 1} other clients`,
    "it did not reach them all, even after several tries",
  );
}

function isVerdict(value: Member[] | Verdict): value is Verdict {
  return !Array.isArray(value);
}

/** Sends `text` from `from`; every other member must receive it within the case's time. */
async function expectDelivery(
  context: CaseContext,
  members: Member[],
  from: number,
  text: string,
  terminator = "\n",
): Promise<Verdict> {
  await members[from].probe.send(text + terminator);
  const others = members.filter((_, i) => i !== from);
  const seen = await Promise.all(others.map((m) => m.waitFor(text, context.remainingMs() - 100)));
  const missing = seen.flatMap((ok, i) => ok ? [] : [i < from ? i + 1 : i + 2]);
  if (missing.length > 0) {
    return fail(
      `${escapeText(text)} delivered to every other client`,
      `client(s) ${missing.join(", ")} did not receive it`,
    );
  }
  return PASS;
}

/** Every chat case. */
export const CHAT_CASES: readonly CheckCase[] = [
  {
    id: "chat/delivery/every-other-client",
    requirement: "A line one client sends reaches every other connected client.",
    run: async (context) => {
      const members = await room(context, 3);
      if (isVerdict(members)) return members;
      return await expectDelivery(context, members, 0, marker("hello"));
    },
  },
  {
    id: "chat/delivery/not-the-sender",
    requirement: "A client's own line is not sent back to it.",
    run: async (context) => {
      const members = await room(context, 2);
      if (isVerdict(members)) return members;
      const text = marker("echo");
      const delivered = await expectDelivery(context, members, 0, text);
      if (delivered.status !== "passed") return delivered;
      await members[0].drain(Math.min(300, context.remainingMs()));
      return members[0].received.includes(text)
        ? fail("nothing back to the sender", `the sender received ${escapeText(text)}`)
        : PASS;
    },
  },
  {
    id: "chat/delivery/no-newline",
    requirement:
      "A line sent in one send() with no newline (the write-up's client) is relayed too.",
    run: async (context) => {
      const members = await room(context, 2);
      if (isVerdict(members)) return members;
      return await expectDelivery(context, members, 0, marker("bare"), "");
    },
  },
  {
    id: "chat/delivery/every-sender",
    requirement: "Every client can send: a line from each of three clients reaches the other two.",
    run: async (context) => {
      const members = await room(context, 3);
      if (isVerdict(members)) return members;
      for (let from = 0; from < 3; from++) {
        const verdict = await expectDelivery(context, members, from, marker(`from${from + 1}`));
        if (verdict.status !== "passed") {
          return { ...verdict, reason: `sent by client ${from + 1}` };
        }
      }
      return PASS;
    },
  },
  {
    id: "chat/order/per-sender",
    requirement: "Lines from one sender arrive in the order they were sent.",
    run: async (context) => {
      const members = await room(context, 2);
      if (isVerdict(members)) return members;
      const base = marker("seq");
      const lines = Array.from({ length: 20 }, (_, i) => `${base}-${String(i).padStart(2, "0")}`);
      for (const line of lines) await members[0].probe.send(line + "\n");
      if (!await members[1].waitFor(lines.at(-1)!, context.remainingMs() - 100)) {
        return fail("all 20 lines delivered", `${countOf(members[1].received, base)} arrived`);
      }
      const order = [...members[1].received.matchAll(new RegExp(`${base}-(\\d\\d)`, "g"))]
        .map((m) => Number(m[1]));
      const expected = lines.map((_, i) => i);
      return order.join(",") === expected.join(",")
        ? PASS
        : fail(expected.join(","), order.join(","));
    },
  },
  {
    id: "chat/concurrency/many-clients",
    requirement: "With ten clients connected, a line reaches all nine others.",
    run: async (context) => {
      const members = await room(context, 10);
      if (isVerdict(members)) return members;
      return await expectDelivery(context, members, 0, marker("ten"));
    },
  },
  {
    id: "chat/survival/abrupt-disconnect",
    phase: "hostile",
    requirement:
      "A client that disconnects abruptly, mid-line, does not stop the others from chatting.",
    run: async (context) => {
      const members = await room(context, 3);
      if (isVerdict(members)) return members;
      await members[2].probe.send("half a li");
      await members[2].probe.close();
      // Give the server time to notice the close (a leave notice may come), then chat on.
      await Promise.all(
        members.slice(0, 2).map((m) => m.drain(Math.min(250, context.remainingMs() / 3))),
      );
      return await expectDelivery(context, members.slice(0, 2), 0, marker("after"));
    },
  },
  {
    id: "chat/survival/silent-client",
    phase: "hostile",
    requirement: "A client that connects and never reads does not delay the others.",
    run: async (context) => {
      await context.connect(); // connected, never read from
      const members = await room(context, 2);
      if (isVerdict(members)) return members;
      return await expectDelivery(context, members, 0, marker("busy"));
    },
  },
];

function countOf(text: string, base: string): number {
  return text.split(base).length - 1;
}
