/**
 * One thread of `socklab bench --threads N` (a Worker): it receives its
 * share of the run as {@linkcode ExchangeSettings}, runs the load engine on
 * it, posts progress snapshots a few times a second, and posts its figures
 * with what it gathered (an aggregator state) to be merged, or the error
 * that stopped it. `{ type: "stop" }` interrupts it, as SIGINT does a run.
 *
 * A Worker must load its code without read permission (socklab runs with
 * network permission only): `threads.ts` starts this module from its
 * bundle, `thread_worker_bundle.ts`, made by `deno task bundle-worker`.
 *
 * @module
 */
import type { AggregatorState, BenchResult } from "./aggregator.ts";
import type { Progress } from "./engine.ts";
import { type ExchangeSettings, startExchanges } from "./settings.ts";

/** What the main thread sends a load thread. */
export type ToLoadThread = { type: "start"; settings: ExchangeSettings } | { type: "stop" };

/** What a load thread sends the main thread; `done` or `error` is its last message. */
export type FromLoadThread =
  | { type: "progress"; progress: Progress }
  | { type: "done"; result: BenchResult; state: AggregatorState }
  | { type: "error"; name: string; message: string };

/** How often a load thread posts its progress. */
const PROGRESS_MS = 100;

interface WorkerScope {
  onmessage: ((event: MessageEvent<ToLoadThread>) => void) | null;
  postMessage(message: FromLoadThread): void;
}

const scope = globalThis as unknown as WorkerScope;
const controller = new AbortController();
let started = false;

async function work(settings: ExchangeSettings): Promise<void> {
  let timer: ReturnType<typeof setInterval> | undefined;
  try {
    const run = startExchanges(settings, controller.signal);
    timer = setInterval(
      () => scope.postMessage({ type: "progress", progress: run.progress() }),
      PROGRESS_MS,
    );
    const result = await run.done;
    scope.postMessage({ type: "done", result, state: run.state!() });
  } catch (error) {
    scope.postMessage({
      type: "error",
      name: error instanceof Error ? error.name : "Error",
      message: error instanceof Error ? error.message : String(error),
    });
  } finally {
    clearInterval(timer);
  }
}

scope.onmessage = (event) => {
  const message = event.data;
  if (message.type === "stop") controller.abort();
  else if (message.type === "start" && !started) {
    started = true;
    void work(message.settings);
  }
};
