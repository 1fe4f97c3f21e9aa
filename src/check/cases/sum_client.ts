/**
 * Conformance cases for a sum client (write-ups 001 and 003): socklab plays
 * a server named "Server of socklab check" whose number is 50, types 25 in
 * one run and 101 in another, and judges what the client sent and printed.
 *
 * @module
 */
import { formatSumRequest, parseSumRequest } from "../../protocol/sum.ts";
import { sumService } from "../../server/sum.ts";
import type { ClientCase, ClientRecord, ClientScenario } from "../client_runner.ts";
import { fail, PASS, type Verdict } from "../types.ts";
import { crashed, describeExit, outputOf, shownMessages } from "./_client_common.ts";

const SERVER = { name: "Server of socklab check", number: 50 };
const reference = () => sumService(SERVER);

/** The one request of a run, parsed, or the verdict that there was not exactly one. */
function onlyRequest(record: ClientRecord): ReturnType<typeof parseSumRequest> | Verdict {
  if (record.messages.length !== 1) {
    return fail("one request (NAME;25 or JSON) on one connection", shownMessages(record));
  }
  return parseSumRequest(record.messages[0].bytes);
}

function isVerdict(value: unknown): value is Verdict {
  return typeof value === "object" && value !== null && "status" in value;
}

const CASES: readonly ClientCase[] = [
  {
    id: "client-sum/request/form",
    requirement:
      "The request is NAME;NUMBER (003) or the JSON object (001), with the number typed: 25.",
    judge: ([record]) => {
      const parsed = onlyRequest(record);
      if (isVerdict(parsed)) return parsed;
      const expected = '"NAME;25" or {"client_name": "NAME", "client_number": 25}';
      if (!parsed.ok) return { ...fail(expected, shownMessages(record)), reason: parsed.reason };
      if (parsed.message.number !== 25) return fail(expected, shownMessages(record));
      return PASS;
    },
  },
  {
    id: "client-sum/request/exact-bytes",
    strictOnly: true,
    requirement:
      "The request is sent in one piece with no newline, exactly as the write-ups' clients send it.",
    judge: ([record]) => {
      const parsed = onlyRequest(record);
      if (isVerdict(parsed)) return parsed;
      if (!parsed.ok) {
        return { ...fail("a well-formed request", shownMessages(record)), reason: parsed.reason };
      }
      const exact = formatSumRequest(parsed.message, parsed.message.dialect);
      const sent = record.messages[0];
      const actual = new TextDecoder().decode(sent.bytes);
      return sent.terminator === "none" && actual === exact
        ? PASS
        : fail(`"${exact}" exactly`, shownMessages(record));
    },
  },
  {
    id: "client-sum/output/sum",
    requirement: "The client prints the server's number (50) and the sum (75).",
    judge: ([record]) =>
      /\b50\b/.test(record.stdout) && /\b75\b/.test(record.stdout)
        ? PASS
        : fail("output showing 50 and 75", outputOf(record)),
  },
  {
    id: "client-sum/exit/status",
    requirement: "After the exchange the client exits with status 0.",
    judge: ([record]) => record.exitCode === 0 ? PASS : fail("exit status 0", describeExit(record)),
  },
  {
    id: "client-sum/connection/closed",
    requirement: "The client closes its connection.",
    judge: ([record]) =>
      record.connections === 1 && record.closedByClient === 1 ? PASS : fail(
        "one connection, closed by the client",
        `${record.closedByClient} of ${record.connections} closed`,
      ),
  },
  {
    id: "client-sum/range/out-of-range",
    requirement:
      "Given 101, the client refuses it before sending, or sends it and reports the missing reply — without crashing or hanging.",
    judge: ([, record]) => {
      if (record.exitCode === null) return fail("the client ends by itself", describeExit(record));
      if (crashed(record)) return fail("a clear message, no crash", outputOf(record));
      return PASS;
    },
  },
];

/** The sum client scenario: 25 in the first run, 101 in the second. */
export const SUM_CLIENT: ClientScenario = {
  runs: [
    { input: "25\n", service: reference },
    { input: "101\n", service: reference },
  ],
  cases: CASES,
};
