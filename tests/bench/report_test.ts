import { equal, match, ok, throws } from "node:assert/strict";
import { Aggregator, type BenchResult } from "../../src/bench/aggregator.ts";
import { renderHtml, renderReport, renderSvg } from "../../src/bench/report.ts";
import { formatJson, formatMs, formatText } from "../../src/bench/printer.ts";

/**
 * Checks that `text` is well-formed XML: tags nest and close, attributes are
 * quoted, and every `&` starts an entity. Returns the root element's name.
 */
function checkWellFormed(text: string): string {
  const stack: string[] = [];
  let root = "";
  const entity = /&(amp|lt|gt|quot|apos|#\d+|#x[0-9a-fA-F]+);/y;
  const checkAmpersands = (chunk: string) => {
    for (let i = chunk.indexOf("&"); i !== -1; i = chunk.indexOf("&", i + 1)) {
      entity.lastIndex = i;
      if (!entity.test(chunk)) throw new SyntaxError(`bare & in ${JSON.stringify(chunk)}`);
    }
  };
  const body = text.replace(/^<\?xml[^>]*\?>\s*/, "");
  for (const [token] of body.matchAll(/<[^>]*>|[^<]+/g)) {
    if (!token.startsWith("<")) {
      if (stack.length === 0 && token.trim() !== "") throw new SyntaxError("text outside the root");
      checkAmpersands(token);
      continue;
    }
    const closing = /^<\/([\w:-]+)\s*>$/.exec(token);
    if (closing) {
      const open = stack.pop();
      if (open !== closing[1]) throw new SyntaxError(`</${closing[1]}> closes <${open}>`);
      continue;
    }
    const opening = /^<([\w:-]+)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>$/.exec(token);
    if (!opening) throw new SyntaxError(`malformed tag ${token.slice(0, 80)}`);
    checkAmpersands(opening[2]);
    const names = [...opening[2].matchAll(/([\w:-]+)=/g)].map((m) => m[1]);
    if (new Set(names).size !== names.length) throw new SyntaxError(`repeated attribute: ${token}`);
    if (stack.length === 0) {
      if (root) throw new SyntaxError("two root elements");
      root = opening[1];
    }
    if (opening[3] !== "/") stack.push(opening[1]);
  }
  if (stack.length > 0) throw new SyntaxError(`unclosed <${stack.join("> <")}>`);
  return root;
}

function sampleResult(options: { rate?: number; errors?: boolean; empty?: boolean } = {}) {
  const aggregator = new Aggregator({ measureFrom: 0, intervalMs: 100, durationMs: 1000 });
  if (!options.empty) {
    for (let i = 0; i < 5000; i++) {
      aggregator.success(0.05 + (i % 100) / 1000 + (i % 997 === 0 ? 3 : 0), (i / 5000) * 1000);
    }
  }
  if (options.errors) {
    aggregator.failure("wrong-reply", `request 21: expected 42, got "<43> & co"`, 500);
    aggregator.failure("reset", "connection reset by 127.0.0.1:9001", 700);
  }
  return aggregator.result({
    service: "double",
    target: "127.0.0.1:9001",
    mode: "persistent",
    connections: 50,
    rate: options.rate,
    durationMs: 1000,
    warmupMs: 200,
    unit: "requests",
    elapsedMs: 1000,
    extra: options.rate ? { due: 5000, sent: 5000, unsent: 0 } : undefined,
  });
}

Deno.test("renderSvg() is well-formed SVG with both plots and the headline figures", () => {
  const result = sampleResult();
  const svg = renderSvg(result);
  equal(checkWellFormed(svg), "svg");
  match(svg, /xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  match(svg, /Latency by percentile/);
  match(svg, /Throughput over time \(requests\/s\)/);
  match(svg, new RegExp(`p99 ${formatMs(result.latency.p99Ms)}`));
  match(svg, /5,000 requests\/s/);
  equal((svg.match(/<rect [^>]*fill="#2f6fb3"/g) ?? []).length, 10, "one bar per interval");
});

Deno.test("renderSvg() stays well-formed with errors, a rate, awkward text, and no data", () => {
  for (
    const result of [
      sampleResult({ errors: true, rate: 5000 }),
      sampleResult({ empty: true }),
      sampleResult({ empty: true, errors: true }),
    ]
  ) {
    const svg = renderSvg(result);
    equal(checkWellFormed(svg), "svg");
    ok(!svg.includes("NaN") && !svg.includes("Infinity"), "no NaN or Infinity in coordinates");
  }
  match(renderSvg(sampleResult({ rate: 5000 })), /asked: 5,000\/s/);
});

Deno.test("the well-formedness check itself catches broken markup", () => {
  throws(() => checkWellFormed("<svg><g></svg>"), SyntaxError);
  throws(() => checkWellFormed('<svg><text a="1">a & b</text></svg>'), SyntaxError);
  throws(() => checkWellFormed("<svg a=1></svg>"), SyntaxError);
});

Deno.test("renderReport() writes HTML for .html: the picture and the text summary", () => {
  const result = sampleResult({ errors: true });
  const html = renderReport(result, "run.HTML");
  ok(html.startsWith("<!DOCTYPE html>"));
  equal(checkWellFormed(renderSvg(result)), "svg");
  match(html, /<svg [^>]*>/);
  match(html, /<pre>socklab bench: double at 127.0.0.1:9001/);
  match(html, /got &quot;&lt;43&gt; &amp; co&quot;/);
  equal(renderReport(result, "run.svg"), renderSvg(result));
  equal(renderHtml(result), html);
});

Deno.test("formatText() gives totals, throughput, percentiles with units, and errors by kind", () => {
  const text = formatText(sampleResult({ errors: true }));
  match(
    text,
    /^socklab bench: double at 127.0.0.1:9001\n {2}persistent, closed loop, 50 connections/,
  );
  match(text, /Requests {5}5,000 completed, 2 errors/);
  match(text, /Throughput {3}5,000 requests\/s/);
  for (const name of ["p50", "p90", "p99", "p99.9", "max"]) {
    match(text, new RegExp(`${name.replace(".", "\\.")} +[\\d.]+ (µs|ms|s)\\n`));
  }
  match(text, /Errors {7}1 reset {8}e\.g\. connection reset by 127\.0\.0\.1:9001/);
  match(text, /1 wrong-reply {2}e\.g\. request 21/);
});

Deno.test("formatJson() round-trips the figures", () => {
  const result = sampleResult({ rate: 5000 });
  const parsed = JSON.parse(formatJson(result)) as BenchResult;
  equal(parsed.completed, 5000);
  equal(parsed.rate, 5000);
  equal(parsed.loop, "open");
  ok(Math.abs(parsed.latency.p99Ms - result.latency.p99Ms) < 1e-6);
  equal(parsed.series.completed.length, 10);
});
