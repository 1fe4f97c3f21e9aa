/**
 * How a run's figures read: a text summary for people, JSON for machines,
 * and the one-line progress shown on a terminal while it runs. Pure
 * functions of the figures; writing them anywhere is the caller's business.
 *
 * @module
 */
import type { BenchResult, LatencySummary } from "./aggregator.ts";
import type { Progress } from "./engine.ts";

/**
 * A duration for people, in µs, ms or s with three significant digits.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatMs } from "./printer.ts";
 *
 * deepEqual(formatMs(0.5804), "580 µs");
 * deepEqual(formatMs(12.44), "12.4 ms");
 * deepEqual(formatMs(1500), "1.50 s");
 * ```
 */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return "-";
  if (ms < 1) {
    const us = ms * 1000;
    return `${us < 10 ? us.toFixed(2) : us < 100 ? us.toFixed(1) : us.toFixed(0)} µs`;
  }
  if (ms < 1000) return `${ms < 10 ? ms.toFixed(2) : ms < 100 ? ms.toFixed(1) : ms.toFixed(0)} ms`;
  const s = ms / 1000;
  return `${s < 10 ? s.toFixed(2) : s < 100 ? s.toFixed(1) : s.toFixed(0)} s`;
}

/**
 * A count with thousands separators: `1,234,567`.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatCount } from "./printer.ts";
 *
 * deepEqual(formatCount(81234.6), "81,235");
 * ```
 */
export function formatCount(value: number): string {
  const rounded = Math.round(value);
  const sign = rounded < 0 ? "-" : "";
  return sign + String(Math.abs(rounded)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}

/** The rate of each full interval of a run's series, per second. */
export function perSecond(result: BenchResult): number[] {
  const { intervalMs, completed } = result.series;
  const rates: number[] = [];
  for (let i = 0; i < completed.length; i++) {
    const span = Math.min(intervalMs, result.elapsedMs - i * intervalMs);
    if (span >= intervalMs / 2) rates.push((completed[i] * 1000) / span);
  }
  return rates;
}

/**
 * What a run was, in one line: `persistent, closed loop, 50 connections, 10.0 s after a 1.00 s
 * warmup`; a run on more than one thread says how many after its connections.
 */
export function describeRun(result: BenchResult): string {
  const warmupText = result.warmupMs > 0 ? ` after a ${formatMs(result.warmupMs)} warmup` : "";
  if (result.mode === "fan-out" && result.extra) {
    const { senders, receivers } = result.extra;
    return `fan-out, ${senders} sender${senders === 1 ? "" : "s"} at ${
      formatCount(result.rate ?? 0)
    } lines/s each to ${receivers} receiver${receivers === 1 ? "" : "s"}, ${
      formatMs(result.durationMs)
    }${warmupText}`;
  }
  const loop = result.rate === undefined
    ? "closed loop"
    : `open loop at ${formatCount(result.rate)} ${result.unit}/s`;
  const threads = result.threads ?? 1;
  const workers = `${result.connections} connection${result.connections === 1 ? "" : "s"}${
    threads > 1 ? `, ${threads} threads` : ""
  }`;
  return `${result.mode}, ${loop}, ${workers}, ${formatMs(result.durationMs)}${warmupText}`;
}

const LABEL = 13;

function row(label: string, text: string): string {
  return `${label.padEnd(LABEL)}${text}\n`;
}

function latencyRows(label: string, latency: LatencySummary): string {
  if (latency.count === 0) return row(label, "no replies measured");
  const width = 9;
  const lines = [
    ["p50", latency.p50Ms],
    ["p90", latency.p90Ms],
    ["p99", latency.p99Ms],
    ["p99.9", latency.p999Ms],
    ["max", latency.maxMs],
  ].map(([name, ms]) => `${(name as string).padEnd(6)}${formatMs(ms as number).padStart(width)}`);
  lines.push(
    `${"mean".padEnd(6)}${formatMs(latency.meanMs).padStart(width)}   (min ${
      formatMs(latency.minMs)
    })`,
  );
  return lines.map((line, i) => row(i === 0 ? label : "", line)).join("");
}

/**
 * The summary a person reads at the end of a run.
 *
 * @example
 * ```ts ignore
 * console.log(formatText(await runExchanges(options).done));
 * ```
 */
export function formatText(result: BenchResult): string {
  const unit = result.unit;
  let text = `socklab bench: ${result.service} at ${result.target}\n  ${describeRun(result)}\n`;
  if (result.interrupted) {
    text += `  interrupted after ${formatMs(result.elapsedMs)} of measurement\n`;
  }
  text += "\n";
  const chat = result.mode === "fan-out" && result.extra !== undefined;
  if (chat) {
    const e = result.extra!;
    text += row("Lines", `${formatCount(e.sent)} sent`);
    text += row(
      "Deliveries",
      `${formatCount(e.delivered)} of ${formatCount(e.expected)}: ${formatCount(e.lost)} lost, ${
        formatCount(e.merged)
      } merged, ${formatCount(e.corrupted)} corrupted, ${formatCount(e.duplicated)} duplicated`,
    );
  } else {
    text += row(
      unit[0].toUpperCase() + unit.slice(1),
      `${formatCount(result.completed)} completed, ${formatCount(result.errors)} error${
        result.errors === 1 ? "" : "s"
      }`,
    );
  }
  const rates = perSecond(result);
  const spread = rates.length > 1
    ? `  (each ${formatMs(result.series.intervalMs)}: ${formatCount(Math.min(...rates))} to ${
      formatCount(Math.max(...rates))
    }/s)`
    : "";
  text += row("Throughput", `${formatCount(result.throughput)} ${unit}/s${spread}`);
  if (result.rate !== undefined) {
    const unsent = result.extra?.unsent ?? 0;
    text += row(
      "Schedule",
      `${formatCount(result.rate)} ${
        chat ? "lines/s per sender" : `${unit}/s`
      } asked; send lag p99 ${formatMs(result.sendLag?.p99Ms ?? 0)}, max ${
        formatMs(result.sendLag?.maxMs ?? 0)
      }`,
    );
    if (unsent > 0) {
      text += row(
        "",
        `${formatCount(unsent)} ${unit} were due and never sent: ${result.connections} ` +
          `connections cannot keep up; raise --connections`,
      );
    }
  }
  if (result.loadCpu !== undefined) text += row("Load CPU", describeLoadCpu(result));
  text += "\n";
  text += latencyRows(chat ? "Delivery" : "Latency", result.latency);
  text += "\n";
  if (result.errorKinds.length === 0) {
    text += row("Errors", "none");
  } else {
    const kindWidth = Math.max(...result.errorKinds.map((e) => e.kind.length));
    const countWidth = Math.max(...result.errorKinds.map((e) => formatCount(e.count).length));
    result.errorKinds.forEach((entry, i) => {
      text += row(
        i === 0 ? "Errors" : "",
        `${formatCount(entry.count).padStart(countWidth)} ${
          entry.kind.padEnd(kindWidth)
        }  e.g. ${entry.example}`,
      );
    });
  }
  return text;
}

/** At this share of one core per thread, the generator is taken to be the limit. */
export const LOAD_LIMIT_CORES = 0.9;

/**
 * The generator's own CPU: per exchange, and in cores; near one core per
 * thread of load (`threads`, default 1) it says the run measured the
 * generator as much as the target.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { describeLoadCpu } from "./printer.ts";
 *
 * const run = { completed: 90_000, warmupCompleted: 10_000, unit: "requests", loadCpu: { ms: 850, cores: 0.42 } };
 * deepEqual(describeLoadCpu(run), "0.42 cores, 8.50 µs per request");
 * const busy = { ...run, threads: 2, loadCpu: { ms: 1900, cores: 1.9 } };
 * deepEqual(
 *   describeLoadCpu(busy),
 *   "1.90 cores, 19.0 µs per request: the generator (2 threads) was near its limit, so the target may answer more",
 * );
 * deepEqual(describeLoadCpu({ ...busy, loadCpu: { ms: 950, cores: 0.95 } }).includes("limit"), false);
 * ```
 */
export function describeLoadCpu(
  result:
    & Pick<BenchResult, "completed" | "warmupCompleted" | "unit" | "loadCpu">
    & Partial<Pick<BenchResult, "threads">>,
): string {
  const cpu = result.loadCpu;
  if (cpu === undefined) return "";
  const done = result.completed + result.warmupCompleted;
  const us = done > 0 ? (cpu.ms * 1000) / done : NaN;
  const each = Number.isFinite(us)
    ? `, ${us.toFixed(us < 10 ? 2 : 1)} µs per ${
      result.unit.replace(/ies$/, "y").replace(/s$/, "")
    }`
    : "";
  const threads = result.threads ?? 1;
  const limit = cpu.cores >= LOAD_LIMIT_CORES * threads
    ? `: the generator (${
      threads === 1 ? "one thread" : `${threads} threads`
    }) was near its limit, so the target may answer more`
    : "";
  return `${cpu.cores.toFixed(2)} cores${each}${limit}`;
}

/**
 * The figures as one JSON document: durations in ms, fractions kept to six
 * significant digits.
 */
export function formatJson(result: BenchResult): string {
  return JSON.stringify(
    result,
    (_key, value) =>
      typeof value === "number" && !Number.isInteger(value) ? Number(value.toPrecision(6)) : value,
  ) + "\n";
}

/**
 * The live progress line: elapsed time, phase, count, current rate, errors.
 * `rate` is the caller's measure of the last interval.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { formatProgress } from "./printer.ts";
 *
 * const progress = { elapsedMs: 3200, phase: "measure" as const, completed: 245112, warmupCompleted: 0, errors: 0 };
 * deepEqual(formatProgress(progress, 78410, "requests"), "3.20 s  245,112 requests  78,410/s  0 errors");
 * ```
 */
export function formatProgress(progress: Progress, rate: number, unit: string): string {
  const count = progress.phase === "warmup"
    ? `warmup ${formatCount(progress.warmupCompleted)} ${unit}`
    : `${formatCount(progress.completed)} ${unit}`;
  const errors = `${formatCount(progress.errors)} error${progress.errors === 1 ? "" : "s"}`;
  return `${formatMs(progress.elapsedMs)}  ${count}  ${formatCount(rate)}/s  ${errors}`;
}
