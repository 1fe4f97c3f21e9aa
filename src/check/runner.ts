/**
 * Runs a table of conformance cases against a server: ordering (hostile
 * input after ordinary cases, destructive cases last), selection, a deadline
 * per case, and every connection a case opened closed when it ends.
 *
 * @module
 */
import { type Address, formatAddress } from "../net/address.ts";
import { connect } from "../net/client.ts";
import { TIMEOUT, within } from "../net/deadline.ts";
import type { CaseContext, CheckCase, Phase, Status, Verdict } from "./types.ts";
import { Probe } from "./probe.ts";
import { describeFailure } from "../net/failure.ts";

/** The server could not be reached before any case got through: nothing was checked. */
export class CannotRunError extends Error {
  /** `message` says why, in one line. */
  constructor(message: string) {
    super(message);
    this.name = "CannotRunError";
  }
}

class ConnectFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ConnectFailure";
  }
}

/** Options for {@linkcode runChecks}. */
export interface RunChecksOptions {
  /** Time allowed for each case, in ms. @default {2000} */
  timeoutMs?: number;
  /** Only cases whose id matches one of these globs (`*` any text). */
  only?: string[];
  /** Skip destructive cases (those that may stop the server). @default {false} */
  noDestructive?: boolean;
  /** Run the classroom-exact byte checks too. @default {false} */
  strict?: boolean;
  /** Only cases for this dialect (and those with none). */
  dialect?: string;
  /** Quiet period that ends a reply with no newline, in ms. @default {50} */
  flushMs?: number;
  /** Called after each case (for live output). */
  onResult?: (result: CaseResult) => void;
  /** Milliseconds since some origin. @default performance.now */
  now?: () => number;
}

/** One case's result. */
export interface CaseResult extends Verdict {
  /** The case's id. */
  id: string;
  /** The case's requirement, one line. */
  requirement: string;
  /** When it ran. */
  phase: Phase;
  /** How long it took (0 when skipped). */
  durationMs: number;
}

/** A whole run's results. */
export interface CheckReport {
  /** The service checked (`double`, or `client double`). */
  service: string;
  /** The server's address, or the client's command line. */
  target: string;
  /** Every case's result, in the order run. */
  results: CaseResult[];
  /** How many results of each status, and in all. */
  counts: Record<Status, number> & { total: number };
  /** How long the whole run took. */
  durationMs: number;
}

const PHASE_ORDER: Record<Phase, number> = { normal: 0, hostile: 1, destructive: 2 };

/** Why a `--strict` case is skipped without `--strict`. */
export const STRICT_ONLY = "classroom-exact check; run with --strict";

/** How many results there are of each status, and in all. */
export function countResults(results: readonly CaseResult[]): CheckReport["counts"] {
  const counts = { total: results.length, passed: 0, failed: 0, skipped: 0 };
  for (const result of results) counts[result.status]++;
  return counts;
}

/**
 * Turns a glob (`*` any text, `?` one character) into a whole-string RegExp.
 *
 * @example
 * ```ts
 * import { equal } from "node:assert/strict";
 * import { globToRegExp } from "./runner.ts";
 *
 * equal(globToRegExp("double/framing/*").test("double/framing/crlf"), true);
 * ```
 */
export function globToRegExp(glob: string): RegExp {
  const body = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replaceAll("*", ".*").replaceAll("?", ".");
  return new RegExp(`^${body}$`);
}

/** A case chosen for a run, with the reason when it is to be skipped. */
export interface SelectedCase {
  /** The case. */
  testCase: CheckCase;
  /** Why it is skipped, if it is. */
  skip?: string;
}

/** The cases a run covers, in the order they run; skipped ones say why. */
export function selectCases(
  cases: readonly CheckCase[],
  options: RunChecksOptions = {},
): SelectedCase[] {
  const patterns = (options.only ?? []).map(globToRegExp);
  const selected: SelectedCase[] = [];
  const ordered = [...cases].sort((a, b) =>
    PHASE_ORDER[a.phase ?? "normal"] - PHASE_ORDER[b.phase ?? "normal"]
  );
  for (const testCase of ordered) {
    if (patterns.length > 0 && !patterns.some((p) => p.test(testCase.id))) continue;
    if (testCase.dialect && options.dialect && testCase.dialect !== options.dialect) continue;
    if (testCase.strictOnly && !options.strict) {
      selected.push({ testCase, skip: STRICT_ONLY });
    } else if (testCase.phase === "destructive" && options.noDestructive) {
      selected.push({ testCase, skip: "may stop the server; skipped by --no-destructive" });
    } else {
      selected.push({ testCase });
    }
  }
  return selected;
}

/**
 * A case's failure as its reason line: what the peer did says itself; a
 * programming error keeps its name, so it is not taken for the server's fault.
 */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const bug = error instanceof TypeError || error instanceof ReferenceError ||
    error instanceof SyntaxError;
  return bug ? `${error.name}: ${error.message}` : error.message;
}

/** A connect that a server answered, then dropped: something listens there. */
function answered(error: unknown): boolean {
  return error instanceof Deno.errors.ConnectionReset ||
    error instanceof Deno.errors.NotConnected ||
    error instanceof Deno.errors.ConnectionAborted;
}

/** Runs `cases` against `target` and reports every verdict. */
export async function runChecks(
  service: string,
  target: Address,
  cases: readonly CheckCase[],
  options: RunChecksOptions = {},
): Promise<CheckReport> {
  const now = options.now ?? (() => performance.now());
  const timeoutMs = options.timeoutMs ?? 2000;
  const started = now();
  const results: CaseResult[] = [];
  const shared: Record<string, unknown> = {};
  let reached = false;
  const record = (testCase: CheckCase, verdict: Verdict, durationMs: number) => {
    const result: CaseResult = {
      id: testCase.id,
      requirement: testCase.requirement,
      phase: testCase.phase ?? "normal",
      durationMs,
      ...verdict,
    };
    results.push(result);
    options.onResult?.(result);
  };
  for (const { testCase, skip } of selectCases(cases, options)) {
    if (skip !== undefined) {
      record(testCase, { status: "skipped", reason: skip }, 0);
      continue;
    }
    const caseStarted = now();
    const deadline = caseStarted + timeoutMs;
    const controller = new AbortController();
    const probes: Probe[] = [];
    const context: CaseContext = {
      target,
      strict: options.strict ?? false,
      dialect: options.dialect,
      signal: controller.signal,
      shared,
      remainingMs: () => Math.max(0, deadline - now()),
      connect: async () => {
        let conn: Deno.TcpConn;
        try {
          conn = await connect(target, Math.max(1, deadline - now()));
        } catch (error) {
          const address = formatAddress(target);
          const line = describeFailure(error, { action: "connect", address });
          const failure = new ConnectFailure(
            reached ? `${line} (it answered earlier: has it stopped?)` : line,
          );
          // A server that accepts and resets fails its cases; it can be checked.
          if (answered(error)) reached = true;
          throw failure;
        }
        reached = true;
        const probe = new Probe(conn, () => Math.max(0, deadline - now()), options.flushMs);
        probes.push(probe);
        return probe;
      },
    };
    let verdict: Verdict;
    let unreachable: ConnectFailure | null = null;
    const running = testCase.run(context).catch((error): Verdict => {
      if (error instanceof ConnectFailure && !reached) unreachable = error;
      return {
        status: "failed",
        reason: error instanceof ConnectFailure ? error.message : describe(error),
      };
    });
    // A little grace past the deadline: cases use their remaining time themselves.
    const outcome = await within(running, timeoutMs + 500);
    if (outcome === TIMEOUT) {
      controller.abort();
      verdict = { status: "failed", reason: `no verdict within ${timeoutMs} ms` };
    } else {
      verdict = outcome;
    }
    await Promise.all(probes.map((probe) => probe.close()));
    if (outcome === TIMEOUT) await running; // its probes are closed: it ends now
    if (unreachable !== null) throw new CannotRunError((unreachable as ConnectFailure).message);
    record(testCase, verdict, now() - caseStarted);
  }
  return {
    service,
    target: formatAddress(target),
    results,
    counts: countResults(results),
    durationMs: now() - started,
  };
}
