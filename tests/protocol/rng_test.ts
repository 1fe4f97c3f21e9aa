import { deepEqual, equal, throws } from "node:assert/strict";
import fc from "fast-check";
import {
  createRandomSource,
  randomInteger,
  type RandomSource,
  Xoshiro128,
} from "../../src/protocol/rng.ts";

const draw = (source: RandomSource, n: number) =>
  Array.from({ length: n }, () => source.nextUint32());

Deno.test("Xoshiro128 matches the reference C code of xoshiro128** 1.1", () => {
  // Printed by Blackman and Vigna's xoshiro128starstar.c from the state {1, 2, 3, 4}.
  deepEqual(draw(Xoshiro128.fromState([1, 2, 3, 4]), 6), [
    11520,
    0,
    5927040,
    70819200,
    2031721883,
    1637235492,
  ]);
});

Deno.test("Xoshiro128 seeds through SplitMix64 as the reference code does", () => {
  // Reference C: state words from two splitmix64 outputs (low half first).
  deepEqual(draw(new Xoshiro128(0), 3), [3737715805, 2584255861, 2876756834]);
  deepEqual(draw(new Xoshiro128(42), 3), [1776835114, 4165204688, 17111135]);
  deepEqual(draw(new Xoshiro128(Number.MAX_SAFE_INTEGER), 3), [1233166643, 1287031142, 661813442]);
});

Deno.test("Xoshiro128 refuses a seed that is not a whole number from 0 to 2^53 - 1", () => {
  for (const seed of [-1, 1.5, Number.MAX_SAFE_INTEGER + 1, NaN]) {
    throws(() => new Xoshiro128(seed), RangeError);
  }
  throws(() => Xoshiro128.fromState([0, 0, 0, 0]), RangeError);
});

Deno.test("createRandomSource() is reproducible with a seed and varies without one", () => {
  deepEqual(draw(createRandomSource(7), 8), draw(createRandomSource(7), 8));
  // Two unseeded sources agreeing on 8 words would be a 2^-256 coincidence.
  const [a, b] = [draw(createRandomSource(), 8), draw(createRandomSource(), 8)];
  equal(a.join() === b.join(), false);
});

Deno.test("randomInteger() stays within min..max and hits both ends (property)", () => {
  fc.assert(
    fc.property(
      fc.nat(),
      fc.integer({ min: -1000, max: 1000 }),
      fc.integer({ min: 0, max: 20 }),
      (seed, min, width) => {
        const source = createRandomSource(seed);
        const seen = new Set<number>();
        for (let i = 0; i < 200; i++) {
          const value = randomInteger(source, { min, max: min + width });
          equal(Number.isSafeInteger(value) && value >= min && value <= min + width, true);
          seen.add(value);
        }
        if (width <= 5) equal(seen.size, width + 1);
      },
    ),
    { numRuns: 500 },
  );
});

Deno.test("randomInteger() handles spans beyond 32 bits up to the whole safe range (property)", () => {
  const safe = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
  fc.assert(
    fc.property(fc.nat(), safe, safe, (seed, a, b) => {
      const [min, max] = a <= b ? [a, b] : [b, a];
      const value = randomInteger(createRandomSource(seed), { min, max });
      equal(Number.isSafeInteger(value) && value >= min && value <= max, true);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("randomInteger() has no modulo bias where a modulo would have one", () => {
  // With span 3 * 2^30, `u % span` would make the first 2^30 values twice as likely.
  const source = createRandomSource(1);
  const span = 3 * 2 ** 30;
  let low = 0;
  const runs = 30_000;
  for (let i = 0; i < runs; i++) {
    if (randomInteger(source, { min: 0, max: span - 1 }) < 2 ** 30) low++;
  }
  // Unbiased: 1/3 (10000 ± ~250 at 3 sigma); biased: 1/2 (15000).
  equal(Math.abs(low - runs / 3) < 400, true, `${low} of ${runs} in the first third`);
});

Deno.test("randomInteger() is uniform on 1..100 (chi-square)", () => {
  const source = createRandomSource(2024);
  const counts = new Array(100).fill(0);
  const runs = 100_000;
  for (let i = 0; i < runs; i++) counts[randomInteger(source, { min: 1, max: 100 }) - 1]++;
  const expected = runs / 100;
  const chi2 = counts.reduce((sum, c) => sum + (c - expected) ** 2 / expected, 0);
  // 99 degrees of freedom: the 99.9th percentile is about 148.
  equal(chi2 < 148, true, `chi-square ${chi2}`);
});

Deno.test("randomInteger() refuses an empty or unsafe range", () => {
  const source = createRandomSource(1);
  throws(() => randomInteger(source, { min: 2, max: 1 }), RangeError);
  throws(() => randomInteger(source, { min: 0, max: 2 ** 53 }), RangeError);
  throws(() => randomInteger(source, { min: 0.5, max: 1 }), RangeError);
  equal(randomInteger(source, { min: 5, max: 5 }), 5);
});
