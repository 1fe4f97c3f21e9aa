import { deepEqual, equal, throws } from "node:assert/strict";
import fc from "fast-check";
import { Aggregator, type AggregatorOptions, type RunInfo } from "../../src/bench/aggregator.ts";
import { Histogram } from "../../src/bench/histogram.ts";

const INFO: RunInfo = {
  service: "double",
  target: "127.0.0.1:1",
  mode: "persistent",
  connections: 4,
  durationMs: 1000,
  warmupMs: 10,
  unit: "requests",
};

/** One thing a load thread records: a success, an error, or an open-loop send lag. */
type Event =
  | { type: "success"; latencyMs: number; gapMs: number; part: number }
  | { type: "failure"; kind: string; count: number; gapMs: number; part: number }
  | { type: "lag"; ms: number; gapMs: number; part: number };

const K = 4;
/** Time between two events: 1 µs to 5 ms, uniformly (fc.double leans to tiny values). */
const gap = fc.integer({ min: 1, max: 5000 }).map((us) => us / 1000);
const event: fc.Arbitrary<Event> = fc.oneof(
  fc.record({
    type: fc.constant("success" as const),
    latencyMs: fc.double({ min: 0, max: 5000, noNaN: true }),
    gapMs: gap,
    part: fc.nat(K - 1),
  }),
  fc.record({
    type: fc.constant("failure" as const),
    kind: fc.constantFrom("wrong-reply", "reset", "closed", "reply-timeout", "connect-refused"),
    count: fc.integer({ min: 1, max: 3 }),
    gapMs: gap,
    part: fc.nat(K - 1),
  }),
  fc.record({
    type: fc.constant("lag" as const),
    ms: fc.double({ min: 0, max: 50, noNaN: true }),
    gapMs: fc.constant(0),
    part: fc.nat(K - 1),
  }),
);

/** Feeds `events` (times strictly increasing from 0) to `pick(event)`. */
function feed(events: Event[], pick: (event: Event) => Aggregator): void {
  let at = 0;
  events.forEach((e, i) => {
    at += e.gapMs;
    const aggregator = pick(e);
    if (e.type === "success") aggregator.success(e.latencyMs, at);
    else if (e.type === "failure") aggregator.failure(e.kind, `${e.kind} number ${i}`, at, e.count);
    else aggregator.lag(e.ms);
  });
}

Deno.test("merging the states of aggregators fed disjoint parts gives what one aggregator fed all gives", () => {
  fc.assert(
    fc.property(
      // Long enough that the series pass the point limit and merge their intervals.
      fc.array(event, { minLength: 20, maxLength: 300 }),
      fc.integer({ min: 0, max: 100 }),
      fc.constantFrom(1, 5, 40),
      (events, measureFrom, intervalMs) => {
        // A small point limit, so that long series merge their intervals.
        const options: AggregatorOptions = { measureFrom, intervalMs, maxPoints: 8 };
        const one = new Aggregator(options);
        feed(events, () => one);
        const parts = Array.from({ length: K }, () => new Aggregator(options));
        feed(events, (e) => parts[e.part]);
        const merged = new Aggregator(options);
        // Through structuredClone, as the states travel between threads.
        for (const part of parts) merged.merge(structuredClone(part.state()));
        deepEqual(merged.result(INFO), one.result(INFO));
        deepEqual(merged.result({ ...INFO, rate: 100 }), one.result({ ...INFO, rate: 100 }));
        deepEqual(merged.state().errorKinds.length, one.state().errorKinds.length);
        equal(merged.lastAt, one.lastAt);
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("Aggregator.merge takes times relative to when each began measuring", () => {
  const a = new Aggregator({ measureFrom: 1000, intervalMs: 100 });
  a.success(1, 1050);
  a.failure("reset", "late", 1250);
  const b = new Aggregator({ measureFrom: 5000, intervalMs: 100 });
  b.failure("reset", "early", 5120);
  b.success(2, 5310);
  const merged = new Aggregator({ measureFrom: 0, intervalMs: 100 });
  merged.merge(a.state());
  merged.merge(b.state());
  deepEqual(merged.series(), { intervalMs: 100, completed: [1, 0, 0, 1], errors: [0, 1, 1, 0] });
  deepEqual(merged.errorKinds(), [{ kind: "reset", count: 2, example: "early" }]);
  equal(merged.lastAt, 310);
});

Deno.test("Histogram.mergeState refuses a state no histogram could have", () => {
  const histogram = new Histogram();
  histogram.record(5);
  const state = histogram.state();
  throws(
    () => new Histogram().mergeState({ ...state, buckets: [1e9] }),
    /Cannot merge a histogram state/,
  );
  const copy = new Histogram();
  copy.mergeState(state);
  deepEqual(copy.buckets(), histogram.buckets());
});
