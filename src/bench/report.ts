/**
 * `--report FILE.svg` / `FILE.html`: a run as a picture — the latency
 * distribution by percentile (the tail is where servers differ) and the
 * throughput over time — in hand-written SVG with no dependencies.
 *
 * @module
 */
import type { BenchResult } from "./aggregator.ts";
import { describeRun, formatCount, formatMs, formatText } from "./printer.ts";

const WIDTH = 960;
const HEIGHT = 720;
const MARGIN_LEFT = 84;
const MARGIN_RIGHT = 36;
const PLOT_WIDTH = WIDTH - MARGIN_LEFT - MARGIN_RIGHT;
const INK = "#1f2328";
const MUTED = "#656d76";
const GRID = "#d8dee4";
const BLUE = "#2f6fb3";
const RED = "#c93c37";
/** A white outline under a label, so that it reads over the lines it crosses. */
const HALO = { stroke: "#ffffff", "stroke-width": 3, "paint-order": "stroke" };
const FONT = "system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif";

/**
 * Escapes text for XML content and attribute values.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { escapeXml } from "./report.ts";
 *
 * deepEqual(escapeXml(`<a href="x">&</a>`), "&lt;a href=&quot;x&quot;&gt;&amp;&lt;/a&gt;");
 * ```
 */
export function escapeXml(text: string): string {
  return text.replace(
    /[&<>"']/g,
    (c) =>
      c === "&"
        ? "&amp;"
        : c === "<"
        ? "&lt;"
        : c === ">"
        ? "&gt;"
        : c === '"'
        ? "&quot;"
        : "&#39;",
  )
    // Characters XML 1.0 does not allow at all.
    // deno-lint-ignore no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, "\ufffd");
}

/**
 * Round steps for an axis from 0 to at least `max`: 1, 2 or 5 times a power
 * of ten, about `count` of them.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { niceTicks } from "./report.ts";
 *
 * deepEqual(niceTicks(87, 5), [0, 20, 40, 60, 80, 100]);
 * ```
 */
export function niceTicks(max: number, count: number): number[] {
  if (!(max > 0)) return [0, 1];
  const raw = max / count;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power;
  const ticks: number[] = [];
  for (let i = 0; ticks.length === 0 || ticks[ticks.length - 1] < max; i++) {
    ticks.push(Number((i * step).toPrecision(12)));
  }
  return ticks;
}

const num = (value: number) => Number(value.toFixed(2));

function text(
  x: number,
  y: number,
  content: string,
  attributes: Record<string, string | number> = {},
): string {
  const attrs = Object.entries(attributes).map(([k, v]) => ` ${k}="${escapeXml(String(v))}"`)
    .join("");
  return `<text x="${num(x)}" y="${num(y)}"${attrs}>${escapeXml(content)}</text>`;
}

function line(x1: number, y1: number, x2: number, y2: number, stroke: string, extra = ""): string {
  return `<line x1="${num(x1)}" y1="${num(y1)}" x2="${num(x2)}" y2="${
    num(y2)
  }" stroke="${stroke}"${extra}/>`;
}

/** Plots latency by percentile; x is log10(1 / (1 - p)), as HdrHistogram plots it. */
function latencyPanel(result: BenchResult, top: number, height: number): string {
  const parts: string[] = [];
  const title = result.mode === "fan-out"
    ? "Delivery latency by percentile"
    : "Latency by percentile";
  parts.push(text(MARGIN_LEFT, top - 14, title, { "font-size": 15, "font-weight": 600 }));
  const points = result.distribution;
  if (points.length === 0) {
    parts.push(text(MARGIN_LEFT, top + height / 2, "no replies measured", { fill: MUTED }));
    return parts.join("\n");
  }
  const count = result.latency.count;
  const xMax = Math.max(1, Math.log10(Math.max(count, 10)));
  const xOf = (percentile: number) => {
    const tail = 1 - percentile / 100;
    const position = tail <= 0 ? xMax : Math.min(Math.log10(1 / tail), xMax);
    return MARGIN_LEFT + (position / xMax) * PLOT_WIDTH;
  };
  const yTicks = niceTicks(result.latency.maxMs, 5);
  const yMax = yTicks[yTicks.length - 1];
  const yOf = (ms: number) => top + height - (ms / yMax) * height;
  for (const tick of yTicks) {
    const y = yOf(tick);
    parts.push(line(MARGIN_LEFT, y, MARGIN_LEFT + PLOT_WIDTH, y, GRID));
    parts.push(
      text(MARGIN_LEFT - 8, y + 4, tick === 0 ? "0" : formatMs(tick), {
        "text-anchor": "end",
        fill: MUTED,
        "font-size": 12,
      }),
    );
  }
  for (let decade = 0; decade <= Math.floor(xMax); decade++) {
    const percentile = 100 * (1 - 10 ** -decade);
    const x = xOf(percentile);
    const label = decade === 0 ? "0%" : `${Number(percentile.toFixed(decade))}%`;
    parts.push(line(x, top, x, top + height, GRID));
    parts.push(
      text(x, top + height + 18, label, { "text-anchor": "middle", fill: MUTED, "font-size": 12 }),
    );
  }
  parts.push(
    text(MARGIN_LEFT + PLOT_WIDTH, top + height + 36, "percentile (log scale of the tail)", {
      "text-anchor": "end",
      fill: MUTED,
      "font-size": 12,
    }),
  );
  // A step line: each percentile's latency holds until the next point.
  let d = "";
  points.forEach((point, i) => {
    const x = xOf(point.percentile);
    const y = yOf(point.ms);
    d += i === 0 ? `M${num(x)},${num(y)}` : `H${num(x)}V${num(y)}`;
  });
  const area = `${d}V${num(top + height)}H${num(MARGIN_LEFT)}Z`;
  parts.push(`<path d="${area}" fill="${BLUE}" fill-opacity="0.12" stroke="none"/>`);
  parts.push(`<path d="${d}" fill="none" stroke="${BLUE}" stroke-width="2.5"/>`);
  const marks: [string, number, number][] = [
    ["p50", 50, result.latency.p50Ms],
    ["p90", 90, result.latency.p90Ms],
    ["p99", 99, result.latency.p99Ms],
    ["p99.9", 99.9, result.latency.p999Ms],
  ];
  for (const [name, percentile, ms] of marks) {
    if (1 / (1 - percentile / 100) > count) continue;
    const x = xOf(percentile);
    const y = yOf(ms);
    parts.push(`<circle cx="${num(x)}" cy="${num(y)}" r="4" fill="${BLUE}"/>`);
    parts.push(
      text(x + 7, y - 8, `${name} ${formatMs(ms)}`, { "font-size": 12, fill: INK, ...HALO }),
    );
  }
  const maxY = yOf(result.latency.maxMs);
  parts.push(
    `<circle cx="${num(MARGIN_LEFT + PLOT_WIDTH)}" cy="${num(maxY)}" r="4" fill="${RED}"/>`,
  );
  parts.push(
    text(MARGIN_LEFT + PLOT_WIDTH - 8, maxY - 8, `max ${formatMs(result.latency.maxMs)}`, {
      "text-anchor": "end",
      "font-size": 12,
      fill: RED,
      ...HALO,
    }),
  );
  return parts.join("\n");
}

/** Plots completions per second, with errors in red and the asked rate dashed. */
function throughputPanel(result: BenchResult, top: number, height: number): string {
  const parts: string[] = [];
  const unit = result.unit;
  parts.push(
    text(MARGIN_LEFT, top - 14, `Throughput over time (${unit}/s)`, {
      "font-size": 15,
      "font-weight": 600,
    }),
  );
  const { intervalMs, completed, errors } = result.series;
  if (completed.length === 0) {
    parts.push(text(MARGIN_LEFT, top + height / 2, "nothing completed", { fill: MUTED }));
    return parts.join("\n");
  }
  const spanOf = (i: number) =>
    Math.max(Math.min(intervalMs, result.elapsedMs - i * intervalMs), intervalMs / 1000);
  const rates = completed.map((c, i) => (c * 1000) / spanOf(i));
  const errorRates = errors.map((c, i) => (c * 1000) / spanOf(i));
  // The rate asked for, in the plotted unit (chat: lines/s per sender, delivered to every receiver).
  const asked = result.rate === undefined
    ? undefined
    : result.mode === "fan-out" && result.extra
    ? result.rate * result.extra.senders * result.extra.receivers
    : result.rate;
  const peak = Math.max(...rates, ...errorRates, asked ?? 0);
  const yTicks = niceTicks(peak, 4);
  const yMax = yTicks[yTicks.length - 1];
  const yOf = (value: number) => top + height - (value / yMax) * height;
  const totalMs = Math.max(result.elapsedMs, completed.length * intervalMs);
  const xOf = (ms: number) => MARGIN_LEFT + (ms / totalMs) * PLOT_WIDTH;
  for (const tick of yTicks) {
    const y = yOf(tick);
    parts.push(line(MARGIN_LEFT, y, MARGIN_LEFT + PLOT_WIDTH, y, GRID));
    parts.push(
      text(MARGIN_LEFT - 8, y + 4, formatCount(tick), {
        "text-anchor": "end",
        fill: MUTED,
        "font-size": 12,
      }),
    );
  }
  for (const tick of niceTicks(totalMs / 1000, 8)) {
    if (tick * 1000 > totalMs + 1e-6) break;
    const x = xOf(tick * 1000);
    parts.push(
      text(x, top + height + 18, `${tick} s`, {
        "text-anchor": "middle",
        fill: MUTED,
        "font-size": 12,
      }),
    );
  }
  const gap = completed.length > 60 ? 0 : 2;
  completed.forEach((_, i) => {
    const x = xOf(i * intervalMs);
    const w = Math.max(xOf(i * intervalMs + spanOf(i)) - x - gap, 0.5);
    const okTop = yOf(rates[i]);
    parts.push(
      `<rect x="${num(x + gap / 2)}" y="${num(okTop)}" width="${num(w)}" height="${
        num(top + height - okTop)
      }" fill="${BLUE}" fill-opacity="0.85"><title>${
        escapeXml(`${formatMs(i * intervalMs)}: ${formatCount(rates[i])} ${unit}/s`)
      }</title></rect>`,
    );
    if (errors[i] > 0) {
      const errTop = yOf(errorRates[i]);
      parts.push(
        `<rect x="${num(x + gap / 2)}" y="${num(errTop)}" width="${num(w)}" height="${
          num(Math.max(top + height - errTop, 2))
        }" fill="${RED}"><title>${
          escapeXml(`${formatMs(i * intervalMs)}: ${formatCount(errors[i])} errors`)
        }</title></rect>`,
      );
    }
  });
  if (asked !== undefined) {
    const y = yOf(asked);
    parts.push(line(MARGIN_LEFT, y, MARGIN_LEFT + PLOT_WIDTH, y, INK, ' stroke-dasharray="6 4"'));
    parts.push(
      text(MARGIN_LEFT + PLOT_WIDTH, y - 6, `asked: ${formatCount(asked)}/s`, {
        "text-anchor": "end",
        "font-size": 12,
        fill: INK,
      }),
    );
  }
  parts.push(line(MARGIN_LEFT, top + height, MARGIN_LEFT + PLOT_WIDTH, top + height, MUTED));
  return parts.join("\n");
}

/**
 * The report as a standalone SVG document.
 *
 * @example
 * ```ts ignore
 * await Deno.writeTextFile("run.svg", renderSvg(result));
 * ```
 */
export function renderSvg(result: BenchResult): string {
  const headline = [
    `${formatCount(result.throughput)} ${result.unit}/s`,
    `p50 ${formatMs(result.latency.p50Ms)}`,
    `p99 ${formatMs(result.latency.p99Ms)}`,
    `max ${formatMs(result.latency.maxMs)}`,
    `${formatCount(result.errors)} error${result.errors === 1 ? "" : "s"}`,
  ].join("  ·  ");
  const parts = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="${FONT}" font-size="13" fill="${INK}">`,
    `<title>${escapeXml(`socklab bench: ${result.service} at ${result.target}`)}</title>`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    text(MARGIN_LEFT, 34, `socklab bench: ${result.service} at ${result.target}`, {
      "font-size": 20,
      "font-weight": 700,
    }),
    text(MARGIN_LEFT, 56, describeRun(result) + (result.interrupted ? " (interrupted)" : ""), {
      fill: MUTED,
    }),
    text(MARGIN_LEFT, 80, headline, { "font-size": 14, fill: result.errors > 0 ? RED : INK }),
    latencyPanel(result, 130, 260),
    throughputPanel(result, 490, 170),
    "</svg>",
  ];
  return parts.join("\n") + "\n";
}

/** The report as an HTML page: the picture, then the text summary. */
export function renderHtml(result: BenchResult): string {
  const title = escapeXml(`socklab bench: ${result.service} at ${result.target}`);
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<style>
body { font-family: ${FONT}; color: ${INK}; margin: 2rem auto; max-width: ${WIDTH}px; }
pre { background: #f6f8fa; padding: 1rem; overflow-x: auto; }
svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
${renderSvg(result)}
<pre>${escapeXml(formatText(result))}</pre>
</body>
</html>
`;
}

/** The report for a file name: HTML for `.html`/`.htm`, SVG otherwise. */
export function renderReport(result: BenchResult, path: string): string {
  return /\.html?$/i.test(path) ? renderHtml(result) : renderSvg(result);
}
