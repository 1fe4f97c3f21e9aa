import { deepEqual, equal, throws } from "node:assert/strict";
import fc from "fast-check";
import {
  checkRandomOptions,
  drawRandomNumbers,
  formatRandomReply,
  formatRandomStats,
  parseRandomReply,
  randomStats,
} from "../../src/protocol/random.ts";
import { createRandomSource } from "../../src/protocol/rng.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const parse = (s: string, expect = {}) => parseRandomReply(bytes(s), expect);

Deno.test("formatRandomReply() joins with a bare comma, as write-up 002's server does", () => {
  equal(formatRandomReply([23, 7, 100, 54, 1, 88, 9, 61, 42, 5]), "23,7,100,54,1,88,9,61,42,5");
  equal(formatRandomReply([-3]), "-3");
});

Deno.test("drawRandomNumbers() gives count numbers in range, reproducibly from a seed", () => {
  const options = { count: 10, min: 1, max: 100 };
  const a = drawRandomNumbers(createRandomSource(5), options);
  deepEqual(a, drawRandomNumbers(createRandomSource(5), options));
  equal(a.length, 10);
  equal(a.every((n) => Number.isInteger(n) && n >= 1 && n <= 100), true);
});

Deno.test("checkRandomOptions() enforces count 1..10000, safe integers and min <= max", () => {
  checkRandomOptions({ count: 1, min: 0, max: 0 });
  checkRandomOptions({ count: 10_000, min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
  throws(() => checkRandomOptions({ count: 0, min: 1, max: 2 }), /--count 0/);
  throws(() => checkRandomOptions({ count: 10_001, min: 1, max: 2 }), /--count 10001/);
  throws(() => checkRandomOptions({ count: 1.5, min: 1, max: 2 }), /--count/);
  throws(() => checkRandomOptions({ count: 1, min: 2 ** 53, max: 2 ** 53 }), /--min/);
  throws(() => checkRandomOptions({ count: 1, min: 1, max: Infinity }), /--max/);
  throws(
    () => checkRandomOptions({ count: 1, min: 5, max: 1 }),
    /Cannot use --min 5 with --max 1: --min must not exceed --max/,
  );
});

Deno.test("parseRandomReply() reads the write-up's reply, with or without a final newline", () => {
  const numbers = [23, 7, 100, 54, 1, 88, 9, 61, 42, 5];
  deepEqual(parse("23,7,100,54,1,88,9,61,42,5"), { ok: true, numbers, newline: false });
  deepEqual(parse("23,7,100,54,1,88,9,61,42,5\n"), { ok: true, numbers, newline: true });
  deepEqual(parse("23,7,100,54,1,88,9,61,42,5\r\n"), { ok: true, numbers, newline: true });
  deepEqual(parse("-5,0"), { ok: true, numbers: [-5, 0], newline: false });
});

Deno.test("parseRandomReply() names the first problem of a malformed reply", () => {
  const cases: [string | Uint8Array, string][] = [
    ["", "no numbers"],
    ["\n", "no numbers"],
    ["1,2\n\n", 'number 2 "2\\n" has whitespace around it; "," alone separates'],
    ["1,,2", 'number 2 is empty (two "," in a row, or one at an end)'],
    ["1,2,", 'number 3 is empty (two "," in a row, or one at an end)'],
    ["1, 2", 'number 2 " 2" has whitespace around it; "," alone separates'],
    ["1 2 3", 'number 1 "1 2 3" holds several numbers; "," alone separates'],
    ["1;2;3", 'number 1 "1;2;3" holds several numbers; "," alone separates'],
    ["1,x,3", 'number 2 "x" is not an integer'],
    ["1,2.5", 'number 2 "2.5" holds several numbers; "," alone separates'],
    ["1,+2", 'number 2 "+2" is not an integer'],
    ["1,9007199254740992", "number 2 9007199254740992 is beyond the safe integer range"],
    [new Uint8Array([0x31, 0x2c, 0xff]), "not UTF-8"],
  ];
  for (const [input, reason] of cases) {
    const parsed = parseRandomReply(typeof input === "string" ? bytes(input) : input);
    deepEqual(parsed, { ok: false, reason }, `for ${JSON.stringify(input)}`);
  }
});

Deno.test("parseRandomReply() checks the announced range and count", () => {
  deepEqual(parse("1,50,100", { min: 1, max: 100, count: 3 }).ok, true);
  deepEqual(parse("0,50", { min: 1 }), {
    ok: false,
    reason: "number 1 0 is below the announced minimum 1",
  });
  deepEqual(parse("1,101", { max: 100 }), {
    ok: false,
    reason: "number 2 101 is above the announced maximum 100",
  });
  deepEqual(parse("1,2", { count: 10 }), {
    ok: false,
    reason: "2 numbers where 10 were expected",
  });
});

Deno.test("formatRandomReply() then parseRandomReply() gives the numbers back (property)", () => {
  const safe = fc.integer({ min: Number.MIN_SAFE_INTEGER, max: Number.MAX_SAFE_INTEGER });
  fc.assert(
    fc.property(fc.array(safe, { minLength: 1, maxLength: 50 }), fc.boolean(), (numbers, nl) => {
      const text = formatRandomReply(numbers) + (nl ? "\n" : "");
      const expected = numbers.map((n) => n || 0);
      deepEqual(parse(text), { ok: true, numbers: expected, newline: nl });
    }),
    { numRuns: 3000 },
  );
});

Deno.test("drawn numbers always parse back within their range (property)", () => {
  fc.assert(
    fc.property(
      fc.nat(),
      fc.integer({ min: 1, max: 200 }),
      fc.integer({ min: -1e6, max: 1e6 }),
      fc.integer({ min: 0, max: 1e6 }),
      (seed, count, min, width) => {
        const options = { count, min, max: min + width };
        const numbers = drawRandomNumbers(createRandomSource(seed), options);
        deepEqual(parseRandomReply(bytes(formatRandomReply(numbers)), options), {
          ok: true,
          numbers,
          newline: false,
        });
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("parseRandomReply() never throws on arbitrary bytes (property)", () => {
  const anyBytes = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.array(fc.oneof(fc.string({ maxLength: 6 }), fc.integer().map(String)), { maxLength: 20 })
      .map((items) => bytes(items.join(","))),
  );
  const expectation = fc.record({
    min: fc.option(fc.integer(), { nil: undefined }),
    max: fc.option(fc.integer(), { nil: undefined }),
    count: fc.option(fc.integer({ min: 1, max: 30 }), { nil: undefined }),
  });
  fc.assert(
    fc.property(anyBytes, expectation, (input, expect) => {
      const result = parseRandomReply(input, expect);
      if (result.ok) equal(result.numbers.every(Number.isSafeInteger), true);
      else equal(typeof result.reason, "string");
    }),
    { numRuns: 5000 },
  );
});

Deno.test("randomStats() counts, sums exactly, and finds min, max and mean", () => {
  deepEqual(randomStats([23, 7, 100, 54, 1, 88, 9, 61, 42, 5]), {
    count: 10,
    sum: 390,
    min: 1,
    max: 100,
    mean: 39,
  });
  const big = randomStats([Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER]);
  equal(big.sum, 2n * BigInt(Number.MAX_SAFE_INTEGER));
  equal(big.mean, Number.MAX_SAFE_INTEGER);
  throws(() => randomStats([]), RangeError);
  equal(
    formatRandomStats(randomStats([1, 2, 2])),
    "Count: 3 | Sum: 5 | Min: 1 | Max: 2 | Mean: 1.667",
  );
});
