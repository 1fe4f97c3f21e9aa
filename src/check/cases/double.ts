/**
 * Conformance cases for the double service (write-up 000). One table, used
 * by `socklab check double` and by socklab's own test suite.
 *
 * @module
 */
import {
  doubleReply,
  INVALID_INTEGER_REPLY,
  INVALID_INTEGER_REPLY_CODE,
  MAX_INTEGER_DIGITS,
} from "../../protocol/double.ts";
import { type CaseContext, type CheckCase, fail, PASS, type Verdict } from "../types.ts";
import { ask, describeOutcome, show } from "./_common.ts";
import type { ReadOutcome } from "../probe.ts";

const encoder = new TextEncoder();

function expectedFor(request: string | Uint8Array): string {
  return doubleReply(typeof request === "string" ? encoder.encode(request) : request);
}

/** Judges a reply to a double request: the value must match; `--strict` also checks the bytes. */
function judge(
  context: CaseContext,
  request: string | Uint8Array,
  outcome: ReadOutcome,
  exactTerminator: "lf" | "crlf" | "none" | null,
): Verdict {
  const expected = expectedFor(request);
  const accepted = expected === INVALID_INTEGER_REPLY
    ? [INVALID_INTEGER_REPLY, INVALID_INTEGER_REPLY_CODE]
    : [expected];
  const expectedText = accepted.map(show).join(" or ");
  if (outcome.kind !== "message") return fail(expectedText, describeOutcome(outcome));
  const text = outcome.text;
  if (!accepted.includes(text.trim())) {
    const verdict = fail(expectedText, describeOutcome(outcome));
    const got = text.trim();
    if (got.length > 60 && expected.length > 60) {
      let at = 0;
      while (at < got.length && got[at] === expected[at]) at++;
      verdict.reason = `the reply is ${got.length} bytes, the expected one ${expected.length}; ` +
        `they differ from byte ${at} on (was the request read whole?)`;
    }
    return verdict;
  }
  if (context.strict && exactTerminator !== null) {
    const exact = text === text.trim() && outcome.message.terminator === exactTerminator;
    if (!exact) {
      const tail = { lf: "\n", crlf: "\r\n", none: "" }[exactTerminator];
      return fail(`${show(text.trim() + tail)} exactly`, describeOutcome(outcome));
    }
  }
  return PASS;
}

/** A case that sends one request on a fresh connection and judges the reply. */
function answerCase(
  id: string,
  requirement: string,
  request: string | Uint8Array,
  phase: CheckCase["phase"] = "normal",
): CheckCase {
  return {
    id,
    requirement,
    phase,
    run: async (context) =>
      judge(context, request, await ask(context, request), terminatorOf(request)),
  };
}

/** How a request ends, so a strict check knows how its reply must end. */
function terminatorOf(request: string | Uint8Array): "lf" | "crlf" | "none" {
  const bytes = typeof request === "string" ? encoder.encode(request) : request;
  if (bytes.at(-1) !== 10) return "none";
  return bytes.at(-2) === 13 ? "crlf" : "lf";
}

const BIG = "9".repeat(MAX_INTEGER_DIGITS);

/** Every double case, in the order they are listed. */
export const DOUBLE_CASES: readonly CheckCase[] = [
  answerCase(
    "double/answer/positive",
    "A positive integer gets twice its value.",
    "21",
  ),
  answerCase("double/answer/negative", "A negative integer gets twice its value.", "-5"),
  answerCase("double/answer/zero", "Zero gets 0.", "0"),
  answerCase(
    "double/answer/python-forms",
    "Surrounding whitespace, a sign and single underscores are accepted, as Python's int() does.",
    " +1_000 ",
  ),
  answerCase(
    "double/answer/big",
    "Integers beyond 64 bits are doubled exactly (no floating point).",
    "123456789012345678901234567890",
  ),
  answerCase(
    "double/answer/4300-digits",
    "An integer of 4300 digits (Python's limit) is doubled exactly.",
    BIG,
  ),
  answerCase(
    "double/invalid/text",
    "Text that is not an integer gets `Received data is not a valid integer`.",
    "abc",
  ),
  answerCase(
    "double/invalid/float",
    "A decimal fraction is not an integer.",
    "1.5",
  ),
  answerCase(
    "double/invalid/empty-line",
    "An empty line is not an integer.",
    "\n",
  ),
  answerCase(
    "double/invalid/4301-digits",
    "More than 4300 digits is refused with the invalid-integer reply.",
    BIG + "9",
  ),
  {
    id: "double/framing/no-newline",
    requirement:
      "A request sent in one send() with no newline is answered without waiting for more (the classroom client).",
    run: async (context) => judge(context, "21", await ask(context, "21"), "none"),
  },
  {
    id: "double/framing/lf",
    requirement: "A request ending in LF is answered; the reply ends in LF (nc users get lines).",
    run: async (context) => judge(context, "21\n", await ask(context, "21\n"), "lf"),
  },
  {
    id: "double/framing/crlf",
    requirement: "A request ending in CRLF is answered; the reply ends in CRLF (telnet).",
    run: async (context) => judge(context, "21\r\n", await ask(context, "21\r\n"), "crlf"),
  },
  {
    id: "double/framing/exact-bytes",
    strictOnly: true,
    requirement: "The reply to `21` sent with no newline is exactly `42`, nothing more.",
    run: async (context) => {
      const probe = await context.connect();
      await probe.send("21");
      const outcome = await probe.read();
      if (
        outcome.kind !== "message" || outcome.text !== "42" || outcome.message.terminator !== "none"
      ) {
        return fail(show("42"), describeOutcome(outcome));
      }
      // Nothing may follow: wait a moment for stray bytes.
      const extra = await probe.read(Math.min(200, context.remainingMs()));
      if (extra.kind === "message") return fail(show("42"), show("42" + extra.text));
      return PASS;
    },
  },
  {
    id: "double/connection/several-requests",
    requirement: "One connection carries several requests, each answered in order.",
    run: async (context) => {
      const probe = await context.connect();
      for (const n of ["1", "2", "3"]) {
        await probe.send(n + "\n");
        const outcome = await probe.read();
        const verdict = judge(context, n, outcome, null);
        if (verdict.status !== "passed") {
          return { ...verdict, reason: `request ${n} of 3 on the same connection` };
        }
      }
      return PASS;
    },
  },
  {
    id: "double/connection/pipelined",
    requirement: "Requests sent together in one write are each answered, in order.",
    run: async (context) => {
      const probe = await context.connect();
      await probe.send("1\n2\n3\n");
      const replies: string[] = [];
      for (let i = 0; i < 3; i++) {
        const outcome = await probe.read();
        if (outcome.kind !== "message") {
          return fail(
            show("2\n4\n6\n"),
            `${show(replies.join(""))} then ${describeOutcome(outcome)}`,
          );
        }
        replies.push(outcome.text.trim() + "\n");
      }
      return replies.join("") === "2\n4\n6\n"
        ? PASS
        : fail(show("2\n4\n6\n"), show(replies.join("")));
    },
  },
  {
    id: "double/concurrency/many-clients",
    requirement: "Ten clients connecting and sending at the same moment are all answered.",
    run: async (context) => {
      const outcomes = await Promise.all(Array.from({ length: 10 }, async (_, i) => {
        const probe = await context.connect();
        await probe.send(String(i));
        return await probe.read();
      }));
      for (const [i, outcome] of outcomes.entries()) {
        const verdict = judge(context, String(i), outcome, null);
        if (verdict.status !== "passed") return { ...verdict, reason: `client ${i + 1} of 10` };
      }
      return PASS;
    },
  },
  answerCase(
    "double/hostile/not-utf8",
    "Bytes that are not UTF-8 get the invalid-integer reply; the server does not crash.",
    new Uint8Array([0x31, 0xff, 0xfe, 0x32]),
    "hostile",
  ),
  answerCase(
    "double/hostile/nul-bytes",
    "NUL bytes get the invalid-integer reply.",
    new Uint8Array([0x32, 0x00, 0x31]),
    "hostile",
  ),
  {
    id: "double/hostile/abrupt-close",
    phase: "hostile",
    requirement: "A client that sends half a request and vanishes does not disturb the server.",
    run: async (context) => {
      const gone = await context.connect();
      await gone.send("12");
      await gone.close();
      return judge(context, "21", await ask(context, "21"), null);
    },
  },
  {
    id: "double/concurrency/idle-client",
    phase: "hostile",
    requirement:
      "A client that connects and sends nothing does not stop others from being served (the classic failure of a sequential server).",
    run: async (context) => {
      const idle = await context.connect();
      void idle; // stays open and silent until the case ends
      const outcome = await ask(context, "21");
      return judge(context, "21", outcome, null);
    },
  },
  {
    id: "double/hostile/still-answering",
    phase: "hostile",
    requirement: "After all the bad input above, the server still answers correctly.",
    run: async (context) => judge(context, "21", await ask(context, "21"), null),
  },
];
