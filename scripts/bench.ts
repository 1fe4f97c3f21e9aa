/**
 * `deno task bench`: socklab's own performance targets. Starts socklab's
 * server and a plain `Deno.listen` reference server (scripts/reference_server.ts)
 * on loopback, drives both with the same load from `socklab bench` in the
 * same run (server and load pinned to different cores where `taskset` and two
 * cores allow), and prints the ratios socklab / reference against the targets.
 * Each measured run is short; the whole bench takes a minute or two.
 *
 * Usage: deno task bench [--rounds N] [--duration 2s] [--only TEXT]... [--no-pin] [--json]
 *
 * @module
 */
import { parseDuration, parseIntegerOption } from "../src/net/address.ts";
import type { BenchResult } from "../src/bench/aggregator.ts";
import { formatCount, formatMs } from "../src/bench/printer.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;
const REFERENCE = `${ROOT}scripts/reference_server.ts`;
/** The unmeasured load each fresh server gets before the rounds. */
const SERVER_WARMUP_MS = 500;
/**
 * Local ports below which a load that closes first spends much of its CPU
 * finding one to reuse among those in TIME_WAIT (Linux's default range has
 * 28,232; the widest, 1024-65535, has 64,512). See docs/PERFORMANCE.md.
 */
const FEW_LOCAL_PORTS = 60_000;
const HOST = "127.0.0.1";
const READY = /listening on 127\.0\.0\.1:(\d+)\s*$/;
const IDLE_CONNECTIONS = 10_000;
const STARTUP_RUNS = 5;
/** Kernel clock ticks per second, as /proc/PID/stat counts CPU time (USER_HZ). */
const CLOCK_TICKS = 100;

interface Settings {
  /** Only the scenarios whose name holds one of these (`chat`, `random`, `memory`, …). */
  only: string[];
  rounds: number;
  durationMs: number;
  warmupMs: number;
  pin: boolean;
  json: boolean;
}

function parseArgs(args: string[]): Settings {
  const settings: Settings = {
    only: [],
    rounds: 7,
    durationMs: 2000,
    warmupMs: 500,
    pin: true,
    json: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--rounds") settings.rounds = parseIntegerOption(args[++i] ?? "", arg, 1, 20);
    else if (arg === "--duration") settings.durationMs = parseDuration(args[++i] ?? "");
    else if (arg === "--only") settings.only.push(args[++i] ?? "");
    else if (arg === "--no-pin") settings.pin = false;
    else if (arg === "--json") settings.json = true;
    else {throw new SyntaxError(
        `Cannot use argument "${arg}": expected --rounds N, --duration D, --only TEXT, --no-pin or --json`,
      );}
  }
  return settings;
}

// ---------------------------------------------------------------- the machine

interface Machine {
  cores: number;
  cpu: string;
  memory: string;
  openFiles: number;
  taskset: boolean;
  /** Linux's ephemeral port range (`net.ipv4.ip_local_port_range`), or null if unknown. */
  localPorts: { low: number; high: number } | null;
}

/** Reads a /proc file (through `cat`: Deno reads /proc only with --allow-all). */
async function readText(path: string): Promise<string> {
  try {
    const { stdout } = await new Deno.Command("cat", { args: [path], stderr: "null" }).output();
    return new TextDecoder().decode(stdout);
  } catch {
    return "";
  }
}

async function commandWorks(command: string, args: string[]): Promise<boolean> {
  try {
    const { success } = await new Deno.Command(command, { args, stdout: "null", stderr: "null" })
      .output();
    return success;
  } catch {
    return false;
  }
}

async function describeMachine(): Promise<Machine> {
  const cpuinfo = await readText("/proc/cpuinfo");
  const meminfo = await readText("/proc/meminfo");
  const limits = await readText("/proc/self/limits");
  const kb = Number(/MemTotal:\s+(\d+)/.exec(meminfo)?.[1] ?? 0);
  const ports = /^(\d+)\s+(\d+)/.exec(await readText("/proc/sys/net/ipv4/ip_local_port_range"));
  return {
    cores: navigator.hardwareConcurrency,
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1].trim() ?? Deno.build.arch,
    memory: kb > 0 ? `${(kb / 1024 / 1024).toFixed(1)} GiB` : "unknown",
    openFiles: Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? 1024),
    taskset: Deno.build.os === "linux" && await commandWorks("taskset", ["-c", "0", "true"]),
    localPorts: ports ? { low: Number(ports[1]), high: Number(ports[2]) } : null,
  };
}

function fewLocalPorts(machine: Machine): boolean {
  const ports = machine.localPorts;
  return ports !== null && ports.high - ports.low + 1 < FEW_LOCAL_PORTS;
}

// ---------------------------------------------------------------- processes

/** A server child process, once its ready line has come. */
interface RunningServer {
  name: string;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

/** `cores` is a taskset list (`0`, `1-3`), or null for no pinning. */
function spawn(argv: string[], cores: string | null, machine: Machine): Deno.ChildProcess {
  const pinned = cores !== null && machine.taskset;
  const [command, ...args] = pinned ? ["taskset", "-c", cores, ...argv] : argv;
  return new Deno.Command(command, { args, stdout: "piped", stderr: "piped", stdin: "null" })
    .spawn();
}

/** Reads `stream` line by line until one matches; drains the rest in the background. */
async function waitForLine(
  stream: ReadableStream<Uint8Array>,
  pattern: RegExp,
  ms: number,
): Promise<RegExpExecArray> {
  const reader = stream.pipeThrough(new TextDecoderStream()).getReader();
  let text = "";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no ready line within ${ms} ms: ${text}`)), ms);
  });
  try {
    while (true) {
      const { value, done } = await Promise.race([reader.read(), timeout]);
      if (done) throw new Error(`the process ended before its ready line: ${text}`);
      text += value;
      for (const line of text.split("\n")) {
        const match = pattern.exec(line);
        if (match) return match;
      }
    }
  } finally {
    clearTimeout(timer);
    (async () => {
      try {
        while (!(await reader.read()).done) { /* drain */ }
      } catch { /* closed */ }
    })();
  }
}

/** How each server is started for a service: socklab's, and the plain yardstick. */
const SERVERS = {
  socklab: (service: string) => [
    Deno.execPath(),
    "run",
    "--quiet",
    `--allow-net=${HOST}`,
    MAIN,
    "server",
    service,
    "--port",
    "0",
  ],
  reference: (service: string) => [
    Deno.execPath(),
    "run",
    "--quiet",
    `--allow-net=${HOST}`,
    REFERENCE,
    service,
  ],
};

type ServerName = keyof typeof SERVERS;

/**
 * A temporary file for a server's log. socklab's chat logs every line at
 * info, as the write-up's server prints each message: the server still does
 * that work, but into a file, as into a journal. Read through a pipe, each
 * line would wake this process, on one of the two cores being measured (on
 * a two-core machine, about 0.5 ms on the chat's p99 delivery latency).
 */
async function makeLogFile(): Promise<string> {
  const { stdout, success } = await new Deno.Command("mktemp", {
    args: ["-t", "socklab-bench-XXXXXX.log"],
    stderr: "null",
  }).output();
  const path = new TextDecoder().decode(stdout).trim();
  if (!success || path === "") throw new Error("mktemp could not make a file for a server's log");
  return path;
}

async function removeFile(path: string): Promise<void> {
  await new Deno.Command("rm", { args: ["-f", path], stdout: "null", stderr: "null" }).output();
}

async function startServer(
  name: ServerName,
  service: string,
  core: string | null,
  machine: Machine,
): Promise<RunningServer & { startupMs: number }> {
  const log = await makeLogFile();
  const started = performance.now();
  // The shell sends stderr to the file and becomes the server (same process id).
  const child = spawn(
    ["sh", "-c", 'exec "$@" 2>"$0"', log, ...SERVERS[name](service)],
    core,
    machine,
  );
  const stderr = tail(child.stderr, 2048);
  /** The end of the server's log, for an error message. */
  const logEnd = async () => `${(await readText(log)).slice(-2048)}${await stderr}`;
  let match: RegExpExecArray;
  try {
    match = await waitForLine(child.stdout, READY, 15_000);
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    const end = await logEnd();
    await removeFile(log);
    throw new Error(`${name} server did not start: ${(error as Error).message} ${end}`);
  }
  const startupMs = performance.now() - started;
  return {
    name,
    pid: child.pid,
    port: Number(match[1]),
    startupMs,
    async stop() {
      try {
        child.kill("SIGTERM");
      } catch { /* already gone */ }
      await child.status;
      await stderr;
      await removeFile(log);
    },
  };
}

/** Reads a stream to its end, keeping only its last `bytes` bytes, as text. */
async function tail(stream: ReadableStream<Uint8Array>, bytes: number): Promise<string> {
  let kept = new Uint8Array(0);
  try {
    for await (const chunk of stream) {
      const joined = new Uint8Array(Math.min(kept.length + chunk.length, bytes));
      const fromKept = Math.max(0, joined.length - chunk.length);
      joined.set(kept.subarray(kept.length - fromKept));
      joined.set(chunk.subarray(chunk.length - (joined.length - fromKept)), fromKept);
      kept = joined;
    }
  } catch { /* the process is gone */ }
  return new TextDecoder().decode(kept);
}

/**
 * Runs `socklab bench ARGS --json` (pinned to `core`) and returns its
 * figures. A run with errors exits 1 and still prints them; anything else is
 * thrown. The run is killed if it takes more than `limitMs`.
 */
async function runLoad(
  args: string[],
  core: string | null,
  machine: Machine,
  limitMs: number,
): Promise<BenchResult> {
  const child = spawn(
    [Deno.execPath(), "run", "--quiet", `--allow-net=${HOST}`, MAIN, "bench", ...args, "--json"],
    core,
    machine,
  );
  const timer = setTimeout(() => {
    try {
      child.kill("SIGKILL");
    } catch { /* already gone */ }
  }, limitMs);
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]).finally(() => clearTimeout(timer));
  if (status.code > 1 || status.signal !== null || !stdout.startsWith("{")) {
    const why = status.signal === null ? `exited ${status.code}` : `killed after ${limitMs} ms`;
    throw new Error(`socklab bench ${args.join(" ")} ${why}: ${(stderr + stdout).trim()}`);
  }
  return JSON.parse(stdout) as BenchResult;
}

// ---------------------------------------------------------------- measures

/** Whether `--only` lets the scenario named `name` run. */
function selected(settings: Settings, name: string): boolean {
  return settings.only.length === 0 || settings.only.some((text) => name.includes(text));
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** One line of the results: a figure for both servers, the ratio, and its target. */
interface Row {
  group: string;
  what: string;
  socklab: number;
  reference: number;
  format: (value: number) => string;
  /** The target, as text, and whether this run met it. */
  target?: { text: string; met: boolean };
  /** A count to read as is (lines lost): no ratio is shown. */
  absolute?: boolean;
  note?: string;
}

/** A target on the ratio socklab / reference: at least (`min`) or at most (`max`) `ratio`. */
function ratioTarget(
  socklab: number,
  reference: number,
  kind: "min" | "max",
  ratio: number,
): Row["target"] {
  const value = socklab / reference;
  return {
    text: `${kind === "min" ? "≥" : "≤"} ${ratio.toFixed(2)}`,
    met: kind === "min" ? value >= ratio : value <= ratio,
  };
}

/**
 * A target on socklab's own figure, whatever the reference does: at most
 * `limit` (shown with `format`).
 */
function limitTarget(
  socklab: number,
  limit: number,
  format: (value: number) => string,
): Row["target"] {
  return { text: `≤ ${format(limit)}`, met: socklab <= limit };
}

/**
 * A load scenario: the same `socklab bench` arguments against both servers
 * of `service`, alternating, `rounds` times; medians are compared.
 */
interface Scenario {
  group: string;
  service: string;
  /** What one exchange is: `request`, `connection`, `delivery`. */
  unit: string;
  /** `socklab bench` arguments after SERVICE HOST:PORT. */
  args: string[];
  /**
   * The load closes each connection first, so its local ports wait in
   * TIME_WAIT and each connect must search for one it may reuse.
   */
  loadClosesFirst?: boolean;
  /**
   * Errors are what the scenario measures (chat: lost, merged, corrupted
   * lines): they are counted and shown, and the bench goes on. Otherwise a
   * single error stops the bench: a wrong reply is a bug, not a figure.
   */
  measuresErrors?: boolean;
  rows(results: Record<ServerName, BenchResult[]>): Row[];
}

const rate = (results: BenchResult[]) => median(results.map((r) => r.throughput));
const p99 = (results: BenchResult[]) => median(results.map((r) => r.latency.p99Ms));
const perSecond = (value: number) => `${formatCount(value)}/s`;
/** A chat figure (`lost`, `merged`, …) summed over every round. */
const total = (results: BenchResult[], ...names: string[]) =>
  results.reduce((sum, r) => sum + names.reduce((n, name) => n + (r.extra?.[name] ?? 0), 0), 0);
const lines = (value: number) => formatCount(value);

/** The chat scenarios: 5 senders at `lines` per second each, to 50 receivers. */
function chatScenario(
  linesPerSecond: number,
  timing: string[],
  rows: (group: string, r: Record<ServerName, BenchResult[]>) => Row[],
): Scenario {
  const group = `chat, 50 receivers, 5 senders at ${formatCount(linesPerSecond)} lines/s each`;
  return {
    group,
    service: "chat",
    unit: "delivery",
    args: ["--receivers", "50", "--senders", "5", "--rate", String(linesPerSecond), ...timing],
    measuresErrors: true,
    rows: (r) => [
      {
        group,
        what: "deliveries",
        socklab: rate(r.socklab),
        reference: rate(r.reference),
        format: perSecond,
      },
      ...rows(group, r),
    ],
  };
}

function lostRow(group: string, r: Record<ServerName, BenchResult[]>, target: boolean): Row {
  const socklab = total(r.socklab, "lost");
  return {
    group,
    what: "lines lost (all rounds)",
    socklab,
    reference: total(r.reference, "lost"),
    format: lines,
    target: target ? limitTarget(socklab, 0, lines) : undefined,
    absolute: true,
  };
}

function garbledRow(group: string, r: Record<ServerName, BenchResult[]>, target: boolean): Row {
  const socklab = total(r.socklab, "merged", "corrupted");
  return {
    group,
    what: "lines merged or corrupted (all rounds)",
    socklab,
    reference: total(r.reference, "merged", "corrupted"),
    format: lines,
    target: target ? limitTarget(socklab, 0, lines) : undefined,
    absolute: true,
  };
}

/** Receivers the relay disconnected (a slow reader past its output bound), over every round. */
function cutRow(group: string, r: Record<ServerName, BenchResult[]>): Row {
  const cut = (results: BenchResult[]) =>
    results.reduce(
      (sum, result) =>
        sum + (result.errorKinds.find((e) => e.kind === "receiver-closed")?.count ?? 0),
      0,
    );
  return {
    group,
    what: "receivers disconnected (all rounds)",
    socklab: cut(r.socklab),
    reference: cut(r.reference),
    format: lines,
    absolute: true,
  };
}

/**
 * How late the load's senders wrote, at most (median over rounds): past the
 * server's quiet period (`--flush-ms`, 50 ms), a sender that stalls in the
 * middle of a line has, by the wire contract, ended a message there.
 */
function lagRow(group: string, r: Record<ServerName, BenchResult[]>): Row {
  const lag = (results: BenchResult[]) => median(results.map((x) => x.sendLag?.maxMs ?? NaN));
  return {
    group,
    what: "load's send lag, max (generator)",
    socklab: lag(r.socklab),
    reference: lag(r.reference),
    format: formatMs,
    absolute: true,
  };
}

function p99Row(group: string, r: Record<ServerName, BenchResult[]>, limitMs?: number): Row {
  const socklab = p99(r.socklab);
  return {
    group,
    what: "p99 delivery latency",
    socklab,
    reference: p99(r.reference),
    format: formatMs,
    target: limitMs === undefined ? undefined : limitTarget(socklab, limitMs, formatMs),
  };
}

function scenarios(settings: Settings): Scenario[] {
  const timing = ["--duration", `${settings.durationMs}ms`, "--warmup", `${settings.warmupMs}ms`];
  const persistent = "double, persistent, 50 connections";
  const perConnection = "double, per-connection, 8 workers";
  const random = "random, per-connection, 8 workers";
  return [
    {
      group: persistent,
      service: "double",
      unit: "request",
      args: ["-c", "50", ...timing],
      rows: (r) => [
        {
          group: persistent,
          what: "throughput",
          socklab: rate(r.socklab),
          reference: rate(r.reference),
          format: perSecond,
          target: ratioTarget(rate(r.socklab), rate(r.reference), "min", 0.9),
        },
        {
          group: persistent,
          what: "p99 latency",
          socklab: p99(r.socklab),
          reference: p99(r.reference),
          format: formatMs,
          target: ratioTarget(p99(r.socklab), p99(r.reference), "max", 1.2),
        },
      ],
    },
    {
      group: perConnection,
      service: "double",
      unit: "connection",
      args: ["--mode", "per-connection", "-c", "8", ...timing],
      loadClosesFirst: true,
      rows: (r) => [
        {
          group: perConnection,
          what: "connections",
          socklab: rate(r.socklab),
          reference: rate(r.reference),
          format: perSecond,
          target: ratioTarget(rate(r.socklab), rate(r.reference), "min", 0.9),
        },
      ],
    },
    {
      group: random,
      service: "random",
      unit: "connection",
      args: ["-c", "8", ...timing],
      rows: (r) => [
        {
          group: random,
          what: "connections",
          socklab: rate(r.socklab),
          reference: rate(r.reference),
          format: perSecond,
          target: ratioTarget(rate(r.socklab), rate(r.reference), "min", 0.9),
        },
      ],
    },
    chatScenario(200, timing, (group, r) => [
      lostRow(group, r, true),
      garbledRow(group, r, false),
      cutRow(group, r),
      p99Row(group, r, 5),
      lagRow(group, r),
    ]),
    chatScenario(4_000, timing, (group, r) => [
      lostRow(group, r, true),
      garbledRow(group, r, false),
      cutRow(group, r),
      p99Row(group, r),
      lagRow(group, r),
    ]),
    chatScenario(16_000, timing, (group, r) => [
      lostRow(group, r, false),
      garbledRow(group, r, true),
      cutRow(group, r),
      p99Row(group, r),
      lagRow(group, r),
    ]),
  ];
}

async function runScenarios(
  settings: Settings,
  machine: Machine,
  log: (line: string) => void,
  failures: string[],
): Promise<Row[]> {
  const pinned = settings.pin && machine.taskset && machine.cores >= 2;
  const serverCore = pinned ? "0" : null;
  // Every other core is the load's: a request/reply load runs a thread on each.
  const loadCore = pinned ? (machine.cores > 2 ? `1-${machine.cores - 1}` : "1") : null;
  const loadThreads = pinned ? machine.cores - 1 : 1;
  const rows: Row[] = [];
  // Warmup, duration, connecting and the chat drain, with room to spare.
  const limitMs = settings.warmupMs + settings.durationMs + 30_000;
  for (const scenario of scenarios(settings).filter((s) => selected(settings, s.group))) {
    // Fresh servers for each scenario: no state carried from one load to the next.
    const servers = {
      socklab: await startServer("socklab", scenario.service, serverCore, machine),
      reference: await startServer("reference", scenario.service, serverCore, machine),
    };
    try {
      // One unmeasured load on each server first: the rounds then count the CPU of compiled
      // code, not a fresh process's compiling (about 5% of a request for socklab's double).
      for (const name of ["reference", "socklab"] as const) {
        const target = `${HOST}:${servers[name].port}`;
        const brief = ["--duration", `${SERVER_WARMUP_MS}ms`, "--warmup", "0ms"];
        // Whatever goes wrong here goes wrong again in the rounds, which report it.
        await runLoad(
          [scenario.service, target, ...scenario.args, ...brief],
          loadCore,
          machine,
          limitMs,
        )
          .catch(() => {});
      }
      const results: Record<ServerName, BenchResult[]> = { socklab: [], reference: [] };
      const cpu: Record<ServerName, number[]> = { socklab: [], reference: [] };
      for (let round = 0; round < settings.rounds; round++) {
        // Alternate which goes first, so drift on a busy machine hits both alike.
        const order: ServerName[] = round % 2 ? ["socklab", "reference"] : ["reference", "socklab"];
        for (const name of order) {
          const target = `${HOST}:${servers[name].port}`;
          const cpuBefore = await cpuMs(servers[name].pid);
          let result: BenchResult;
          try {
            const threads = scenario.measuresErrors || loadThreads < 2
              ? []
              : ["--threads", String(loadThreads)];
            result = await runLoad(
              [scenario.service, target, ...scenario.args, ...threads],
              loadCore,
              machine,
              limitMs,
            );
          } catch (error) {
            if (!scenario.measuresErrors) throw error;
            // A chat run that could not even start is a finding too: say so and go on.
            const message = `${scenario.group}, round ${round + 1}, ${name}: ${
              (error as Error).message.split("\n")[0]
            }`;
            failures.push(message);
            log(`  ${message}`);
            continue;
          }
          const served = result.completed + result.warmupCompleted;
          const cpuUs = ((await cpuMs(servers[name].pid) - cpuBefore) * 1000) / served;
          results[name].push(result);
          cpu[name].push(cpuUs);
          const errors = result.errorKinds.map((e) => `${formatCount(e.count)} ${e.kind}`);
          log(
            `  ${scenario.group}, round ${round + 1}, ${name}: ${perSecond(result.throughput)}, ` +
              `p99 ${formatMs(result.latency.p99Ms)}, server CPU ${cpuUs.toFixed(2)} µs each, ` +
              `load CPU ${loadCpuUs(result).toFixed(2)} µs each, ` +
              `errors: ${errors.join(", ") || "none"}`,
          );
          if (result.errors > 0 && !scenario.measuresErrors) {
            throw new Error(
              `${name}: ${result.errors} errors: ${JSON.stringify(result.errorKinds)}`,
            );
          }
        }
      }
      rows.push(
        ...scenario.rows(results),
        ...cpuRows(scenario, results, cpu, loadThreads, fewLocalPorts(machine)),
      );
    } finally {
      await servers.socklab.stop();
      await servers.reference.stop();
    }
  }
  return rows;
}

const formatUs = (us: number) => `${us.toFixed(us < 10 ? 2 : 1)} µs`;

/** The load generator's CPU per exchange in one run, from its own report. */
function loadCpuUs(result: BenchResult): number {
  const done = result.completed + result.warmupCompleted;
  return result.loadCpu && done > 0 ? (result.loadCpu.ms * 1000) / done : NaN;
}

/**
 * What the CPU times say: each server's CPU per exchange and the capacity it
 * gives (one core's worth of exchanges per second), the generator's own CPU
 * per exchange, and, for request/reply services, whether the generator drove
 * the reference faster than socklab could answer with a core to itself —
 * if not, the generator was the limit and the rate ratio is pulled toward 1.
 */
function cpuRows(
  scenario: Scenario,
  results: Record<ServerName, BenchResult[]>,
  cpu: Record<ServerName, number[]>,
  loadThreads: number,
  narrowPortRange: boolean,
): Row[] {
  const group = scenario.group;
  const serverUs = { socklab: median(cpu.socklab), reference: median(cpu.reference) };
  const capacity = { socklab: 1e6 / serverUs.socklab, reference: 1e6 / serverUs.reference };
  const rows: Row[] = [
    {
      group,
      what: `server CPU per ${scenario.unit}`,
      ...serverUs,
      format: formatUs,
      note: "(less noisy than rates on a busy machine)",
    },
  ];
  const loadRow: Row = {
    group,
    what: `load CPU per ${scenario.unit} (generator)`,
    socklab: median(results.socklab.map(loadCpuUs)),
    reference: median(results.reference.map(loadCpuUs)),
    format: formatUs,
    absolute: true,
  };
  // Chat's rate is set by its senders' schedule, not by what the servers can take.
  if (scenario.measuresErrors) return [...rows, loadRow];
  rows.push(
    {
      group,
      what: "capacity (1 core ÷ server CPU)",
      ...capacity,
      format: perSecond,
      note: "(what each could answer with a core to itself)",
    },
    loadRow,
  );
  const headroom = rate(results.reference) / capacity.socklab;
  const why = [
    // One load thread spends about what one server core does per exchange: loopback TCP's cost.
    loadThreads < 2 ? "one core for the load" : "",
    scenario.loadClosesFirst && narrowPortRange ? "connect's search for a free local port" : "",
  ].filter((reason) => reason !== "");
  rows.push({
    group,
    what: "load on the reference ÷ socklab capacity",
    socklab: headroom,
    reference: NaN,
    format: (x) => `${x.toFixed(2)}×`,
    absolute: true,
    target: { text: "≥ 1.00", met: headroom >= 1 },
    note: headroom >= 1
      ? "(the generator is not the limit)"
      : `(the generator is the limit${why.length > 0 ? `: ${why.join(", and ")}` : ""}; ` +
        "see docs/PERFORMANCE.md)",
  });
  return rows;
}

/** CPU time a process has used so far (user and system), in ms. */
async function cpuMs(pid: number): Promise<number> {
  const stat = await readText(`/proc/${pid}/stat`);
  // Fields after the command name, which is in parentheses and may hold spaces.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return (ticks * 1000) / CLOCK_TICKS;
}

async function residentKb(pid: number): Promise<number> {
  const status = await readText(`/proc/${pid}/status`);
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
}

/**
 * Resident memory added by `count` idle connections, per connection, in
 * bytes: opened from here, the last one answered (so the server has accepted
 * them all), then the server's resident size is read.
 */
async function idleMemory(name: ServerName, count: number, machine: Machine): Promise<number> {
  const server = await startServer(name, "double", null, machine);
  const conns: Deno.TcpConn[] = [];
  try {
    // Let the fresh process settle before the baseline.
    await new Promise((resolve) => setTimeout(resolve, 300));
    const before = await residentKb(server.pid);
    const BATCH = 250;
    while (conns.length < count) {
      const batch = Math.min(BATCH, count - conns.length);
      conns.push(
        ...await Promise.all(
          Array.from({ length: batch }, () => Deno.connect({ hostname: HOST, port: server.port })),
        ),
      );
    }
    // Connections are accepted in order: once the last one is answered, all are served.
    const last = conns[conns.length - 1];
    await last.write(new TextEncoder().encode("1\n"));
    const buf = new Uint8Array(16);
    if (await last.read(buf) === null) throw new Error(`${name} closed an idle connection`);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const after = await residentKb(server.pid);
    return ((after - before) * 1024) / count;
  } finally {
    for (const conn of conns) {
      try {
        conn.close();
      } catch { /* already closed */ }
    }
    await server.stop();
  }
}

async function startupTime(name: ServerName, machine: Machine): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < STARTUP_RUNS; i++) {
    const server = await startServer(name, "double", null, machine);
    times.push(server.startupMs);
    await server.stop();
  }
  return median(times);
}

// ---------------------------------------------------------------- output

function verdict(row: Row): string {
  return row.target ? `${row.target.text}  ${row.target.met ? "ok" : "MISSED"}` : "";
}

function table(rows: Row[]): string {
  const lines = [
    `${"".padEnd(36)}${"socklab".padStart(14)}${"reference".padStart(14)}${
      "ratio".padStart(8)
    }   target`,
  ];
  let group = "";
  for (const row of rows) {
    if (row.group !== group) {
      group = row.group;
      lines.push(group);
    }
    const ratio = row.reference > 0 && !row.absolute && Number.isFinite(row.socklab)
      ? (row.socklab / row.reference).toFixed(2)
      : "-";
    const show = (value: number) => Number.isFinite(value) ? row.format(value) : "-";
    lines.push(
      `  ${row.what.padEnd(36)}${show(row.socklab).padStart(12)}${
        show(row.reference).padStart(14)
      }${ratio.padStart(8)}   ${verdict(row)}${row.note ? `  ${row.note}` : ""}`,
    );
  }
  return lines.join("\n");
}

async function main(args: string[]): Promise<void> {
  const settings = parseArgs(args);
  const machine = await describeMachine();
  const log = (line: string) => console.error(line);
  const pinned = settings.pin && machine.taskset && machine.cores >= 2;
  const started = performance.now();
  log(
    `machine: ${machine.cores} cores, ${machine.cpu}, ${machine.memory} memory, ` +
      `open files limit ${machine.openFiles}` +
      (machine.localPorts
        ? `, local ports ${machine.localPorts.low}-${machine.localPorts.high}`
        : ""),
  );
  log(
    pinned
      ? `servers pinned to core 0, load to ${
        machine.cores > 2 ? `cores 1-${machine.cores - 1} (${machine.cores - 1} threads)` : "core 1"
      } (taskset)`
      : "not pinned (no taskset, one core, or --no-pin)",
  );

  const failures: string[] = [];
  const rows = await runScenarios(settings, machine, log, failures);

  const idle = Math.min(IDLE_CONNECTIONS, machine.openFiles - 200);
  if (idle > 0 && selected(settings, "memory")) {
    const memory = { socklab: 0, reference: 0 };
    for (const name of ["reference", "socklab"] as const) {
      memory[name] = await idleMemory(name, idle, machine);
      log(`  idle memory, ${name}: ${(memory[name] / 1024).toFixed(2)} KiB per connection`);
    }
    rows.push({
      group: `memory, ${formatCount(idle)} idle connections`,
      what: "resident size per connection",
      socklab: memory.socklab,
      reference: memory.reference,
      format: (bytes) => `${(bytes / 1024).toFixed(1)} KiB`,
      note: idle < IDLE_CONNECTIONS ? `(ulimit -n allows only ${idle})` : undefined,
    });
  }

  if (selected(settings, "startup")) {
    const startup = { socklab: 0, reference: 0 };
    for (const name of ["reference", "socklab"] as const) {
      startup[name] = await startupTime(name, machine);
      log(`  startup, ${name}: ${formatMs(startup[name])}`);
    }
    rows.push({
      group: "startup",
      what: "process start to ready line",
      socklab: startup.socklab,
      reference: startup.reference,
      format: formatMs,
    });
  }

  if (settings.json) {
    console.log(JSON.stringify({
      machine,
      pinned,
      settings,
      failures,
      rows: rows.map(({ format: _format, ...row }) => ({
        ...row,
        ratio: row.absolute ? null : row.socklab / row.reference,
      })),
    }));
  } else {
    console.log(
      `\nsocklab / reference (medians of ${settings.rounds} rounds of ${
        formatMs(settings.durationMs)
      } after a ${formatMs(settings.warmupMs)} warmup; ${
        pinned ? `server on core 0, load on the other ${machine.cores - 1} core(s)` : "not pinned"
      })\n`,
    );
    console.log(table(rows));
    if (failures.length > 0) {
      console.log(`\nruns that failed:\n${failures.map((line) => `  ${line}`).join("\n")}`);
    }
    console.log(`\ntook ${formatMs(performance.now() - started)}`);
  }
}

if (import.meta.main) {
  try {
    await main(Deno.args);
  } catch (error) {
    console.error(`bench: ${error instanceof Error ? error.message.split("\n")[0] : error}`);
    Deno.exit(1);
  }
}
