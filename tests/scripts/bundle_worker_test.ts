import { equal } from "node:assert/strict";
import { bundleWorker } from "../../scripts/bundle_worker.ts";
import { THREAD_WORKER_SOURCE } from "../../src/bench/thread_worker_bundle.ts";

Deno.test("the bundled load thread is up to date with its sources (else: deno task bundle-worker)", async () => {
  const fresh = await bundleWorker();
  equal(
    fresh === THREAD_WORKER_SOURCE,
    true,
    "src/bench/thread_worker_bundle.ts is out of date: run deno task bundle-worker",
  );
});
