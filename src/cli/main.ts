/**
 * The command line: parses flags, sets up logging, dispatches, and turns
 * every error into one line and an exit status. It never exits itself.
 *
 * @module
 */
import { Command, CommanderError, Option } from "commander";
import {
  LOG_FORMATS,
  LOG_LEVELS,
  type LogFormat,
  type LogLevelName,
  setupLogging,
} from "../log.ts";
import { VERSION } from "../version.ts";
import { describeFailure, EXIT_FAILURE, EXIT_OK, EXIT_USAGE } from "./errors.ts";
import { type CliIO, processIO } from "./io.ts";
import { registerServerCommand } from "./server.ts";
import { registerClientCommand } from "./client.ts";
import { registerCheckCommand } from "./check.ts";
import { registerBenchCommand } from "./bench.ts";

interface GlobalOptions {
  logLevel: LogLevelName;
  logFormat: LogFormat;
  trace?: boolean;
}

/** Options for {@linkcode runCli}. */
export interface RunCliOptions {
  /** Streams to use. @default the process's own */
  io?: CliIO;
  /** Where error lines go. @default stderr */
  error?: (line: string) => void;
}

const encoder = new TextEncoder();
function writeStderr(text: string): void {
  const bytes = encoder.encode(text);
  let offset = 0;
  while (offset < bytes.length) offset += Deno.stderr.writeSync(bytes.subarray(offset));
}

/** Builds the program; `setExit` receives each command's exit status. */
export function buildProgram(io: CliIO, setExit: (code: number) => void): Command {
  const program = new Command("socklab")
    .description(
      "Classic socket services, done right, and the tools to test anyone's: servers, clients, " +
        "a conformance checker and a load generator for the double, sum, random and chat protocols.",
    )
    .version(VERSION, "-V, --version", "print the version")
    .addOption(
      new Option("--log-level <level>", "least severe log level shown").choices(LOG_LEVELS)
        .default("info"),
    )
    .addOption(
      new Option("--log-format <format>", "log line format (logs go to stderr)").choices(
        LOG_FORMATS,
      ).default("text"),
    )
    .option("--trace", "log every accept, connect, read, write and close with the bytes")
    .exitOverride()
    .configureOutput({
      // Colour detection would read the environment; socklab runs without env access.
      getOutHasColors: () => false,
      getErrHasColors: () => false,
      writeErr: (text) => writeStderr(text),
      // A usage error is one line, like every other error.
      outputError: (text, write) =>
        write(`socklab: ${text.trim().replace(/^error: /, "")} (add --help for usage)\n`),
    })
    .hook("preAction", (_program, action) => {
      const options = action.optsWithGlobals() as GlobalOptions;
      setupLogging({ level: options.logLevel, format: options.logFormat, trace: options.trace });
    });
  registerServerCommand(program, io, setExit);
  registerClientCommand(program, io, setExit);
  registerCheckCommand(program, io, setExit);
  registerBenchCommand(program, io, setExit);
  return program;
}

/**
 * Runs socklab with `args` (without the program name) and resolves to the
 * exit status: 0 success, 1 network or protocol failure, 2 usage error.
 */
export async function runCli(args: string[], options: RunCliOptions = {}): Promise<number> {
  const io = options.io ?? processIO;
  const error = options.error ?? ((line: string) => writeStderr(line + "\n"));
  let code = EXIT_OK;
  const program = buildProgram(io, (c) => code = c);
  try {
    if (args.length === 0) {
      program.outputHelp();
      return EXIT_USAGE;
    }
    await program.parseAsync(args, { from: "user" });
    return code;
  } catch (caught) {
    if (caught instanceof CommanderError) {
      if (caught.code === "commander.helpDisplayed" || caught.code === "commander.version") {
        return EXIT_OK;
      }
      // `socklab help` asked for help; `socklab client` alone lacks its subcommand.
      if (caught.code === "commander.help" && caught.exitCode === 0) return EXIT_OK;
      return EXIT_USAGE;
    }
    const exitCode = typeof (caught as { exitCode?: unknown })?.exitCode === "number"
      ? (caught as { exitCode: number }).exitCode
      : EXIT_FAILURE;
    error(`socklab: ${describeFailure(caught)}`);
    return exitCode;
  }
}
