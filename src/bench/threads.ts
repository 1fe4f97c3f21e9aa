/**
 * `socklab bench --threads N`: the load of a request/reply run spread over
 * N Workers, each running the load engine on its share of the connections
 * and of the rate, so that the generator can use more than one core. Their
 * progress is summed for the progress line; their aggregators' states are
 * merged into one, so the figures (percentiles included) are those of one
 * aggregator fed every exchange.
 *
 * @module
 */
import {
  Aggregator,
  type AggregatorState,
  type BenchResult,
  seriesInterval,
} from "./aggregator.ts";
import type { BenchRun, Progress } from "./engine.ts";
import { type ExchangeSettings, planExchanges } from "./settings.ts";
import type { FromLoadThread, ToLoadThread } from "./thread_worker.ts";
import { THREAD_WORKER_SOURCE } from "./thread_worker_bundle.ts";

/**
 * Shares `total` out in `parts` as evenly as possible, the larger shares
 * first.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { splitEvenly } from "./threads.ts";
 *
 * deepEqual(splitEvenly(10, 3), [4, 3, 3]);
 * ```
 */
export function splitEvenly(total: number, parts: number): number[] {
  return Array.from(
    { length: parts },
    (_, i) => Math.floor(total / parts) + (i < total % parts ? 1 : 0),
  );
}

/** A load thread's outcome: its figures and what it gathered, or what stopped it. */
type Outcome = { result: BenchResult; state: AggregatorState } | { error: Error };

/** The error a load thread reported, as the same class where there is one (a permission denial). */
function rebuildError(name: string, message: string): Error {
  const errors = Deno.errors as unknown as Record<
    string,
    (new (message: string) => Error) | undefined
  >;
  const standard: Record<string, new (message: string) => Error> = {
    RangeError,
    TypeError,
    SyntaxError,
  };
  const Class = Object.hasOwn(errors, name) ? errors[name] : standard[name];
  return Class === undefined ? new Error(message) : new Class(message);
}

/**
 * Starts the run `settings` describe on `threads` Workers: connections are
 * shared out as evenly as possible, and each thread runs its share of the
 * rate (open loop), so that the schedule in all stays `settings.rate`.
 * Aborting `signal` stops every thread; their figures so far are merged.
 * Throws a RangeError for settings that cannot run, or for more threads
 * than connections; `done` rejects with the first thread's error, once
 * every thread has stopped.
 *
 * @example
 * ```ts ignore
 * const run = runThreads({ service: "double", options: {}, target, connections: 50,
 *   durationMs: 10_000, warmupMs: 1000, timeoutMs: 3000 }, 2);
 * console.log((await run.done).throughput);
 * ```
 */
export function runThreads(
  settings: ExchangeSettings,
  threads: number,
  signal?: AbortSignal,
): BenchRun {
  if (!Number.isSafeInteger(threads) || threads < 1 || threads > settings.connections) {
    throw new RangeError(
      `Cannot use --threads ${threads} with ${settings.connections} connection${
        settings.connections === 1 ? "" : "s"
      }: each thread needs at least one`,
    );
  }
  const { unit } = planExchanges(settings); // refuse bad settings here, before any thread starts
  const shares = splitEvenly(settings.connections, threads);
  const latest: Progress[] = shares.map(() => ({
    elapsedMs: 0,
    phase: "warmup",
    completed: 0,
    warmupCompleted: 0,
    errors: 0,
  }));
  const reported = shares.map(() => false);
  const stops = new Set<() => void>();
  const stopAll = () => stops.forEach((stop) => stop());
  const start = performance.now();
  // The thread's code as a data: URL: a Worker loads it with no read
  // permission, and so does a compiled binary (which cannot load blob: URLs).
  const url = `data:text/javascript,${encodeURIComponent(THREAD_WORKER_SOURCE)}`;

  const runThread = (index: number, share: ExchangeSettings) =>
    new Promise<Outcome>((resolve) => {
      const worker = new Worker(url, { type: "module", name: `socklab bench ${index + 1}` });
      const post = (message: ToLoadThread) => worker.postMessage(message);
      const stop = () => post({ type: "stop" });
      const finish = (outcome: Outcome) => {
        stops.delete(stop);
        worker.terminate();
        latest[index] = { ...latest[index], phase: "done" };
        if ("error" in outcome) stopAll();
        resolve(outcome);
      };
      worker.onmessage = (event: MessageEvent<FromLoadThread>) => {
        const message = event.data;
        if (message.type === "progress") {
          reported[index] = true;
          latest[index] = message.progress;
        } else if (message.type === "done") {
          const { completed, warmupCompleted, errors } = message.result;
          latest[index] = { ...latest[index], completed, warmupCompleted, errors };
          finish({ result: message.result, state: message.state });
        } else {
          finish({ error: rebuildError(message.name, message.message) });
        }
      };
      worker.onerror = (event) => {
        event.preventDefault();
        finish({ error: new Error(event.message) });
      };
      worker.onmessageerror = () =>
        finish({ error: new Error("A load thread's message was lost") });
      stops.add(stop);
      post({ type: "start", settings: share });
    });

  const onAbort = () => stopAll();
  signal?.addEventListener("abort", onAbort, { once: true });
  const running = shares.map((connections, index) =>
    runThread(index, {
      ...settings,
      connections,
      ...(settings.rate === undefined ? {} : { rate: settings.rate / threads }),
    })
  );
  if (signal?.aborted) stopAll();

  const done = (async () => {
    let outcomes: Outcome[];
    try {
      outcomes = await Promise.all(running);
    } finally {
      signal?.removeEventListener("abort", onAbort);
    }
    const failed = outcomes.find((outcome) => "error" in outcome);
    if (failed !== undefined) throw failed.error;
    return merge(outcomes as Exclude<Outcome, { error: Error }>[], settings, threads, unit);
  })();

  return {
    unit,
    progress(): Progress {
      const sum = (key: "completed" | "warmupCompleted" | "errors") =>
        latest.reduce((total, progress) => total + progress[key], 0);
      // Each thread's snapshot is up to 100 ms old, and its counts are as of
      // its own elapsed time: the mean of those keeps the count and the time
      // of the sum consistent, so the rate read from two sums is steady.
      return {
        elapsedMs: reported.every(Boolean)
          ? latest.reduce((total, progress) => total + progress.elapsedMs, 0) / threads
          : performance.now() - start,
        phase: latest.every((p) => p.phase === "done")
          ? "done"
          : latest.some((p) => p.phase === "warmup")
          ? "warmup"
          : "measure",
        completed: sum("completed"),
        warmupCompleted: sum("warmupCompleted"),
        errors: sum("errors"),
      };
    },
    done,
  };
}

/** The figures of one run from those of its threads. */
function merge(
  outcomes: { result: BenchResult; state: AggregatorState }[],
  settings: ExchangeSettings,
  threads: number,
  unit: string,
): BenchResult {
  const total = new Aggregator({
    intervalMs: seriesInterval(settings.durationMs),
    durationMs: settings.durationMs,
  });
  // Each state's times count from its own thread's end of warmup: the series
  // are merged interval by interval (threads start within milliseconds).
  for (const { state } of outcomes) total.merge(state);
  const results = outcomes.map((outcome) => outcome.result);
  let extra: Record<string, number> | undefined;
  for (const result of results) {
    for (const [key, value] of Object.entries(result.extra ?? {})) {
      extra ??= {};
      extra[key] = (extra[key] ?? 0) + value;
    }
  }
  return total.result({
    service: results[0].service,
    target: results[0].target,
    mode: results[0].mode,
    connections: settings.connections,
    threads,
    rate: settings.rate,
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
    unit,
    elapsedMs: Math.max(...results.map((result) => result.elapsedMs)),
    interrupted: results.some((result) => result.interrupted),
    extra,
  });
}
