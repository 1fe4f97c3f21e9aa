/**
 * `socklab server [SERVICE...]`: starts services, prints a ready line per
 * listener, and shuts down gracefully on SIGINT/SIGTERM.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { serve, type ServeOptions, type Server } from "../net/server.ts";
import { formatAddress, parseDuration, parseIntegerOption, parsePort } from "../net/address.ts";
import { AccessList } from "../net/cidr.ts";
import { getLogger } from "../log.ts";
import { asUsage, CliError, describeFailure, EXIT_OK, usageError } from "./errors.ts";
import { findService, type ServiceContext, SERVICES } from "./services.ts";
import type { CliIO } from "./io.ts";
import { collect } from "./options.ts";

/** The options every service shares, as parsed by commander. */
export interface CommonServerOptions {
  /** `--host`: the address to listen on. */
  host: string;
  /** `--port`, as typed, once per listener. */
  port: string[];
  /** `--flush-ms`: the quiet period that ends a message. */
  flushMs: string;
  /** `--max-line-bytes`: the largest message. */
  maxLineBytes: string;
  /** `--max-connections`: connections open at once per listener. */
  maxConnections: string;
  /** `--max-pending-bytes`: output that may wait for one peer. */
  maxPendingBytes: string;
  /** `--idle-timeout`, a duration. */
  idleTimeout: string;
  /** `--message-timeout`, a duration. */
  messageTimeout: string;
  /** `--shutdown-timeout`, a duration. */
  shutdownTimeout: string;
  /** `--allow` networks, as typed. */
  allow: string[];
  /** `--deny` networks, as typed. */
  deny: string[];
}

/** Adds the options of the server core, shared by every service, to `command`. */
export function addServerCoreOptions(command: Command): Command {
  return command
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .addOption(
      new Option(
        "--port <port>",
        "port to listen on; repeat for several listeners; 0 picks a free port (only with one service)",
      ).argParser(collect).default([], "the service's own"),
    )
    .option("--flush-ms <ms>", "quiet period that ends a message sent without a newline", "50")
    .option("--max-line-bytes <bytes>", "largest message; longer ones get an error", "8192")
    .option("--max-connections <n>", "connections open at once per listener", "10000")
    .option("--max-pending-bytes <bytes>", "output that may wait for one client", "262144")
    .option(
      "--idle-timeout <duration>",
      "close a connection silent this long (0: never; chat: never unless given)",
      "5m",
    )
    .option("--message-timeout <duration>", "a started message must end within (0: never)", "10s")
    .option("--shutdown-timeout <duration>", "time allowed for a graceful shutdown", "5s")
    .addOption(
      new Option("--allow <network>", "admit only peers in this network (CIDR or address)")
        .argParser(collect).default([], "everyone; repeatable"),
    )
    .addOption(
      new Option("--deny <network>", "refuse peers in this network (an --allow match still admits)")
        .argParser(collect).default([], "no one; repeatable"),
    );
}

/** Turns the shared options into server core options (port and host aside). */
export function parseServeOptions(options: CommonServerOptions): ServeOptions {
  const access = new AccessList({ allow: options.allow, deny: options.deny });
  return {
    hostname: options.host,
    flushMs: parseIntegerOption(options.flushMs, "--flush-ms", 1, 60_000),
    maxMessageBytes: parseIntegerOption(options.maxLineBytes, "--max-line-bytes", 16, 1 << 24),
    maxConnections: parseIntegerOption(options.maxConnections, "--max-connections", 1, 1_000_000),
    maxPendingBytes: parseIntegerOption(
      options.maxPendingBytes,
      "--max-pending-bytes",
      1024,
      1 << 30,
    ),
    idleTimeoutMs: parseDuration(options.idleTimeout),
    messageTimeoutMs: parseDuration(options.messageTimeout),
    shutdownTimeoutMs: parseDuration(options.shutdownTimeout),
    admit: access.empty ? undefined : (remote) => access.admits(remote.hostname),
  };
}

/** Registers `socklab server` on `program`. */
export function registerServerCommand(
  program: Command,
  io: CliIO,
  setExit: (code: number) => void,
): void {
  const names = SERVICES.map((s) => s.name);
  const command = program
    .command("server")
    .description("run services; with none named, every service on its default port(s)")
    .argument("[services...]", `services to run: ${names.join(", ")} (default: all)`)
    .addHelpText(
      "after",
      "\nServices and default ports:\n" +
        SERVICES.map((s) =>
          `  ${s.name.padEnd(8)} ${s.defaultPorts.join(", ").padEnd(18)} ${s.summary}`
        )
          .join("\n") +
        "\n\nEach listener prints 'socklab SERVICE listening on HOST:PORT' on stdout when ready." +
        "\nSIGINT or SIGTERM stops accepting, answers what was received, and exits 0.",
    );
  addServerCoreOptions(command);
  // Which services read each service flag, to refuse one given to none of them.
  const readers = new Map<string, { flag: string; services: string[] }>();
  for (const entry of SERVICES) {
    const before = command.options.length;
    entry.addOptions?.(command);
    for (const option of command.options.slice(before)) {
      readers.set(option.attributeName(), { flag: option.long!, services: [entry.name] });
    }
  }
  for (const entry of SERVICES) {
    for (const name of entry.sharedOptions ?? []) readers.get(name)?.services.push(entry.name);
  }
  command.action(
    async (services: string[], options: CommonServerOptions & Record<string, unknown>) => {
      const given = (name: string) => command.getOptionValueSource(name) === "cli";
      // With no service named, every one runs; an unknown name is reported by runServers.
      const named = services.length > 0 && services.every((name) => findService(name));
      for (const [name, { flag, services: users }] of readers) {
        if (named && given(name) && !users.some((user) => services.includes(user))) {
          throw usageError(
            `${flag} is a ${users.join(" and ")} flag; it does nothing for ${services.join(", ")}`,
          );
        }
      }
      setExit(await runServers(services, options, io, given("idleTimeout")));
    },
  );
}

async function runServers(
  requested: string[],
  options: CommonServerOptions & Record<string, unknown>,
  io: CliIO,
  idleTimeoutGiven: boolean,
): Promise<number> {
  const log = getLogger(["socklab", "server"]);
  const names = requested.length > 0 ? [...new Set(requested)] : SERVICES.map((s) => s.name);
  for (const name of names) {
    if (!findService(name)) {
      throw usageError(
        `unknown service "${name}"; choose from ${SERVICES.map((s) => s.name).join(", ")}`,
      );
    }
  }
  if (options.port.length > 0 && names.length !== 1) {
    throw usageError("--port needs exactly one service (e.g. socklab server double --port 0)");
  }
  const serveOptions = asUsage(() => parseServeOptions(options));
  const ports = options.port.length > 0 ? asUsage(() => options.port.map(parsePort)) : undefined;

  const shutdownController = new AbortController();
  let shutdownReason = "";
  const requestShutdown = (reason: string) => {
    if (shutdownController.signal.aborted) return;
    shutdownReason = reason;
    shutdownController.abort();
  };
  const context: ServiceContext = { requestShutdown, signal: shutdownController.signal, io };

  const servers: Server[] = [];
  try {
    for (const name of names) {
      const entry = findService(name)!;
      const createdService = asUsage(() => entry.create(options, context));
      const own = entry.defaultIdleTimeoutMs !== undefined && !idleTimeoutGiven
        ? { idleTimeoutMs: entry.defaultIdleTimeoutMs }
        : {};
      for (const port of ports ?? entry.defaultPorts) {
        const address = formatAddress({ hostname: serveOptions.hostname!, port });
        try {
          servers.push(serve(createdService, { ...serveOptions, ...own, port }));
        } catch (error) {
          throw new CliError(describeFailure(error, { action: "listen", address }));
        }
      }
    }
  } catch (error) {
    await Promise.all(servers.map((server) => server.shutdown()));
    throw error;
  }

  // Signals are handled before the ready lines go out: a signal sent as soon
  // as a listener is announced must be a graceful shutdown, not a kill.
  const onSignal = (signal: string) => () => requestShutdown(`received ${signal}`);
  const signals: [Deno.Signal, () => void][] = [["SIGINT", onSignal("SIGINT")]];
  if (Deno.build.os !== "windows") signals.push(["SIGTERM", onSignal("SIGTERM")]);
  for (const [signal, handler] of signals) Deno.addSignalListener(signal, handler);

  try {
    for (const server of servers) {
      io.out(`socklab ${server.name} listening on ${server.address}\n`);
    }
    const stopped = new Promise<void>((resolve) => {
      if (shutdownController.signal.aborted) resolve(); // asked for while starting
      shutdownController.signal.addEventListener("abort", () => resolve(), { once: true });
    });
    // A server only finishes on its own if its listener fails.
    await Promise.race([stopped, ...servers.map((server) => server.finished)]);
    if (!shutdownController.signal.aborted) requestShutdown("a listener stopped");
    log.info("Shutting down: {reason}", { reason: shutdownReason });
    const all = await Promise.all(servers.map((server) => server.shutdown()));
    const connections = all.reduce((sum, stats) => sum + stats.connections, 0);
    const messages = all.reduce((sum, stats) => sum + stats.messages, 0);
    const refused = all.reduce((sum, stats) => sum + stats.refused, 0);
    log.info(
      "Stopped {listeners} listener(s): {connections} connection(s), {messages} message(s), {refused} refused",
      { listeners: servers.length, connections, messages, refused },
    );
  } finally {
    for (const [signal, handler] of signals) Deno.removeSignalListener(signal, handler);
  }
  return EXIT_OK;
}
