/**
 * The shape of a conformance case and its verdict, shared by the checker,
 * its reports and socklab's own test suite.
 *
 * @module
 */
import type { Address } from "../net/address.ts";
import type { Probe } from "./probe.ts";

/** How a case ended. */
export type Status = "passed" | "failed" | "skipped";

/** The outcome of one case. */
export interface Verdict {
  /** Passed, failed or skipped. */
  status: Status;
  /** For a failure: what the requirement expects (bytes escaped). */
  expected?: string;
  /** For a failure: what the server did (bytes escaped). */
  actual?: string;
  /** For a skip or a failure with no expected/actual pair: why. */
  reason?: string;
}

/** When a case runs: hostile input after the ordinary cases, destructive ones last. */
export type Phase = "normal" | "hostile" | "destructive";

/** What a case may use while it runs. */
export interface CaseContext {
  /** The server under test. */
  target: Address;
  /** Opens a connection to the target; closed for the case when it ends. */
  connect(): Promise<Probe>;
  /** Time left before the case's deadline, in ms. */
  remainingMs(): number;
  /** Classroom-exact byte checks (`--strict`). */
  strict: boolean;
  /** The dialect to use where a service has several (`--dialect`). */
  dialect?: string;
  /** Aborted when the case's time is up. */
  signal: AbortSignal;
  /** State shared by the cases of one run (e.g. "the server stopped on purpose"). */
  shared: Record<string, unknown>;
}

/** One named requirement and the procedure that checks it. */
export interface CheckCase {
  /** `service/group/name`, e.g. `double/framing/no-newline`. */
  id: string;
  /** One line, taken from the wire contract. */
  requirement: string;
  /** When the case runs: ordinary cases first, destructive ones last. @default {"normal"} */
  phase?: Phase;
  /** Only run for this dialect (when the service has several). */
  dialect?: string;
  /** Only run with `--strict`. */
  strictOnly?: boolean;
  /** Runs the case; throwing counts as a failure with the error as its reason. */
  run(context: CaseContext): Promise<Verdict>;
}

/** A passed verdict. */
export const PASS: Verdict = Object.freeze({ status: "passed" });

/** A failed verdict with what was expected and what happened. */
export function fail(expected: string, actual: string): Verdict {
  return { status: "failed", expected, actual };
}

/** A skipped verdict, saying why. */
export function skip(reason: string): Verdict {
  return { status: "skipped", reason };
}
