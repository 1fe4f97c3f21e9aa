/**
 * A request/reply run as plain, structured-cloneable data, and the one way
 * to turn it into a running engine: the command line and every thread of
 * `socklab bench --threads N` build their runs here. No flags, no exit
 * codes: a bad value is a RangeError naming it.
 *
 * @module
 */
import type { Address } from "../net/address.ts";
import { type BenchRun, runExchanges } from "./engine.ts";
import type { ExchangeMode, ExchangeWorkload } from "./workload.ts";
import { findBenchEntry } from "./workloads.ts";

/** What a request/reply run is, as plain data (it can be sent to another thread). */
export interface ExchangeSettings {
  /** The service, as typed after `socklab bench`: `double`, `random`. */
  service: string;
  /** The workload's own options, as the command line parsed them (`count`, `min`, `max`). */
  options: Record<string, string | number | boolean>;
  target: Address;
  /** @default the workload's first mode */
  mode?: ExchangeMode;
  connections: number;
  durationMs: number;
  warmupMs: number;
  timeoutMs: number;
  /** Requests per second in all (open loop); none: closed loop. */
  rate?: number;
}

/** The workload of `settings`, its mode, and what a run of it counts. */
export interface ExchangePlan {
  workload: ExchangeWorkload;
  mode: ExchangeMode;
  /** `requests` (persistent) or `connections` (per-connection), as the engine counts. */
  unit: string;
}

/**
 * Builds the workload `settings` name and checks its mode. Throws a
 * RangeError for an unknown service, a bad workload option or a mode the
 * service cannot run.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { planExchanges } from "./settings.ts";
 *
 * const settings = {
 *   service: "random", options: { count: "3", min: "1", max: "9" },
 *   target: { hostname: "127.0.0.1", port: 1 },
 *   connections: 1, durationMs: 100, warmupMs: 0, timeoutMs: 1000,
 * };
 * deepEqual(planExchanges(settings).unit, "connections");
 * ```
 */
export function planExchanges(settings: ExchangeSettings): ExchangePlan {
  const entry = findBenchEntry(settings.service);
  if (entry === undefined || entry.kind !== "exchange") {
    throw new RangeError(`Cannot drive "${settings.service}": not a request/reply service`);
  }
  const workload = entry.create(settings.options);
  const mode = settings.mode ?? workload.modes[0];
  if (!workload.modes.includes(mode)) {
    throw new RangeError(
      `${entry.name} cannot run --mode ${mode}; it runs ${workload.modes.join(" or ")}`,
    );
  }
  return { workload, mode, unit: mode === "per-connection" ? "connections" : "requests" };
}

/**
 * Starts the run `settings` describe, in this thread. Throws a RangeError
 * for settings that cannot run (see {@linkcode planExchanges}).
 */
export function startExchanges(settings: ExchangeSettings, signal?: AbortSignal): BenchRun {
  const { workload, mode } = planExchanges(settings);
  return runExchanges({
    target: settings.target,
    workload,
    mode,
    connections: settings.connections,
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
    rate: settings.rate,
    timeoutMs: settings.timeoutMs,
    signal,
  });
}
