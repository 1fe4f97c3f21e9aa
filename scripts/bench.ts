/**
 * `deno task bench`: socklab's own performance targets. Starts socklab's
 * server and a plain `Deno.listen` reference server (scripts/reference_server.ts)
 * on loopback, drives both with the same load from `socklab bench` in the
 * same run (server and load pinned to different cores where `taskset` and two
 * cores allow), and prints the ratios socklab / reference against the targets.
 * Each measured run is short; the whole bench takes a minute or two.
 *
 * Usage: deno task bench [--rounds N] [--duration 2s] [--no-pin] [--json]
 *
 * @module
 */
import { parseDuration, parseIntegerOption } from "../src/net/address.ts";
import type { BenchResult } from "../src/bench/aggregator.ts";
import { formatCount, formatMs } from "../src/bench/printer.ts";

const ROOT = new URL("..", import.meta.url).pathname;
const MAIN = `${ROOT}main.ts`;
const REFERENCE = `${ROOT}scripts/reference_server.ts`;
const HOST = "127.0.0.1";
const READY = /listening on 127\.0\.0\.1:(\d+)\s*$/;
const IDLE_CONNECTIONS = 10_000;
const STARTUP_RUNS = 5;
/** Kernel clock ticks per second, as /proc/PID/stat counts CPU time (USER_HZ). */
const CLOCK_TICKS = 100;

interface Settings {
  rounds: number;
  durationMs: number;
  warmupMs: number;
  pin: boolean;
  json: boolean;
}

function parseArgs(args: string[]): Settings {
  const settings: Settings = {
    rounds: 3,
    durationMs: 2000,
    warmupMs: 500,
    pin: true,
    json: false,
  };
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--rounds") settings.rounds = parseIntegerOption(args[++i] ?? "", arg, 1, 20);
    else if (arg === "--duration") settings.durationMs = parseDuration(args[++i] ?? "");
    else if (arg === "--no-pin") settings.pin = false;
    else if (arg === "--json") settings.json = true;
    else {throw new SyntaxError(
        `Cannot use argument "${arg}": expected --rounds N, --duration D, --no-pin or --json`,
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
  return {
    cores: navigator.hardwareConcurrency,
    cpu: /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1].trim() ?? Deno.build.arch,
    memory: kb > 0 ? `${(kb / 1024 / 1024).toFixed(1)} GiB` : "unknown",
    openFiles: Number(/Max open files\s+(\d+)/.exec(limits)?.[1] ?? 1024),
    taskset: Deno.build.os === "linux" && await commandWorks("taskset", ["-c", "0", "true"]),
  };
}

// ---------------------------------------------------------------- processes

/** A server child process, once its ready line has come. */
interface RunningServer {
  name: string;
  pid: number;
  port: number;
  stop(): Promise<void>;
}

function spawn(argv: string[], core: number | null, machine: Machine): Deno.ChildProcess {
  const pinned = core !== null && machine.taskset;
  const [command, ...args] = pinned ? ["taskset", "-c", String(core), ...argv] : argv;
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

async function startServer(
  name: ServerName,
  service: string,
  core: number | null,
  machine: Machine,
): Promise<RunningServer & { startupMs: number }> {
  const started = performance.now();
  const child = spawn(SERVERS[name](service), core, machine);
  const stderr = new Response(child.stderr).text();
  let match: RegExpExecArray;
  try {
    match = await waitForLine(child.stdout, READY, 15_000);
  } catch (error) {
    try {
      child.kill("SIGKILL");
    } catch { /* gone */ }
    await child.status;
    throw new Error(`${name} server did not start: ${(error as Error).message} ${await stderr}`);
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
    },
  };
}

/** Runs `socklab bench ARGS --json` (pinned to `core`) and returns its figures. */
async function runLoad(
  args: string[],
  core: number | null,
  machine: Machine,
): Promise<BenchResult> {
  const child = spawn(
    [Deno.execPath(), "run", "--quiet", `--allow-net=${HOST}`, MAIN, "bench", ...args, "--json"],
    core,
    machine,
  );
  const [status, stdout, stderr] = await Promise.all([
    child.status,
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
  ]);
  if (status.code !== 0 || !stdout.startsWith("{")) {
    throw new Error(`socklab bench ${args.join(" ")} exited ${status.code}: ${stderr}${stdout}`);
  }
  return JSON.parse(stdout) as BenchResult;
}

// ---------------------------------------------------------------- measures

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
 * A load scenario: the same `socklab bench` arguments against both servers
 * of `service`, alternating, `rounds` times; medians are compared. Random
 * and chat scenarios are added here once their services land (with their
 * yardsticks in scripts/reference_server.ts): random as
 * `{ service: "random", args: ["--mode", "per-connection", "-c", "8"] }` with a
 * connections/s row at ≥ 0.9×; chat as `bench chat` runs at 200, 4,000 and
 * 16,000 lines/s per sender whose rows check `extra.lost`, `extra.merged`,
 * `extra.corrupted` and the p99 delivery latency against fixed limits.
 */
interface Scenario {
  group: string;
  service: string;
  /** What one exchange is: `request`, `connection`. */
  unit: string;
  /** `socklab bench` arguments after SERVICE HOST:PORT. */
  args: string[];
  rows(results: Record<ServerName, BenchResult[]>): Row[];
}

const rate = (results: BenchResult[]) => median(results.map((r) => r.throughput));
const p99 = (results: BenchResult[]) => median(results.map((r) => r.latency.p99Ms));
const perSecond = (value: number) => `${formatCount(value)}/s`;

function scenarios(settings: Settings): Scenario[] {
  const timing = ["--duration", `${settings.durationMs}ms`, "--warmup", `${settings.warmupMs}ms`];
  const persistent = "double, persistent, 50 connections";
  const perConnection = "double, per-connection, 8 workers";
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
  ];
}

/** Targets of the issue that wait for services not built yet. */
const PENDING = [
  "random, per-connection, 8 workers (target ≥ 0.9×): waits for the random service",
  "chat, 50 receivers and 5 senders at 200, 4,000 and 16,000 lines/s: waits for the chat service",
];

async function runScenarios(
  settings: Settings,
  machine: Machine,
  log: (line: string) => void,
): Promise<Row[]> {
  const pinned = settings.pin && machine.taskset && machine.cores >= 2;
  const serverCore = pinned ? 0 : null;
  const loadCore = pinned ? 1 : null;
  const rows: Row[] = [];
  for (const scenario of scenarios(settings)) {
    // Fresh servers for each scenario: no state carried from one load to the next.
    const servers = {
      socklab: await startServer("socklab", scenario.service, serverCore, machine),
      reference: await startServer("reference", scenario.service, serverCore, machine),
    };
    try {
      const results: Record<ServerName, BenchResult[]> = { socklab: [], reference: [] };
      const cpu: Record<ServerName, number[]> = { socklab: [], reference: [] };
      for (let round = 0; round < settings.rounds; round++) {
        // Alternate which goes first, so drift on a busy machine hits both alike.
        const order: ServerName[] = round % 2 ? ["socklab", "reference"] : ["reference", "socklab"];
        for (const name of order) {
          const target = `${HOST}:${servers[name].port}`;
          const cpuBefore = await cpuMs(servers[name].pid);
          const result = await runLoad(
            [scenario.service, target, ...scenario.args],
            loadCore,
            machine,
          );
          const served = result.completed + result.warmupCompleted + result.errors;
          const cpuUs = ((await cpuMs(servers[name].pid) - cpuBefore) * 1000) / served;
          results[name].push(result);
          cpu[name].push(cpuUs);
          log(
            `  ${scenario.group}, round ${round + 1}, ${name}: ${perSecond(result.throughput)}, ` +
              `p99 ${formatMs(result.latency.p99Ms)}, server CPU ${cpuUs.toFixed(1)} µs each, ` +
              `${result.errors} errors`,
          );
          if (result.errors > 0) {
            throw new Error(
              `${name}: ${result.errors} errors: ${JSON.stringify(result.errorKinds)}`,
            );
          }
        }
      }
      rows.push(...scenario.rows(results), {
        group: scenario.group,
        what: `server CPU per ${scenario.unit}`,
        socklab: median(cpu.socklab),
        reference: median(cpu.reference),
        format: (us) => `${us.toFixed(1)} µs`,
        note: "(less noisy than rates on a busy machine)",
      });
    } finally {
      await servers.socklab.stop();
      await servers.reference.stop();
    }
  }
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
    const ratio = row.reference > 0 ? (row.socklab / row.reference).toFixed(2) : "-";
    lines.push(
      `  ${row.what.padEnd(34)}${row.format(row.socklab).padStart(14)}${
        row.format(row.reference).padStart(14)
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
      `open files limit ${machine.openFiles}`,
  );
  log(
    pinned
      ? "servers pinned to core 0, load to core 1 (taskset)"
      : "not pinned (no taskset, one core, or --no-pin)",
  );

  const rows = await runScenarios(settings, machine, log);

  const idle = Math.min(IDLE_CONNECTIONS, machine.openFiles - 200);
  if (idle > 0) {
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

  if (settings.json) {
    console.log(JSON.stringify({
      machine,
      pinned,
      settings,
      rows: rows.map(({ format: _format, ...row }) => ({
        ...row,
        ratio: row.socklab / row.reference,
      })),
    }));
  } else {
    console.log(
      `\nsocklab / reference (medians of ${settings.rounds} rounds of ${
        formatMs(settings.durationMs)
      } after a ${formatMs(settings.warmupMs)} warmup; ${
        pinned ? "server on core 0, load on core 1" : "not pinned"
      })\n`,
    );
    console.log(table(rows));
    console.log(`\nnot measured yet:\n${PENDING.map((line) => `  ${line}`).join("\n")}`);
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
