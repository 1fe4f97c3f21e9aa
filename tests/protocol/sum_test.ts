import { deepEqual, equal, throws } from "node:assert/strict";
import fc from "fast-check";
import {
  addIntegers,
  checkSumName,
  detectSumDialect,
  formatSumReply,
  formatSumRequest,
  isInSumRange,
  parseSumReply,
  parseSumRequest,
  pythonJsonString,
  type SumDialect,
  sumExchange,
  sumLines,
} from "../../src/protocol/sum.ts";

const bytes = (s: string) => new TextEncoder().encode(s);
/** Any UTF-16 string, lone surrogates included (faster than fast-check's "binary" unit). */
const utf16 = (maxLength: number, minLength = 0) =>
  fc.array(fc.integer({ min: 0, max: 0xffff }), { minLength, maxLength })
    .map((units) => String.fromCharCode(...units));
const request = (s: string) => parseSumRequest(bytes(s));
// deno-lint-ignore no-control-regex
const CONTROLS = /[\x00-\x1f\x7f-\x9f]/g;

Deno.test("parseSumRequest() reads write-up 003's text request", () => {
  deepEqual(request("Client of John Q. Smith;25"), {
    ok: true,
    message: { dialect: "text", name: "Client of John Q. Smith", number: 25 },
  });
});

Deno.test("parseSumRequest() allows whitespace around both parts and int() forms", () => {
  const cases: [string, string, number][] = [
    ["A; 25", "A", 25],
    ["  A  ;  25  ", "A", 25],
    ["A;+2_5", "A", 25],
    ["A;\t-0\r", "A", 0],
    ["Zoë of Paris;100", "Zoë of Paris", 100],
    ["A;0", "A", 0],
    ["A;-7", "A", -7],
  ];
  for (const [input, name, number] of cases) {
    deepEqual(
      request(input),
      { ok: true, message: { dialect: "text", name, number } },
      `for ${JSON.stringify(input)}`,
    );
  }
});

Deno.test("parseSumRequest() keeps every digit of a huge number as a bigint", () => {
  const huge = "9".repeat(40);
  deepEqual(request(`A;${huge}`), {
    ok: true,
    message: { dialect: "text", name: "A", number: BigInt(huge) },
  });
  deepEqual(request(`{"client_name": "A", "client_number": ${huge}}`), {
    ok: true,
    message: { dialect: "json", name: "A", number: BigInt(huge) },
  });
});

Deno.test("parseSumRequest() names what is wrong with a malformed text request", () => {
  const cases: [string | Uint8Array, string][] = [
    ["", "empty"],
    [" \t ", "empty"],
    ["Client of Ada", 'no ";" between the name and the number'],
    ["A;1;2", '2 ";" where there must be one'],
    [";25", "the name is empty"],
    ["  ;25", "the name is empty"],
    ["A\x1b[31m;25", "the name contains control characters"],
    ["A;", 'the number "" is not an integer'],
    ["A;x", 'the number "x" is not an integer'],
    ["A;1.5", 'the number "1.5" is not an integer'],
    ["A;1__0", 'the number "1__0" is not an integer'],
    ["A;0x10", 'the number "0x10" is not an integer'],
    [new Uint8Array([0x41, 0x3b, 0xff]), "not UTF-8"],
  ];
  for (const [input, reason] of cases) {
    const parsed = parseSumRequest(typeof input === "string" ? bytes(input) : input);
    deepEqual(parsed, { ok: false, dialect: "text", reason }, `for ${JSON.stringify(input)}`);
  }
});

Deno.test("parseSumRequest() reads write-up 001's JSON request", () => {
  deepEqual(request('{"client_name": "Amirreza Yarahmadi Client", "client_number": 25}'), {
    ok: true,
    message: { dialect: "json", name: "Amirreza Yarahmadi Client", number: 25 },
  });
  // Compact, spaced, reordered, extra keys: all the same request.
  deepEqual(request(' \n{"client_number":25,"extra":[1,{"a":2}],"client_name":"A"} '), {
    ok: true,
    message: { dialect: "json", name: "A", number: 25 },
  });
});

Deno.test("parseSumRequest() names what is wrong with a malformed JSON request", () => {
  const cases: [string, string][] = [
    ["{", "not valid JSON"],
    ['{"client_name": "A", "client_number": 25}}', "not valid JSON"],
    ["{} []", "not valid JSON"],
    ["{}", '"client_name" is missing'],
    ['{"client_name": "A"}', '"client_number" is missing'],
    ['{"client_number": 25}', '"client_name" is missing'],
    ['{"client_name": 5, "client_number": 25}', '"client_name" is not a string'],
    ['{"client_name": "", "client_number": 25}', "the name is empty"],
    ['{"client_name": "A\\u0000", "client_number": 25}', "the name contains control characters"],
    ['{"client_name": "A", "client_number": "25"}', '"client_number" is not an integer: "25"'],
    ['{"client_name": "A", "client_number": 25.5}', '"client_number" is not an integer: 25.5'],
    ['{"client_name": "A", "client_number": 25.0}', '"client_number" is not an integer: 25.0'],
    ['{"client_name": "A", "client_number": 1e1}', '"client_number" is not an integer: 1e1'],
    ['{"client_name": "A", "client_number": true}', '"client_number" is not an integer: true'],
    ['{"client_name": "A", "client_number": null}', '"client_number" is not an integer: null'],
    [
      '{"server_name": "A", "server_number": 25}',
      '"client_name" is missing',
    ],
  ];
  for (const [input, reason] of cases) {
    deepEqual(request(input), { ok: false, dialect: "json", reason }, `for ${input}`);
  }
});

Deno.test("detectSumDialect() looks at the first non-space byte only", () => {
  equal(detectSumDialect(bytes("{")), "json");
  equal(detectSumDialect(bytes(" \r\n\t{x")), "json");
  equal(detectSumDialect(bytes("A;{}")), "text");
  equal(detectSumDialect(bytes("[1]")), "text");
  equal(detectSumDialect(bytes("")), "text");
});

Deno.test("isInSumRange() is 1..100 inclusive, for numbers and bigints", () => {
  deepEqual([0, 1, 50, 100, 101, -1].map(isInSumRange), [false, true, true, true, false, false]);
  equal(isInSumRange(10n ** 30n), false);
  equal(isInSumRange(100n), true);
});

Deno.test("formatSumReply() writes the write-ups' replies byte for byte", () => {
  equal(
    formatSumReply({ name: "Server of John Q. Smith", number: 50 }, "text"),
    "Server of John Q. Smith;50",
  );
  equal(
    formatSumReply({ name: "Amirreza Yarahmadi Server", number: 10 }, "json"),
    '{"server_name": "Amirreza Yarahmadi Server", "server_number": 10}',
  );
});

Deno.test("formatSumRequest() writes the write-ups' requests byte for byte", () => {
  equal(
    formatSumRequest({ name: "Client of John Q. Smith", number: 25 }, "text"),
    "Client of John Q. Smith;25",
  );
  equal(
    formatSumRequest({ name: "Amirreza Yarahmadi Client", number: 25 }, "json"),
    '{"client_name": "Amirreza Yarahmadi Client", "client_number": 25}',
  );
});

Deno.test("pythonJsonString() matches Python's json.dumps (ensure_ascii)", () => {
  // Expected values printed by Python 3.11's json.dumps.
  const cases: [string, string][] = [
    ["Zoë", '"Zo\\u00eb"'],
    ["名前", '"\\u540d\\u524d"'],
    ["😀 x", '"\\ud83d\\ude00 x"'],
    ['a"b\\c', '"a\\"b\\\\c"'],
    ["tab\there\nnl\r\b\f", '"tab\\there\\nnl\\r\\b\\f"'],
    ["\x7f\x00\x1f", '"\\u007f\\u0000\\u001f"'],
    ["\u0085\u2028", '"\\u0085\\u2028"'],
  ];
  for (const [input, expected] of cases) equal(pythonJsonString(input), expected);
});

Deno.test("pythonJsonString() is ASCII JSON that reads back as the same string (property)", () => {
  fc.assert(
    fc.property(utf16(60), (text) => {
      const json = pythonJsonString(text);
      equal(/^[\x20-\x7e]*$/.test(json), true);
      equal(JSON.parse(json), text);
    }),
    { numRuns: 2000 },
  );
});

Deno.test("parseSumReply() accepts NAME;50 and NAME; 50 (write-up 003's code and listing)", () => {
  const expected = {
    ok: true,
    message: { dialect: "text", name: "Server of John Q. Smith", number: 50 },
  };
  deepEqual(parseSumReply(bytes("Server of John Q. Smith;50")), expected);
  deepEqual(parseSumReply(bytes("Server of John Q. Smith; 50")), expected);
  deepEqual(
    parseSumReply(bytes('{"server_name": "Amirreza Yarahmadi Server", "server_number": 10}')),
    { ok: true, message: { dialect: "json", name: "Amirreza Yarahmadi Server", number: 10 } },
  );
  deepEqual(parseSumReply(bytes('{"client_name": "A", "client_number": 1}')), {
    ok: false,
    dialect: "json",
    reason: '"server_name" is missing',
  });
});

const names = fc.string({ unit: "grapheme", minLength: 1, maxLength: 30 })
  .map((s) => s.replace(CONTROLS, "").replaceAll(";", "").trim())
  .filter((s) => s !== "" && !s.startsWith("{"));
const integers = fc.oneof(
  fc.integer({ min: -1000, max: 1000 }),
  fc.bigInt({ min: -(10n ** 60n), max: 10n ** 60n }).map((n) =>
    n >= Number.MIN_SAFE_INTEGER && n <= Number.MAX_SAFE_INTEGER ? Number(n) : n
  ),
);
const dialects = fc.constantFrom<SumDialect>("text", "json");

Deno.test("formatSumRequest() then parseSumRequest() gives the request back (property)", () => {
  fc.assert(
    fc.property(names, integers, dialects, (name, number, dialect) => {
      deepEqual(parseSumRequest(bytes(formatSumRequest({ name, number }, dialect))), {
        ok: true,
        message: { dialect, name, number },
      });
    }),
    { numRuns: 3000 },
  );
});

Deno.test("formatSumReply() then parseSumReply() gives the reply back (property)", () => {
  fc.assert(
    fc.property(names, integers, dialects, (name, number, dialect) => {
      deepEqual(parseSumReply(bytes(formatSumReply({ name, number }, dialect))), {
        ok: true,
        message: { dialect, name, number },
      });
    }),
    { numRuns: 3000 },
  );
});

Deno.test("JSON names may hold any character but controls, and round-trip (property)", () => {
  const jsonNames = utf16(30, 1)
    .filter((s) => s.trim() !== "" && s.replace(CONTROLS, "") === s);
  fc.assert(
    fc.property(jsonNames, fc.integer({ min: 1, max: 100 }), (name, number) => {
      // The JSON text is ASCII (\uXXXX escapes), so even lone surrogates come back.
      deepEqual(parseSumRequest(bytes(formatSumRequest({ name, number }, "json"))), {
        ok: true,
        message: { dialect: "json", name, number },
      });
    }),
    { numRuns: 2000 },
  );
});

Deno.test("parseSumRequest() and parseSumReply() never throw on arbitrary bytes (property)", () => {
  const anyBytes = fc.oneof(
    fc.uint8Array({ maxLength: 200 }),
    fc.string({ maxLength: 80 }).map(bytes),
    fc.tuple(fc.string({ maxLength: 20 }), fc.string({ maxLength: 20 })).map(([a, b]) =>
      bytes(`${a};${b}`)
    ),
    fc.json().map((j) => bytes(j)),
    fc.record({ client_name: fc.anything(), client_number: fc.anything() }).map((o) => {
      try {
        return bytes(JSON.stringify(o) ?? "");
      } catch {
        return bytes("{");
      }
    }),
  );
  fc.assert(
    fc.property(anyBytes, (input) => {
      for (const result of [parseSumRequest(input), parseSumReply(input)]) {
        equal(typeof result.ok, "boolean");
        if (!result.ok) equal(typeof result.reason, "string");
      }
    }),
    { numRuns: 5000 },
  );
});

Deno.test("sumLines() words the exchange as PROTOCOLS.md does", () => {
  const exchange = sumExchange(
    { name: "Amirreza Yarahmadi Client", number: 25 },
    { name: "Amirreza Yarahmadi Server", number: 10 },
  );
  deepEqual(sumLines(exchange), [
    "Client Name: Amirreza Yarahmadi Client | Server Name: Amirreza Yarahmadi Server",
    "Client Number: 25 | Server Number: 10 | Sum: 35",
  ]);
});

Deno.test("addIntegers() is exact, whatever the sizes (property)", () => {
  fc.assert(
    fc.property(integers, integers, (a, b) => {
      const sum = addIntegers(a, b);
      equal(BigInt(sum), BigInt(a) + BigInt(b));
      equal(typeof sum === "number", Number.isSafeInteger(Number(BigInt(a) + BigInt(b))));
    }),
    { numRuns: 2000 },
  );
});

Deno.test("checkSumName() refuses names that would break a dialect or a terminal", () => {
  equal(checkSumName("Server of Ada", "--name"), "Server of Ada");
  throws(() => checkSumName("", "--name"), /must not be blank/);
  throws(() => checkSumName("   ", "--name"), /must not be blank/);
  throws(() => checkSumName("a;b", "--name"), /must not contain ";"/);
  throws(() => checkSumName("a\nb", "--name"), /control characters/);
  throws(() => checkSumName(" a", "--name"), /whitespace/);
  throws(() => checkSumName("{a}", "--name"), /must not start with "\{"/);
});
