/**
 * Conformance cases for the random service (write-up 002). One table, used
 * by `socklab check random` and socklab's own tests.
 *
 * @module
 */
import { DEFAULT_RANDOM_OPTIONS, parseRandomReply } from "../../protocol/random.ts";
import { escapeBytes } from "../../net/escape.ts";
import { type CaseContext, type CheckCase, fail, PASS, type Verdict } from "../types.ts";

const { count: COUNT, min: MIN, max: MAX } = DEFAULT_RANDOM_OPTIONS;
const EXPECTED = `${COUNT} integers in ${MIN}..${MAX} joined by "," and then a close`;

type Fetched = { ok: true; bytes: Uint8Array; numbers: number[]; newline: boolean } | {
  ok: false;
  verdict: Verdict;
};

/** Connects, optionally sends something first, reads everything until the server closes. */
async function fetchNumbers(context: CaseContext, send?: string): Promise<Fetched> {
  const probe = await context.connect();
  if (send !== undefined) await probe.send(send);
  const result = await probe.readToEnd();
  if (result.kind === "timeout") {
    return {
      ok: false,
      verdict: fail(EXPECTED, "the server did not close the connection before the deadline"),
    };
  }
  if (result.kind === "reset") {
    return { ok: false, verdict: fail(EXPECTED, `the connection failed: ${result.error}`) };
  }
  const parsed = parseRandomReply(result.bytes, { min: MIN, max: MAX, count: COUNT });
  if (!parsed.ok) {
    return {
      ok: false,
      verdict: { ...fail(EXPECTED, escapeBytes(result.bytes)), reason: parsed.reason },
    };
  }
  return { ok: true, bytes: result.bytes, numbers: parsed.numbers, newline: parsed.newline };
}

const check = (send?: string) => async (context: CaseContext): Promise<Verdict> => {
  const fetched = await fetchNumbers(context, send);
  return fetched.ok ? PASS : fetched.verdict;
};

/** Every random case. */
export const RANDOM_CASES: readonly CheckCase[] = [
  {
    id: "random/format/numbers",
    requirement:
      `On connect, without being sent anything, the server sends ${COUNT} integers in ${MIN}..${MAX} joined by "," with no spaces, then closes.`,
    run: check(),
  },
  {
    id: "random/format/no-newline",
    strictOnly: true,
    requirement: "Nothing follows the last number: no newline (the write-up's server).",
    run: async (context) => {
      const fetched = await fetchNumbers(context);
      if (!fetched.ok) return fetched.verdict;
      return fetched.newline ? fail("no newline at the end", escapeBytes(fetched.bytes)) : PASS;
    },
  },
  {
    id: "random/variety/across-connections",
    requirement: "The numbers vary: five connections do not all get the same list.",
    run: async (context) => {
      const lists: string[] = [];
      for (let i = 0; i < 5; i++) {
        const fetched = await fetchNumbers(context);
        if (!fetched.ok) return fetched.verdict;
        lists.push(fetched.numbers.join(","));
      }
      return new Set(lists).size > 1
        ? PASS
        : fail("different lists across 5 connections", `the same list 5 times: ${lists[0]}`);
    },
  },
  {
    id: "random/variety/within-a-list",
    requirement: "The numbers of one list are not all the same.",
    run: async (context) => {
      const fetched = await fetchNumbers(context);
      if (!fetched.ok) return fetched.verdict;
      return new Set(fetched.numbers).size > 1
        ? PASS
        : fail("varied numbers", fetched.numbers.join(","));
    },
  },
  {
    id: "random/concurrency/many-clients",
    requirement: "Ten clients connecting at the same moment all get their numbers.",
    run: async (context) => {
      const all = await Promise.all(Array.from({ length: 10 }, () => fetchNumbers(context)));
      for (const [i, fetched] of all.entries()) {
        if (!fetched.ok) {
          return {
            ...fetched.verdict,
            reason: `client ${i + 1} of 10${
              fetched.verdict.reason ? `: ${fetched.verdict.reason}` : ""
            }`,
          };
        }
      }
      return PASS;
    },
  },
  {
    id: "random/hostile/client-sends-first",
    phase: "hostile",
    requirement: "A client that sends something first still gets its numbers, and the close.",
    run: check("hello\n"),
  },
  {
    id: "random/hostile/client-vanishes",
    phase: "hostile",
    requirement: "A client that connects and closes at once does not disturb the server.",
    run: async (context) => {
      const gone = await context.connect();
      await gone.close();
      return await check()(context);
    },
  },
  {
    id: "random/hostile/still-answering",
    phase: "hostile",
    requirement: "After all the above, the server still sends its numbers.",
    run: check(),
  },
];
