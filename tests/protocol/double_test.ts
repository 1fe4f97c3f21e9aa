import { deepEqual, equal } from "node:assert/strict";
import fc from "fast-check";
import {
  doubleReply,
  INVALID_INTEGER_REPLY,
  judgeDoubleReply,
  MAX_INTEGER_DIGITS,
  parseInteger,
} from "../../src/protocol/double.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
const reply = (s: string) => doubleReply(bytes(s));

Deno.test("doubleReply() doubles what Python's int() accepts", () => {
  const cases: [string, string][] = [
    ["21", "42"],
    ["-5", "-10"],
    ["+7", "14"],
    [" +1_000 ", "2000"],
    ["\t12\r", "24"],
    ["007", "14"],
    ["-0", "0"],
    ["0_0", "0"],
    ["\x0b3\x0c", "6"],
    ["9007199254740993", "18014398509481986"],
    ["123_456_789_012_345_678", "246913578024691356"],
  ];
  for (const [input, expected] of cases) {
    equal(reply(input), expected, `for ${JSON.stringify(input)}`);
  }
});

Deno.test("doubleReply() rejects what Python's int() rejects", () => {
  const cases = [
    "",
    " ",
    "abc",
    "1.5",
    "1e3",
    "_1",
    "1_",
    "1__0",
    "+-1",
    "- 1",
    "0x10",
    "1 2",
    "\x1c5",
  ];
  for (const input of cases) {
    equal(reply(input), INVALID_INTEGER_REPLY, `for ${JSON.stringify(input)}`);
  }
});

Deno.test("doubleReply() rejects bytes that are not UTF-8", () => {
  equal(doubleReply(new Uint8Array([0x31, 0xff, 0x32])), INVALID_INTEGER_REPLY);
});

Deno.test("doubleReply() accepts 4300 digits and rejects 4301", () => {
  const big = "9".repeat(MAX_INTEGER_DIGITS);
  equal(reply(big), String(BigInt(big) * 2n));
  equal(reply(big + "9"), INVALID_INTEGER_REPLY);
  equal(reply("1_" + "0".repeat(MAX_INTEGER_DIGITS - 1)), String(10n ** 4299n * 2n));
});

Deno.test("doubleReply() is twice any integer within the limit (property)", () => {
  fc.assert(
    fc.property(fc.bigInt({ min: -(10n ** 200n), max: 10n ** 200n }), (n) => {
      equal(reply(String(n)), String(n * 2n));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("parseInteger() agrees with underscores placed between digits (property)", () => {
  fc.assert(
    fc.property(
      fc.array(fc.integer({ min: 0, max: 999 }), { minLength: 1, maxLength: 8 }),
      (groups) => {
        const text = groups.map(String).join("_");
        equal(BigInt(parseInteger(bytes(text))!), BigInt(groups.map(String).join("")));
      },
    ),
    { numRuns: 1000 },
  );
});

Deno.test("doubleReply() never throws on arbitrary bytes (property)", () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 300 }), (input) => {
      const out = doubleReply(input);
      equal(typeof out, "string");
    }),
    { numRuns: 3000 },
  );
});

Deno.test("judgeDoubleReply() tells right, wrong and malformed replies apart", () => {
  deepEqual(judgeDoubleReply("21", "42"), { kind: "ok", value: 42n });
  deepEqual(judgeDoubleReply("21", "43"), { kind: "wrong", expected: "42", actual: "43" });
  deepEqual(judgeDoubleReply("x", "Received data is not valid integer"), {
    kind: "invalid-request",
    text: "Received data is not valid integer",
  });
  deepEqual(judgeDoubleReply("21", "forty-two"), { kind: "malformed", text: "forty-two" });
});
