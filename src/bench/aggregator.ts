/**
 * What a load run measured, gathered as it happens in bounded memory:
 * a latency histogram, completions and errors per interval, and errors by
 * kind. {@linkcode Aggregator.result} turns it into plain data for the
 * printer, `--json` and the report.
 *
 * @module
 */
import { Histogram, type HistogramState } from "./histogram.ts";

/** One kind of error, how often it happened, and the first one seen. */
export interface ErrorCount {
  /** A short stable name: `wrong-reply`, `connect-refused`, `reply-timeout`, … */
  kind: string;
  count: number;
  /** One line describing the first error of this kind. */
  example: string;
}

/** Latency percentiles, in milliseconds. */
export interface LatencySummary {
  /** How many latencies were recorded. */
  count: number;
  minMs: number;
  meanMs: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  p999Ms: number;
  maxMs: number;
}

/** One point of the latency distribution: `percentile` % of latencies were at most `ms`. */
export interface DistributionPoint {
  percentile: number;
  ms: number;
}

/** Completions and errors per interval, from the end of the warmup. */
export interface Series {
  /** Width of one interval; doubles when a long run would pass the point limit. */
  intervalMs: number;
  completed: number[];
  errors: number[];
}

/** Everything a run measured, as plain data (what `--json` prints). */
export interface BenchResult {
  /** The service driven: `double`, `chat`, … */
  service: string;
  /** The address driven, as typed. */
  target: string;
  /** `persistent`, `per-connection`, or `fan-out` (chat). */
  mode: string;
  /** `closed` (a new request as soon as the last is answered) or `open` (at a fixed rate). */
  loop: "closed" | "open";
  /** Connections (workers) used. */
  connections: number;
  /** Threads the load ran on (`--threads`), each with its share of the connections. */
  threads: number;
  /** Target rate per second, open loop only. */
  rate?: number;
  /** The measured period asked for. */
  durationMs: number;
  /** The warmup before it (not measured). */
  warmupMs: number;
  /** Time actually measured, from the end of the warmup to the last completion. */
  elapsedMs: number;
  /** What is counted: `requests`, `connections`, `deliveries`. */
  unit: string;
  /** Completed and correct, after the warmup. */
  completed: number;
  /** `completed` per second of `elapsedMs`. */
  throughput: number;
  /** Completed during the warmup (not in the figures). */
  warmupCompleted: number;
  /** Errors, warmup included: a wrong reply is wrong whenever it comes. */
  errors: number;
  /** Errors by kind, most frequent first. */
  errorKinds: ErrorCount[];
  latency: LatencySummary;
  /** The latency distribution, for plots: percentiles on a log scale up to 100. */
  distribution: DistributionPoint[];
  /**
   * Open loop only: how late requests went out after their intended send
   * time (their latency, counted from the intended time, includes it).
   */
  sendLag?: LatencySummary;
  series: Series;
  /** True when the run was stopped before its end. */
  interrupted: boolean;
  /** Figures particular to a workload (chat: sent, expected, lost, …). */
  extra?: Record<string, number>;
  /**
   * The load generator's own CPU time (user and system) over the whole run,
   * connecting and warmup included, and that time over the run's wall time:
   * near one core per thread of load, the generator was the limit.
   */
  loadCpu?: { ms: number; cores: number };
}

/** An error kind in an {@linkcode AggregatorState}: when its first example was seen, too. */
export interface ErrorKindState extends ErrorCount {
  /** When the first error of this kind happened, on the aggregator's clock. */
  firstAt: number;
}

/**
 * An {@linkcode Aggregator} as plain, structured-cloneable data, so that
 * aggregators fed on several threads can be merged into one
 * ({@linkcode Aggregator.merge}). Times are on the clock of the aggregator
 * that made it; merging takes them relative to `measureFrom`.
 */
export interface AggregatorState {
  measureFrom: number;
  /** Width of a series interval (may have doubled past the point limit). */
  intervalMs: number;
  completed: number;
  warmupCompleted: number;
  errors: number;
  lastAt: number;
  latency: HistogramState;
  sendLag: HistogramState;
  series: { completed: number[]; errors: number[] };
  errorKinds: ErrorKindState[];
}

/** Options for {@linkcode Aggregator}. */
export interface AggregatorOptions {
  /** When measuring begins (the end of the warmup), on the run's clock, in ms. @default {0} */
  measureFrom?: number;
  /** Width of a series interval. @default {1000} */
  intervalMs?: number;
  /**
   * The measured period: what completes after it is counted in its last
   * interval, so the series has no ragged tail. @default {Infinity}
   */
  durationMs?: number;
  /** Intervals kept before they are merged two by two. @default {3600} */
  maxPoints?: number;
  /** Kinds of error told apart; the rest are counted as `other`. @default {32} */
  maxErrorKinds?: number;
}

const NS_PER_MS = 1e6;

/**
 * The series interval for a run of `durationMs`: the shortest of 100, 200,
 * 250, 500 ms and 1 s that gives at most 40 points.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { seriesInterval } from "./aggregator.ts";
 *
 * deepEqual(seriesInterval(2000), 100);
 * deepEqual(seriesInterval(60_000), 1000);
 * ```
 */
export function seriesInterval(durationMs: number): number {
  return [100, 200, 250, 500].find((ms) => durationMs / ms <= 40) ?? 1000;
}

/**
 * Gathers the outcome of every request. Memory is bounded: the histogram
 * has fixed size, the series merges its intervals two by two past
 * `maxPoints`, and error kinds are capped.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Aggregator } from "./aggregator.ts";
 *
 * const aggregator = new Aggregator({ measureFrom: 1000 });
 * aggregator.success(0.5, 500); // during the warmup
 * aggregator.success(0.5, 1500);
 * aggregator.failure("wrong-reply", "request 21: expected 42, got 43", 1600);
 * deepEqual([aggregator.completed, aggregator.warmupCompleted, aggregator.errors], [1, 1, 1]);
 * ```
 */
export class Aggregator {
  /** Latencies after the warmup, in nanoseconds. */
  readonly latency: Histogram = new Histogram();
  /** Open loop: how late each request went out, in nanoseconds. */
  readonly sendLag: Histogram = new Histogram();
  /** Completed and correct after the warmup. */
  completed = 0;
  /** Completed during the warmup. */
  warmupCompleted = 0;
  /** Errors, warmup included. */
  errors = 0;
  /** The latest completion time, on the run's clock. */
  lastAt = 0;
  readonly measureFrom: number;
  readonly #durationMs: number;
  readonly #errorKinds = new Map<string, ErrorKindState>();
  readonly #maxErrorKinds: number;
  readonly #maxPoints: number;
  #intervalMs: number;
  #completedSeries: number[] = [];
  #errorSeries: number[] = [];

  constructor(options: AggregatorOptions = {}) {
    this.measureFrom = options.measureFrom ?? 0;
    this.#durationMs = options.durationMs ?? Infinity;
    this.#intervalMs = options.intervalMs ?? 1000;
    this.#maxPoints = Math.max(2, options.maxPoints ?? 3600);
    this.#maxErrorKinds = options.maxErrorKinds ?? 32;
  }

  /** Counts a correct completion at time `at` that took `latencyMs`. */
  success(latencyMs: number, at: number): void {
    if (at < this.measureFrom) {
      this.warmupCompleted++;
      return;
    }
    this.completed++;
    this.latency.record(latencyMs * NS_PER_MS);
    if (at > this.lastAt) this.lastAt = at;
    const index = this.#slot(at);
    this.#completedSeries[index]++;
  }

  /**
   * Counts `count` errors of `kind` at time `at`; `detail` is kept for the
   * first of each kind.
   */
  failure(kind: string, detail: string, at: number, count = 1): void {
    this.errors += count;
    let entry = this.#errorKinds.get(kind);
    if (entry === undefined) {
      if (this.#errorKinds.size >= this.#maxErrorKinds) {
        kind = "other";
        entry = this.#errorKinds.get(kind);
      }
      if (entry === undefined) {
        entry = { kind, count: 0, example: detail, firstAt: at };
        this.#errorKinds.set(kind, entry);
      }
    }
    entry.count += count;
    if (at >= this.measureFrom) {
      if (at > this.lastAt) this.lastAt = at;
      // The slot first: finding it may replace the series (past the point limit).
      const index = this.#slot(at);
      this.#errorSeries[index] += count;
    }
  }

  /** Open loop: counts how late (ms) a request went out after its intended time. */
  lag(ms: number): void {
    this.sendLag.record(ms * NS_PER_MS);
  }

  /** Errors by kind, most frequent first. */
  errorKinds(): ErrorCount[] {
    return [...this.#errorKinds.values()]
      .map(({ kind, count, example }) => ({ kind, count, example }))
      .sort((a, b) => b.count - a.count || a.kind.localeCompare(b.kind));
  }

  /** The series so far. */
  series(): Series {
    const length = this.#completedSeries.length;
    return {
      intervalMs: this.#intervalMs,
      completed: Array.from({ length }, (_, i) => this.#completedSeries[i] ?? 0),
      errors: Array.from({ length }, (_, i) => this.#errorSeries[i] ?? 0),
    };
  }

  /** Everything gathered so far as plain data, for {@linkcode Aggregator.merge}. */
  state(): AggregatorState {
    return {
      measureFrom: this.measureFrom,
      intervalMs: this.#intervalMs,
      completed: this.completed,
      warmupCompleted: this.warmupCompleted,
      errors: this.errors,
      lastAt: this.lastAt,
      latency: this.latency.state(),
      sendLag: this.sendLag.state(),
      series: { completed: [...this.#completedSeries], errors: [...this.#errorSeries] },
      errorKinds: [...this.#errorKinds.values()].map((entry) => ({ ...entry })),
    };
  }

  /**
   * Adds what another aggregator gathered (its {@linkcode Aggregator.state}),
   * as if this one had been fed its successes and failures too: counts,
   * histograms (so percentiles come from all the values, never averaged),
   * series and error kinds, each kind's example being the earliest seen.
   *
   * Times are taken relative to each aggregator's `measureFrom`: the series
   * are merged interval by interval, which is exact for aggregators that
   * began measuring at the same moment and, for the threads of one run
   * (which start within milliseconds of each other), off by at most those
   * milliseconds at interval edges. Exact as long as all together see at
   * most `maxErrorKinds` kinds of error; past that, kinds first seen later
   * are counted as `other`.
   */
  merge(state: AggregatorState): void {
    const shift = this.measureFrom - state.measureFrom;
    this.completed += state.completed;
    this.warmupCompleted += state.warmupCompleted;
    this.errors += state.errors;
    if (state.lastAt + shift > this.lastAt) this.lastAt = state.lastAt + shift;
    this.latency.mergeState(state.latency);
    this.sendLag.mergeState(state.sendLag);

    let completed = state.series.completed;
    let errors = state.series.errors;
    let intervalMs = state.intervalMs;
    while (this.#intervalMs < intervalMs) this.#coarsen();
    while (intervalMs < this.#intervalMs) {
      completed = pairs(completed);
      errors = pairs(errors);
      intervalMs *= 2;
    }
    if (intervalMs !== this.#intervalMs) {
      throw new RangeError(
        `Cannot merge series of ${state.intervalMs} ms intervals into ${this.#intervalMs} ms ones`,
      );
    }
    while (this.#completedSeries.length < completed.length) {
      this.#completedSeries.push(0);
      this.#errorSeries.push(0);
    }
    for (let i = 0; i < completed.length; i++) {
      this.#completedSeries[i] += completed[i] ?? 0;
      this.#errorSeries[i] += errors[i] ?? 0;
    }
    while (this.#completedSeries.length > this.#maxPoints) this.#coarsen();

    const kinds = [...state.errorKinds].sort((a, b) => a.firstAt - b.firstAt);
    for (const { kind, count, example, firstAt } of kinds) {
      const at = firstAt + shift;
      let name = kind;
      if (!this.#errorKinds.has(name) && this.#errorKinds.size >= this.#maxErrorKinds) {
        name = "other";
      }
      const entry = this.#errorKinds.get(name);
      if (entry === undefined) {
        this.#errorKinds.set(name, { kind: name, count, example, firstAt: at });
        continue;
      }
      entry.count += count;
      if (at < entry.firstAt) {
        entry.example = example;
        entry.firstAt = at;
      }
    }
  }

  /** The index of the interval holding `at`, merging intervals when there are too many. */
  #slot(at: number): number {
    const offset = Math.min(at - this.measureFrom, this.#durationMs - 1e-6);
    let index = Math.floor(offset / this.#intervalMs);
    while (index >= this.#maxPoints) {
      this.#coarsen();
      index = Math.floor(offset / this.#intervalMs);
    }
    while (this.#completedSeries.length <= index) {
      this.#completedSeries.push(0);
      this.#errorSeries.push(0);
    }
    return index;
  }

  #coarsen(): void {
    this.#completedSeries = pairs(this.#completedSeries);
    this.#errorSeries = pairs(this.#errorSeries);
    this.#intervalMs *= 2;
  }

  /** The run's figures as plain data; `info` says what was run. */
  result(info: RunInfo): BenchResult {
    const elapsedMs = Math.max(info.elapsedMs ?? this.lastAt - this.measureFrom, 0);
    return {
      service: info.service,
      target: info.target,
      mode: info.mode,
      loop: info.rate === undefined ? "closed" : "open",
      connections: info.connections,
      threads: info.threads ?? 1,
      ...(info.rate === undefined ? {} : { rate: info.rate }),
      durationMs: info.durationMs,
      warmupMs: info.warmupMs,
      elapsedMs,
      unit: info.unit,
      completed: this.completed,
      throughput: elapsedMs > 0 ? (this.completed * 1000) / elapsedMs : 0,
      warmupCompleted: this.warmupCompleted,
      errors: this.errors,
      errorKinds: this.errorKinds(),
      latency: summarize(this.latency),
      distribution: distribution(this.latency),
      ...(info.rate === undefined ? {} : { sendLag: summarize(this.sendLag) }),
      series: this.series(),
      interrupted: info.interrupted ?? false,
      ...(info.extra ? { extra: info.extra } : {}),
    };
  }
}

/** Adds the values of a series two by two: the series at twice the interval. */
function pairs(values: number[]): number[] {
  return Array.from(
    { length: Math.ceil(values.length / 2) },
    (_, i) => (values[2 * i] ?? 0) + (values[2 * i + 1] ?? 0),
  );
}

/** What was run, for {@linkcode Aggregator.result}. */
export interface RunInfo {
  service: string;
  target: string;
  mode: string;
  connections: number;
  /** Threads the load ran on. @default {1} */
  threads?: number;
  rate?: number;
  durationMs: number;
  warmupMs: number;
  unit: string;
  /** Measured time; by default from the end of the warmup to the last completion. */
  elapsedMs?: number;
  interrupted?: boolean;
  extra?: Record<string, number>;
}

/** Percentiles of a histogram of nanoseconds, in milliseconds. */
export function summarize(histogram: Histogram): LatencySummary {
  const ms = (ns: number) => ns / NS_PER_MS;
  return {
    count: histogram.count,
    minMs: ms(histogram.min),
    meanMs: ms(histogram.mean),
    p50Ms: ms(histogram.percentile(50)),
    p90Ms: ms(histogram.percentile(90)),
    p99Ms: ms(histogram.percentile(99)),
    p999Ms: ms(histogram.percentile(99.9)),
    maxMs: ms(histogram.max),
  };
}

/**
 * Points of the latency distribution at percentiles spaced evenly on the
 * scale 1/(1 - p) (0, 50, 75, 87.5, … as HdrHistogram plots them), as far
 * as the number of values can tell apart, then 100.
 */
export function distribution(histogram: Histogram): DistributionPoint[] {
  if (histogram.count === 0) return [];
  const points: DistributionPoint[] = [];
  for (let step = 0;; step++) {
    const tail = 0.5 ** (step / 2);
    if (1 / tail > histogram.count) break;
    const percentile = 100 * (1 - tail);
    points.push({ percentile, ms: histogram.percentile(percentile) / NS_PER_MS });
  }
  points.push({ percentile: 100, ms: histogram.max / NS_PER_MS });
  return points;
}
