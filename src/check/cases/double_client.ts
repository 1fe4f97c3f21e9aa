/**
 * Conformance cases for a double client (write-up 000): socklab plays the
 * server, types `21`, `-4` and `exit`, and judges what the client sent and
 * printed.
 *
 * @module
 */
import { parseInteger } from "../../protocol/double.ts";
import { doubleService } from "../../server/double.ts";
import type { ClientCase, ClientRecord, ClientScenario } from "../client_runner.ts";
import { describeExit, outputOf, shownMessages } from "./_client_common.ts";
import { fail, PASS } from "../types.ts";

const NUMBERS = ["21", "-4"];

function requests(record: ClientRecord): (number | bigint | undefined)[] {
  return record.messages.map((m) => parseInteger(m.bytes));
}

const shown = shownMessages;

const CASES: readonly ClientCase[] = [
  {
    id: "client-double/request/one-per-number",
    requirement: "Each number typed is sent to the server as one request.",
    judge: ([record]) =>
      record.messages.length === NUMBERS.length
        ? PASS
        : fail(`${NUMBERS.length} requests (${NUMBERS.join(", ")})`, shown(record)),
  },
  {
    id: "client-double/request/integer",
    requirement: "A request is the integer as typed, in decimal.",
    judge: ([record]) => {
      const got = requests(record).map((n) => n === undefined ? "?" : String(n));
      return got.join(",") === NUMBERS.join(",") ? PASS : fail(NUMBERS.join(", "), shown(record));
    },
  },
  {
    id: "client-double/request/exact-bytes",
    strictOnly: true,
    requirement:
      "A request is exactly the digits typed: no newline, nothing else (the write-up's client).",
    judge: ([record]) => {
      const exact = record.messages.map((m) =>
        new TextDecoder().decode(m.bytes) + { lf: "\n", crlf: "\r\n", none: "" }[m.terminator]
      );
      return exact.join(",") === NUMBERS.join(",")
        ? PASS
        : fail(NUMBERS.map((n) => `"${n}"`).join(", "), shown(record));
    },
  },
  {
    id: "client-double/output/result",
    requirement: "The client prints each result it received (42 and -8).",
    judge: ([record]) => {
      const missing = ["42", "-8"].filter((n) =>
        !new RegExp(`(^|[^\\d-])${n}(?!\\d)`).test(record.stdout)
      );
      return missing.length === 0
        ? PASS
        : fail(`output showing ${missing.join(" and ")}`, outputOf(record));
    },
  },
  {
    id: "client-double/exit/on-exit",
    requirement: "Typing `exit` ends the client, with exit status 0.",
    judge: ([record]) => record.exitCode === 0 ? PASS : fail("exit status 0", describeExit(record)),
  },
  {
    id: "client-double/connection/closed",
    requirement: "The client closes every connection it opens.",
    judge: ([record]) =>
      record.connections > 0 && record.closedByClient === record.connections ? PASS : fail(
        `${record.connections} connection(s) closed by the client`,
        `${record.closedByClient} of ${record.connections} closed`,
      ),
  },
];

/** The double client scenario. */
export const DOUBLE_CLIENT: ClientScenario = {
  runs: [{ input: NUMBERS.join("\n") + "\nexit\n", service: () => doubleService() }],
  cases: CASES,
};
