/**
 * Reports of a conformance run: the h2spec-style text people know, JSON,
 * and JUnit XML for graders' CI.
 *
 * @module
 */
import type { CaseResult, CheckReport } from "./runner.ts";

/** Options for {@linkcode formatResultLine}. */
export interface TextOptions {
  /** Use ✔ and × (default) or ASCII `ok` / `FAIL`. */
  ascii?: boolean;
}

/** One case as it is printed as the run goes, with details for a failure. */
export function formatResultLine(result: CaseResult, options: TextOptions = {}): string {
  const mark = result.status === "passed"
    ? (options.ascii ? "ok  " : "✔")
    : result.status === "failed"
    ? (options.ascii ? "FAIL" : "×")
    : (options.ascii ? "skip" : "-");
  let line = `  ${mark} ${result.id}`;
  if (result.status === "skipped") line += ` (skipped: ${result.reason})`;
  line += "\n";
  if (result.status === "failed") {
    line += `    -> ${result.requirement}\n`;
    if (result.expected !== undefined) line += `       Expected: ${result.expected}\n`;
    if (result.actual !== undefined) line += `         Actual: ${result.actual}\n`;
    if (result.reason !== undefined) line += `         Reason: ${result.reason}\n`;
  }
  return line;
}

/** The closing count line: `N tests, N passed, N skipped, N failed`. */
export function formatSummary(report: CheckReport): string {
  const { total, passed, skipped, failed } = report.counts;
  return `${total} tests, ${passed} passed, ${skipped} skipped, ${failed} failed\n`;
}

/** The heading printed before the first case. */
export function formatHeading(service: string, target: string): string {
  return `socklab check ${service} ${target}\n`;
}

/** The whole run as text (heading, a line per case, failures in full, summary). */
export function formatText(report: CheckReport, options: TextOptions = {}): string {
  return formatHeading(report.service, report.target) +
    report.results.map((result) => formatResultLine(result, options)).join("") + "\n" +
    formatSummary(report);
}

/** The whole run as one JSON document. */
export function formatJson(report: CheckReport): string {
  return JSON.stringify(
    {
      service: report.service,
      target: report.target,
      counts: report.counts,
      durationMs: Math.round(report.durationMs),
      results: report.results.map((r) => ({
        id: r.id,
        requirement: r.requirement,
        status: r.status,
        ...(r.expected !== undefined ? { expected: r.expected } : {}),
        ...(r.actual !== undefined ? { actual: r.actual } : {}),
        ...(r.reason !== undefined ? { reason: r.reason } : {}),
        durationMs: Math.round(r.durationMs),
      })),
    },
    null,
    2,
  ) + "\n";
}

function xml(text: string): string {
  let out = "";
  for (const char of text) {
    const code = char.charCodeAt(0);
    if (code < 0x20 && code !== 9 && code !== 10 && code !== 13) out += "\uFFFD"; // not allowed in XML 1.0
    else if (char === "&") out += "&amp;";
    else if (char === "<") out += "&lt;";
    else if (char === ">") out += "&gt;";
    else if (char === '"') out += "&quot;";
    else if (char === "'") out += "&apos;";
    else out += char;
  }
  return out;
}

/**
 * The run as JUnit XML: one testsuite, a testcase per case.
 *
 * @example
 * ```ts
 * import { match } from "node:assert/strict";
 * import { formatJunit } from "./report.ts";
 *
 * const xmlText = formatJunit({
 *   service: "double", target: "127.0.0.1:9001", durationMs: 3,
 *   counts: { total: 0, passed: 0, failed: 0, skipped: 0 }, results: [],
 * });
 * match(xmlText, /<testsuite name="socklab check double"/);
 * ```
 */
export function formatJunit(report: CheckReport): string {
  const seconds = (ms: number) => (ms / 1000).toFixed(3);
  const cases = report.results.map((r) => {
    const open = `    <testcase classname="${xml(report.service)}" name="${xml(r.id)}" time="${
      seconds(r.durationMs)
    }"`;
    if (r.status === "passed") return `${open}/>`;
    if (r.status === "skipped") {
      return `${open}>\n      <skipped message="${xml(r.reason ?? "")}"/>\n    </testcase>`;
    }
    const detail = [
      r.requirement,
      r.expected !== undefined ? `Expected: ${r.expected}` : "",
      r.actual !== undefined ? `Actual: ${r.actual}` : "",
      r.reason !== undefined ? `Reason: ${r.reason}` : "",
    ].filter(Boolean).join("\n");
    return `${open}>\n      <failure message="${xml(r.requirement)}">${
      xml(detail)
    }</failure>\n    </testcase>`;
  });
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n  <testsuite name="socklab check ${
    xml(report.service)
  }" tests="${report.counts.total}" failures="${report.counts.failed}" skipped="${report.counts.skipped}" time="${
    seconds(report.durationMs)
  }" hostname="${xml(report.target)}">\n${cases.join("\n")}\n  </testsuite>\n</testsuites>\n`;
}
