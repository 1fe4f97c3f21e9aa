/**
 * `socklab bench SERVICE HOST:PORT`: parses and checks the flags, runs the
 * load engine, shows progress on a terminal, prints the figures, writes the
 * report, and decides the exit status. The engine knows none of this.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { type Address, parseAddress, parseDuration, parseIntegerOption } from "../net/address.ts";
import type { BenchResult } from "../bench/aggregator.ts";
import type { BenchRun } from "../bench/engine.ts";
import { type ExchangeSettings, startExchanges } from "../bench/settings.ts";
import { runChat } from "../bench/chat.ts";
import { formatJson, formatProgress, formatText } from "../bench/printer.ts";
import { cpuClock } from "../bench/cpu.ts";
import { renderReport } from "../bench/report.ts";
import { BENCH_ENTRIES, type BenchEntry, findBenchEntry } from "../bench/workloads.ts";
import { EXCHANGE_MODES, type ExchangeMode } from "../bench/workload.ts";
import { CliError, describePermissionDenial, EXIT_FAILURE, EXIT_OK, usageError } from "./errors.ts";
import { type CliIO, writeAllSync } from "./io.ts";
import { durationOption } from "./options.ts";

interface BenchOptions {
  connections: string;
  duration: string;
  warmup: string;
  rate?: string;
  mode?: string;
  timeout: string;
  threads: string;
  json?: boolean;
  report?: string;
  progress: boolean;
}

/** How often the progress line is redrawn. */
const PROGRESS_MS = 250;

/** Registers `socklab bench` on `program`. */
export function registerBenchCommand(
  program: Command,
  io: CliIO,
  setExit: (code: number) => void,
): void {
  const names = BENCH_ENTRIES.map((entry) => entry.name);
  const command = program
    .command("bench")
    .description(
      "drive a server with load and measure it: throughput, latency percentiles, errors by kind",
    )
    .argument("<service>", `the service the server speaks: ${names.join(", ")}`)
    .argument("<address>", "the server, HOST:PORT")
    .option("-c, --connections <n>", "connections, each with one request outstanding", "10")
    .option("-d, --duration <duration>", "how long to measure", "10s")
    .option("--warmup <duration>", "how long to run before measuring (0: no warmup)", "1s")
    .option(
      "-r, --rate <n>",
      "requests per second in all, on a fixed schedule (open loop); latency counts from when " +
        "each request was due (default: closed loop, each connection as fast as replies come); " +
        "chat: lines per second per sender (default 200)",
    )
    .addOption(
      new Option(
        "--mode <mode>",
        "persistent: many requests per connection; per-connection: " +
          "connect, send, read, close, as the classroom clients do (default: persistent; " +
          "random runs per-connection only)",
      )
        .choices(EXCHANGE_MODES),
    )
    .option("--timeout <duration>", "connect and reply deadline, each", "3s")
    .option(
      "--threads <n>",
      "threads of load, each with its share of the connections and of --rate, so that the " +
        "generator can use more than one core (double, random)",
      "1",
    )
    .option("--json", "print the figures as one JSON document")
    .option("--report <file>", "also write a picture of the run: FILE.svg or FILE.html")
    .option("--no-progress", "no live progress line (shown only when stderr is a terminal)");
  // Which workload reads each workload's own flag, to refuse one given to another.
  const readers = new Map<string, { flag: string; service: string }>();
  for (const entry of BENCH_ENTRIES) {
    const before = command.options.length;
    entry.addOptions?.(command);
    for (const option of command.options.slice(before)) {
      readers.set(option.attributeName(), { flag: option.long!, service: entry.name });
    }
  }
  command
    .addHelpText(
      "after",
      "\nServices:\n" +
        BENCH_ENTRIES.map((entry) => `  ${entry.name.padEnd(8)} ${entry.summary}`).join("\n") +
        "\n\nExamples:\n" +
        "  socklab bench double 127.0.0.1:9001\n" +
        "  socklab bench double 127.0.0.1:9001 -c 50 -d 30s --report run.svg\n" +
        "  socklab bench double 127.0.0.1:9001 --mode per-connection -c 8\n" +
        "  socklab bench double 127.0.0.1:9001 --rate 20000 -c 50 --json\n" +
        "  socklab bench double 127.0.0.1:9001 -c 60 --threads 3\n" +
        "  socklab bench random 127.0.0.1:27679 -c 8 --count 10 --min 1 --max 100\n" +
        "  socklab bench chat 127.0.0.1:8000 --receivers 50 --senders 5 --rate 200\n" +
        "\nExit status: 0 when every reply was right, 1 when a reply was wrong or a connection " +
        "failed, 2 for a usage error.\n--report needs write permission for the file " +
        "(deno run --allow-net --allow-write=run.svg main.ts bench ...).",
    )
    .action(
      async (service: string, address: string, options: BenchOptions & Record<string, unknown>) => {
        for (const [name, { flag, service: reader }] of readers) {
          const given = command.getOptionValueSource(name) === "cli";
          if (given && reader !== service && findBenchEntry(service)) {
            throw usageError(`${flag} is a ${reader} flag; it does nothing for bench ${service}`);
          }
        }
        setExit(await runBench(service, address, options, io));
      },
    );
}

function usage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw usageError(error instanceof Error ? error.message : String(error));
  }
}

/** Parses `--rate`: a positive number of requests per second. */
function parseRate(text: string): number {
  const value = /^\s*\d+(\.\d+)?\s*$/.test(text) ? Number(text) : NaN;
  if (!(value > 0) || value > 10_000_000) {
    throw new RangeError(
      `Cannot use --rate "${text}": must be a number above 0 and at most 10000000 (per second)`,
    );
  }
  return value;
}

function checkReportPath(path: string): void {
  if (!/\.(svg|html?)$/i.test(path)) {
    throw usageError(`Cannot write report "${path}": the name must end in .svg or .html`);
  }
  // Ask before running, not after a long run.
  const status = Deno.permissions.querySync({ name: "write", path });
  if (status.state !== "granted") {
    throw new CliError(
      describePermissionDenial(`Requires write access to "${path}"`),
    );
  }
}

async function runBench(
  service: string,
  addressText: string,
  options: BenchOptions & Record<string, unknown>,
  io: CliIO,
): Promise<number> {
  const entry = findBenchEntry(service);
  if (!entry) {
    throw usageError(
      `unknown service "${service}"; choose from ${BENCH_ENTRIES.map((e) => e.name).join(", ")}`,
    );
  }
  const target: Address = usage(() => parseAddress(addressText));
  const connections = usage(() =>
    parseIntegerOption(options.connections, "--connections", 1, 100_000)
  );
  const durationMs = durationOption(options.duration, "--duration");
  const warmupMs = usage(() => parseDuration(options.warmup));
  const timeoutMs = durationOption(options.timeout, "--timeout");
  const rate = options.rate === undefined ? undefined : usage(() => parseRate(options.rate!));
  const threads = usage(() => parseIntegerOption(options.threads, "--threads", 1, 256));
  if (options.report !== undefined) checkReportPath(options.report);

  const cpu = await cpuClock();
  const cpuAtStart = cpu?.() ?? 0;
  const wallAtStart = performance.now();
  const controller = new AbortController();
  const run = await startRun(entry, {
    target,
    connections,
    durationMs,
    warmupMs,
    timeoutMs,
    rate,
    threads,
    mode: options.mode as ExchangeMode | undefined,
    signal: controller.signal,
    options,
  });

  const onSigint = () => controller.abort();
  Deno.addSignalListener("SIGINT", onSigint);
  const progress = options.progress && Deno.stderr.isTerminal() ? showProgress(run) : null;
  let result: BenchResult;
  try {
    result = await run.done;
  } finally {
    progress?.stop();
    Deno.removeSignalListener("SIGINT", onSigint);
  }

  if (cpu !== null) {
    const ms = cpu() - cpuAtStart;
    result.loadCpu = { ms, cores: ms / Math.max(1, performance.now() - wallAtStart) };
  }
  io.out(options.json ? formatJson(result) : formatText(result));
  if (options.report !== undefined) {
    await Deno.writeTextFile(options.report, renderReport(result, options.report));
  }
  if (result.completed + result.warmupCompleted === 0 && result.errors === 0) {
    throw new CliError(`${result.target}: nothing completed before the run was stopped`);
  }
  return result.errors > 0 || result.completed === 0 ? EXIT_FAILURE : EXIT_OK;
}

interface RunSettings {
  target: Address;
  connections: number;
  durationMs: number;
  warmupMs: number;
  timeoutMs: number;
  rate?: number;
  threads: number;
  mode?: ExchangeMode;
  signal: AbortSignal;
  options: Record<string, unknown>;
}

async function startRun(entry: BenchEntry, settings: RunSettings): Promise<BenchRun> {
  if (entry.kind === "fan-out") {
    if (settings.mode !== undefined) throw usageError(`${entry.name} has no --mode`);
    if (settings.threads > 1) {
      throw usageError(`${entry.name} runs on one thread; it has no --threads`);
    }
    const options = settings.options as { receivers: string; senders: string };
    const receivers = usage(() => parseIntegerOption(options.receivers, "--receivers", 1, 100_000));
    const senders = usage(() => parseIntegerOption(options.senders, "--senders", 1, 100_000));
    return runChat({
      target: settings.target,
      receivers,
      senders,
      rate: settings.rate ?? 200,
      durationMs: settings.durationMs,
      warmupMs: settings.warmupMs,
      timeoutMs: settings.timeoutMs,
      signal: settings.signal,
    });
  }
  const exchange: ExchangeSettings = {
    service: entry.name,
    // Plain values only: the settings may be sent to other threads.
    options: Object.fromEntries(
      Object.entries(settings.options).filter(([, value]) =>
        ["string", "number", "boolean"].includes(typeof value)
      ),
    ) as ExchangeSettings["options"],
    target: settings.target,
    mode: settings.mode,
    connections: settings.connections,
    durationMs: settings.durationMs,
    warmupMs: settings.warmupMs,
    timeoutMs: settings.timeoutMs,
    rate: settings.rate,
  };
  if (settings.threads === 1) return usage(() => startExchanges(exchange, settings.signal));
  // Loaded only for --threads: the threads' bundled code is large, and every
  // start of socklab (a server's too) would pay for parsing it.
  const { runThreads } = await import("../bench/threads.ts");
  return usage(() => runThreads(exchange, settings.threads, settings.signal));
}

const writeStderr = (text: string) => writeAllSync(Deno.stderr, text);

/** Redraws one progress line on stderr a few times a second. */
function showProgress(run: BenchRun): { stop(): void } {
  let last = run.progress();
  const timer = setInterval(() => {
    const now = run.progress();
    const done = now.completed + now.warmupCompleted - last.completed - last.warmupCompleted;
    const rate = now.elapsedMs > last.elapsedMs
      ? (done * 1000) / (now.elapsedMs - last.elapsedMs)
      : 0;
    writeStderr(`\r${formatProgress(now, rate, run.unit)}\x1b[K`);
    last = now;
  }, PROGRESS_MS);
  return {
    stop() {
      clearInterval(timer);
      writeStderr("\r\x1b[K");
    },
  };
}
