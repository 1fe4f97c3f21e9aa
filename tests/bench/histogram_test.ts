import { deepEqual, equal, ok, throws } from "node:assert/strict";
import fc from "fast-check";
import { Histogram, HISTOGRAM_RELATIVE_ERROR } from "../../src/bench/histogram.ts";
import { Aggregator, distribution, seriesInterval } from "../../src/bench/aggregator.ts";

/** The exact value of rank ⌈p/100 × n⌉, the definition the histogram follows. */
function exactPercentile(sorted: number[], p: number): number {
  const rank = Math.ceil((p * sorted.length) / 100 - 1e-9);
  return sorted[Math.min(Math.max(rank, 1), sorted.length) - 1];
}

Deno.test("Histogram is exact for small values and for min and max", () => {
  const histogram = new Histogram();
  for (const value of [3, 1, 2, 200, 7]) histogram.record(value);
  equal(histogram.count, 5);
  equal(histogram.min, 1);
  equal(histogram.max, 200);
  equal(histogram.mean, 42.6);
  equal(histogram.percentile(0), 1);
  equal(histogram.percentile(40), 2);
  equal(histogram.percentile(60), 3);
  equal(histogram.percentile(100), 200);
});

Deno.test("Histogram is empty at first and says 0", () => {
  const histogram = new Histogram();
  deepEqual([histogram.count, histogram.min, histogram.max, histogram.mean], [0, 0, 0, 0]);
  equal(histogram.percentile(99), 0);
  deepEqual(histogram.buckets(), []);
});

Deno.test("Histogram counts negative and NaN values as 0 and clamps huge ones", () => {
  const histogram = new Histogram();
  histogram.record(-5);
  histogram.record(NaN);
  histogram.record(1e20);
  equal(histogram.min, 0);
  equal(histogram.max, 2 ** 43 - 1);
  equal(histogram.count, 3);
});

Deno.test("Histogram.percentile() rejects a percentile outside 0-100", () => {
  throws(() => new Histogram().percentile(101), RangeError);
  throws(() => new Histogram().percentile(NaN), RangeError);
});

Deno.test("Histogram keeps the same memory however many values it counts", () => {
  const histogram = new Histogram();
  for (let i = 0; i < 200_000; i++) histogram.record(i * 977);
  // Every bucket holds values within 1/128 of each other: at most ~4,900 buckets exist.
  ok(histogram.buckets().length < 4_900);
  for (const bucket of histogram.buckets()) {
    ok(bucket.high - bucket.low <= Math.max(1, bucket.low / 128), JSON.stringify(bucket));
  }
});

Deno.test("Histogram.merge() gives what recording everything in one would", () => {
  const a = new Histogram();
  const b = new Histogram();
  const all = new Histogram();
  for (let i = 1; i <= 1000; i++) {
    (i % 3 === 0 ? a : b).record(i * 1013);
    all.record(i * 1013);
  }
  a.merge(b);
  deepEqual(a.buckets(), all.buckets());
  for (const p of [0, 50, 99, 100]) equal(a.percentile(p), all.percentile(p));
});

Deno.test("Histogram percentiles stay within the bucket error of an exact sort (property)", () => {
  const value = fc.oneof(
    fc.integer({ min: 0, max: 300 }),
    fc.integer({ min: 0, max: 5_000_000 }),
    fc.integer({ min: 0, max: 2 ** 42 }),
  );
  fc.assert(
    fc.property(
      fc.array(value, { minLength: 1, maxLength: 2000 }),
      fc.constantFrom(0, 1, 10, 50, 90, 99, 99.9, 100),
      (values, p) => {
        const histogram = new Histogram();
        for (const v of values) histogram.record(v);
        const sorted = [...values].sort((x, y) => x - y);
        const exact = exactPercentile(sorted, p);
        const got = histogram.percentile(p);
        return Math.abs(got - exact) <= exact * HISTOGRAM_RELATIVE_ERROR;
      },
    ),
    { numRuns: 300 },
  );
});

Deno.test("Aggregator keeps the warmup out of the figures but counts its errors", () => {
  const aggregator = new Aggregator({ measureFrom: 100, intervalMs: 10, durationMs: 50 });
  aggregator.success(1, 50);
  aggregator.failure("wrong-reply", "first", 60);
  aggregator.success(2, 105);
  aggregator.success(4, 125);
  aggregator.failure("wrong-reply", "second", 130);
  aggregator.failure("reset", "gone", 131);
  aggregator.success(3, 170); // after the end: counted in the last interval
  equal(aggregator.warmupCompleted, 1);
  equal(aggregator.completed, 3);
  equal(aggregator.errors, 3);
  deepEqual(aggregator.errorKinds(), [
    { kind: "wrong-reply", count: 2, example: "first" },
    { kind: "reset", count: 1, example: "gone" },
  ]);
  deepEqual(aggregator.series(), {
    intervalMs: 10,
    completed: [1, 0, 1, 0, 1],
    errors: [0, 0, 0, 2, 0],
  });
  equal(aggregator.latency.count, 3);
});

Deno.test("Aggregator merges its intervals two by two past the point limit", () => {
  const aggregator = new Aggregator({ intervalMs: 1, maxPoints: 8 });
  for (let at = 0; at < 100; at++) aggregator.success(1, at + 0.5);
  const series = aggregator.series();
  ok(series.completed.length <= 8);
  equal(series.intervalMs, 16);
  equal(series.completed.reduce((a, b) => a + b, 0), 100);
});

Deno.test("Aggregator tells a bounded number of error kinds apart", () => {
  const aggregator = new Aggregator({ maxErrorKinds: 2 });
  for (let i = 0; i < 10; i++) aggregator.failure(`kind-${i}`, `detail ${i}`, 0);
  const kinds = aggregator.errorKinds();
  equal(kinds.length, 3);
  equal(kinds.find((k) => k.kind === "other")?.count, 8);
});

Deno.test("distribution() climbs to the maximum at 100%", () => {
  const histogram = new Histogram();
  for (let i = 1; i <= 1000; i++) histogram.record(i * 1e6);
  const points = distribution(histogram);
  equal(points[0].percentile, 0);
  deepEqual(points[points.length - 1], { percentile: 100, ms: 1000 });
  for (let i = 1; i < points.length; i++) ok(points[i].ms >= points[i - 1].ms);
  equal(seriesInterval(10_000), 250);
});

Deno.test("Aggregator counts an error in the series when it is what passes the point limit", () => {
  const aggregator = new Aggregator({ intervalMs: 1, maxPoints: 4 });
  aggregator.success(1, 0.5);
  aggregator.failure("reset", "gone", 6.5); // interval 6 of 1 ms: the series merges to 2 ms
  deepEqual(aggregator.series(), { intervalMs: 2, completed: [1, 0, 0, 0], errors: [0, 0, 0, 1] });
});
