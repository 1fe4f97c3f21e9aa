/**
 * Conformance cases for a random client (write-up 002): socklab plays a
 * seeded random server and checks that the client reads the numbers and
 * shows them.
 *
 * @module
 */
import { DEFAULT_RANDOM_OPTIONS, drawRandomNumbers } from "../../protocol/random.ts";
import { createRandomSource } from "../../protocol/rng.ts";
import { randomService } from "../../server/random.ts";
import type { ClientCase, ClientScenario } from "../client_runner.ts";
import { fail, PASS } from "../types.ts";
import { describeExit, outputOf } from "./_client_common.ts";

const SEED = 2002;
/** The numbers the seeded reference server sends first. */
const NUMBERS = drawRandomNumbers(createRandomSource(SEED), DEFAULT_RANDOM_OPTIONS);

const CASES: readonly ClientCase[] = [
  {
    id: "client-random/connection/once",
    requirement: "The client connects once and closes its connection.",
    judge: ([record]) =>
      record.connections === 1 && record.closedByClient === 1 ? PASS : fail(
        "one connection, closed",
        `${record.closedByClient} of ${record.connections} closed`,
      ),
  },
  {
    id: "client-random/output/numbers",
    requirement: `The client shows every number it received, in order (${NUMBERS.join(",")}).`,
    judge: ([record]) => {
      const shown = record.stdout.match(/-?\d+/g)?.map(Number) ?? [];
      let at = 0;
      for (const n of shown) if (n === NUMBERS[at]) at++;
      return at === NUMBERS.length ? PASS : fail(NUMBERS.join(","), outputOf(record));
    },
  },
  {
    id: "client-random/exit/status",
    requirement: "The client exits with status 0.",
    judge: ([record]) => record.exitCode === 0 ? PASS : fail("exit status 0", describeExit(record)),
  },
];

/** The random client scenario. */
export const RANDOM_CLIENT: ClientScenario = {
  runs: [{ input: "", service: () => randomService({ random: createRandomSource(SEED) }) }],
  cases: CASES,
};
