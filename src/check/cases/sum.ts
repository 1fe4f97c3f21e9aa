/**
 * Conformance cases for the sum service (write-ups 001 and 003), both
 * dialects. One table, used by `socklab check sum` and socklab's own tests.
 *
 * @module
 */
import {
  formatSumReply,
  formatSumRequest,
  isInSumRange,
  parseSumReply,
  SUM_DIALECTS,
  type SumDialect,
} from "../../protocol/sum.ts";
import { type CaseContext, type CheckCase, fail, PASS, skip, type Verdict } from "../types.ts";
import type { Probe, ReadOutcome } from "../probe.ts";
import { describeOutcome, show } from "./_common.ts";

const CLIENT_NAME = "Client of socklab check";
const DIALECT_NAMES: Record<SumDialect, string> = { text: "NAME;NUMBER", json: "JSON" };

function request(dialect: SumDialect, number: number | string, name = CLIENT_NAME): string {
  if (typeof number === "string") {
    return dialect === "text"
      ? `${name};${number}`
      : `{"client_name": ${JSON.stringify(name)}, "client_number": ${number}}`;
  }
  return formatSumRequest({ name, number }, dialect);
}

/** A reply must parse, in the request's dialect, with a server number in 1..100. */
function judgeReply(context: CaseContext, dialect: SumDialect, outcome: ReadOutcome): Verdict {
  const expected = dialect === "text"
    ? '"SERVERNAME;N" with N in 1..100'
    : '{"server_name": …, "server_number": N} with N in 1..100';
  if (outcome.kind !== "message") return fail(expected, describeOutcome(outcome));
  const parsed = parseSumReply(outcome.message.bytes);
  if (!parsed.ok) return { ...fail(expected, describeOutcome(outcome)), reason: parsed.reason };
  if (parsed.message.dialect !== dialect) {
    return {
      ...fail(expected, describeOutcome(outcome)),
      reason: `a ${parsed.message.dialect} reply to a ${dialect} request`,
    };
  }
  if (!isInSumRange(parsed.message.number)) {
    return {
      ...fail(expected, describeOutcome(outcome)),
      reason: `server number ${parsed.message.number} is outside 1..100`,
    };
  }
  if (context.strict) {
    // Classroom-exact: no terminator after a no-newline request, and the exact form.
    const { name, number } = parsed.message;
    const exact = formatSumReply(parsed.message, dialect);
    const allowed = dialect === "json" ? [exact] : [exact, `${name}; ${number}`];
    const actual = new TextDecoder().decode(outcome.message.bytes);
    if (outcome.message.terminator !== "none" || !allowed.includes(actual)) {
      return fail(`${show(exact)} exactly`, describeOutcome(outcome));
    }
  }
  return PASS;
}

async function exchange(
  context: CaseContext,
  text: string,
): Promise<{ probe: Probe; outcome: ReadOutcome }> {
  const probe = await context.connect();
  await probe.send(text);
  return { probe, outcome: await probe.read() };
}

/** The server must close without replying (out of range, malformed). */
async function expectNoReply(probe: Probe, context: CaseContext): Promise<Verdict> {
  const after = await probe.expectClose(context.remainingMs());
  if (after.kind === "closed") return PASS;
  if (after.kind === "replied") {
    return fail("no reply, and the connection closed", show(after.text));
  }
  return fail("no reply, and the connection closed", "the connection stayed open");
}

function dialectCases(dialect: SumDialect): CheckCase[] {
  const id = (rest: string) => `sum/${dialect}/${rest}`;
  const form = DIALECT_NAMES[dialect];
  // The strict byte checks are the classroom's: they apply to requests sent with no newline.
  const answer = (number: number, terminator = "") => async (context: CaseContext) =>
    judgeReply(
      { ...context, strict: context.strict && terminator === "" },
      dialect,
      (await exchange(context, request(dialect, number) + terminator)).outcome,
    );
  const noReply = (text: string) => async (context: CaseContext) => {
    const probe = await context.connect();
    await probe.send(text);
    return await expectNoReply(probe, context);
  };
  const outOfRange = (number: number) => async (context: CaseContext): Promise<Verdict> => {
    let probe: Probe;
    try {
      probe = await context.connect();
    } catch (error) {
      if (context.shared.stoppedAfterOutOfRange) {
        return skip(
          "the server stopped after an earlier out-of-range number, as the write-ups intend",
        );
      }
      throw error;
    }
    await probe.send(request(dialect, number));
    const verdict = await expectNoReply(probe, context);
    if (verdict.status === "passed") context.shared.stoppedAfterOutOfRange = true;
    return verdict;
  };
  return [
    {
      id: id("answer"),
      dialect,
      requirement:
        `A ${form} request with a number in 1..100, sent with no newline, gets the server's name and a number in 1..100 in the same dialect.`,
      run: answer(25),
    },
    {
      id: id("framing/lf"),
      dialect,
      requirement: `A ${form} request ending in LF is answered too.`,
      run: answer(25, "\n"),
    },
    {
      id: id("range/lower-bound"),
      dialect,
      requirement: "1 is in range and gets a reply.",
      run: answer(1),
    },
    {
      id: id("range/upper-bound"),
      dialect,
      requirement: "100 is in range and gets a reply.",
      run: answer(100),
    },
    {
      id: id("connection/closes-after-reply"),
      dialect,
      requirement: "After its reply the server closes the connection: one exchange per connection.",
      run: async (context) => {
        const { probe, outcome } = await exchange(context, request(dialect, 25));
        const verdict = judgeReply({ ...context, strict: false }, dialect, outcome);
        if (verdict.status !== "passed") return verdict;
        return await expectNoReply(probe, context);
      },
    },
    {
      id: id("exact-bytes"),
      dialect,
      strictOnly: true,
      requirement: dialect === "text"
        ? "The reply is exactly NAME;NUMBER (or NAME; NUMBER), with no newline."
        : 'The reply is exactly Python\'s json.dumps form {"server_name": "…", "server_number": N}, with no newline.',
      run: answer(25),
    },
    {
      id: id("malformed/" + (dialect === "text" ? "no-semicolon" : "not-json")),
      dialect,
      phase: "hostile",
      requirement: "A malformed request gets no reply, and the connection is closed.",
      run: noReply(
        dialect === "text" ? `${CLIENT_NAME} 25` : `{"client_name": "${CLIENT_NAME}", 25`,
      ),
    },
    {
      id: id("malformed/" + (dialect === "text" ? "not-an-integer" : "missing-key")),
      dialect,
      phase: "hostile",
      requirement:
        "A request whose number is missing or not an integer gets no reply, and the connection is closed.",
      run: noReply(
        dialect === "text" ? `${CLIENT_NAME};twenty` : `{"client_name": "${CLIENT_NAME}"}`,
      ),
    },
    {
      id: id("range/zero"),
      dialect,
      phase: "destructive",
      requirement:
        "0 is out of range: no reply, and the connection is closed (the server may then stop).",
      run: outOfRange(0),
    },
    {
      id: id("range/101"),
      dialect,
      phase: "destructive",
      requirement:
        "101 is out of range: no reply, and the connection is closed (the server may then stop).",
      run: outOfRange(101),
    },
  ];
}

const anyDialect = (context: CaseContext): SumDialect => (context.dialect as SumDialect) ?? "text";

/** Every sum case: each dialect's, then those that do not depend on the dialect. */
export const SUM_CASES: readonly CheckCase[] = [
  ...SUM_DIALECTS.flatMap(dialectCases),
  {
    id: "sum/concurrency/many-clients",
    requirement: "Ten clients connecting and sending at the same moment are all answered.",
    run: async (context) => {
      const dialect = anyDialect(context);
      const outcomes = await Promise.all(
        Array.from(
          { length: 10 },
          async () => (await exchange(context, request(dialect, 25))).outcome,
        ),
      );
      for (const [i, outcome] of outcomes.entries()) {
        const verdict = judgeReply({ ...context, strict: false }, dialect, outcome);
        if (verdict.status !== "passed") {
          return {
            ...verdict,
            reason: `client ${i + 1} of 10${verdict.reason ? `: ${verdict.reason}` : ""}`,
          };
        }
      }
      return PASS;
    },
  },
  {
    id: "sum/hostile/not-utf8",
    phase: "hostile",
    requirement: "Bytes that are not UTF-8 get no reply and a close; the server does not crash.",
    run: async (context) => {
      const probe = await context.connect();
      await probe.send(new Uint8Array([0x41, 0xff, 0x3b, 0x32, 0x35]));
      return await expectNoReply(probe, context);
    },
  },
  {
    id: "sum/concurrency/idle-client",
    phase: "hostile",
    requirement:
      "A client that connects and sends nothing does not stop others from being served (the classic failure of a sequential server).",
    run: async (context) => {
      await context.connect(); // stays open and silent until the case ends
      const dialect = anyDialect(context);
      return judgeReply(
        { ...context, strict: false },
        dialect,
        (await exchange(context, request(dialect, 25))).outcome,
      );
    },
  },
  {
    id: "sum/hostile/still-answering",
    phase: "hostile",
    requirement: "After all the bad input above, the server still answers correctly.",
    run: async (context) => {
      const dialect = anyDialect(context);
      return judgeReply(
        { ...context, strict: false },
        dialect,
        (await exchange(context, request(dialect, 25))).outcome,
      );
    },
  },
];
