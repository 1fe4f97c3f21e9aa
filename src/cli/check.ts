/**
 * `socklab check SERVICE HOST:PORT`: a named battery of conformance cases
 * against anyone's server, in the h2spec style.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { formatAddress, parseAddress, parsePort } from "../net/address.ts";
import { CASE_TABLES, CLIENT_SCENARIOS } from "../check/cases/mod.ts";
import { ReferenceListenError, runClientCheck } from "../check/client_runner.ts";
import {
  CannotRunError,
  type CheckReport,
  globToRegExp,
  runChecks,
  selectCases,
} from "../check/runner.ts";
import {
  formatHeading,
  formatJson,
  formatJunit,
  formatResultLine,
  formatSummary,
  formatText,
} from "../check/report.ts";
import {
  asUsage,
  CliError,
  describeFailure,
  describePermissionDenial,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  usageError,
} from "./errors.ts";
import type { CliIO } from "./io.ts";
import { collect, durationOption } from "./options.ts";

interface CheckOptions {
  dialect?: string;
  destructive: boolean;
  strict?: boolean;
  json?: boolean;
  junit?: string;
  list?: boolean;
  only: string[];
  timeout?: string;
  flushMs: string;
}

/** Registers `socklab check` on `program`. */
export function registerCheckCommand(
  program: Command,
  io: CliIO,
  setExit: (code: number) => void,
): Command {
  const services = Object.keys(CASE_TABLES);
  const check = program
    .command("check")
    .description("run conformance cases against a server (or a client) of one service")
    // Short enough for the help to wrap its descriptions at 80 columns.
    .configureHelp({ subcommandTerm: (sub) => `${sub.name()} <service> -- <command...>` })
    .argument("[service]", `the service: ${services.join(", ")}`)
    .argument("[target]", "the server under test, HOST:PORT")
    .option("--dialect <dialect>", "only the cases of one dialect (sum: text or json)")
    .option("--no-destructive", "skip cases that may stop the server (they run last)")
    .option("--strict", "add the classroom-exact byte checks")
    .option("--json", "print the results as one JSON document")
    .option("--junit <file>", "also write JUnit XML to FILE (needs --allow-write=FILE)")
    .option("--list", "list the cases with their requirements, and exit")
    .addOption(
      new Option("--only <glob>", "only cases whose id matches (repeatable; * matches any text)")
        .argParser(collect).default([], "every case"),
    )
    .option(
      "--timeout <duration>",
      "time allowed for each case (default 2s; a checked client: 10s)",
    )
    .option("--flush-ms <ms>", "quiet period that ends a reply sent without a newline", "50")
    .addHelpText(
      "after",
      "\nExamples:\n  socklab check double 127.0.0.1:9001\n" +
        "  socklab check double 127.0.0.1:9001 --only 'double/framing/*' --strict\n" +
        "  socklab check double --list\n\n" +
        "Exit status: 0 all passed, 1 a case failed, 2 could not run (cannot connect, bad usage).",
    )
    .action(
      async (service: string | undefined, target: string | undefined, options: CheckOptions) => {
        setExit(await runCheck(service, target, options, io));
      },
    );

  const scenarios = Object.keys(CLIENT_SCENARIOS);
  check
    .command("client")
    .description(
      "check a client program: socklab plays the reference server, runs COMMAND with scripted input, and judges what it sends and prints",
    )
    .argument("<service>", `the service: ${scenarios.join(", ")}`)
    .argument("[command...]", "the client to run, after --; {host} and {port} are replaced")
    .addOption(
      new Option(
        "--listen <port>",
        "port for the reference server (repeatable; the first is {port})",
      )
        .argParser(collect).default([], "a free port"),
    )
    .addHelpText(
      "after",
      "\nThe client needs permission to run: e.g. deno run --allow-net=127.0.0.1 --allow-run=python3 main.ts ...\n" +
        "\nExample:\n  socklab check client double -- python3 client.py {port}",
    )
    .action(async (service: string, command: string[], options: { listen: string[] }) => {
      // The flags shared with `check` (--strict, --json, --junit, --only, --timeout, --list)
      // are its own; those about a server under test are refused.
      const serverOnly = {
        dialect: "--dialect",
        destructive: "--no-destructive",
        flushMs: "--flush-ms",
      };
      for (const [name, flag] of Object.entries(serverOnly)) {
        if (check.getOptionValueSource(name) === "cli") {
          throw usageError(`${flag} applies to checking a server, not a client`);
        }
      }
      const shared = check.opts() as CheckOptions;
      setExit(await runClientCheckCommand(service, command, { ...shared, ...options }, io));
    });
  return check;
}

interface ClientCheckOptions extends CheckOptions {
  listen: string[];
}

async function runClientCheckCommand(
  service: string,
  command: string[],
  options: ClientCheckOptions,
  io: CliIO,
): Promise<number> {
  const scenario = CLIENT_SCENARIOS[service];
  if (!scenario) {
    throw usageError(
      `unknown service "${service}"; choose from ${Object.keys(CLIENT_SCENARIOS).join(", ")}`,
    );
  }
  const ports = options.listen.length > 0
    ? asUsage(() => options.listen.map(parsePort))
    : undefined;
  const timeoutMs = durationOption(options.timeout ?? "10s", "--timeout");
  const patterns = options.only.map(globToRegExp);
  const cases = scenario.cases.filter((c) =>
    patterns.length === 0 || patterns.some((p) => p.test(c.id))
  );
  if (cases.length === 0) throw noCaseMatches(`client ${service}`, options);
  if (options.list) {
    printCaseList(
      io,
      cases.map((c) => ({
        id: c.id,
        requirement: c.requirement,
        marks: c.strictOnly ? ["strict", ...(options.strict ? [] : ["skipped"])] : [],
      })),
      options.json,
    );
    return EXIT_OK;
  }
  if (command.length === 0) {
    throw usageError(
      `name the client to run after --, e.g. socklab check client ${service} -- python3 client.py {port}`,
    );
  }
  checkJunitWritable(options.junit);
  let report;
  try {
    report = await runClientCheck(service, scenario, command, {
      ports,
      timeoutMs,
      strict: options.strict,
      only: options.only,
      onListening: (addresses) => {
        if (!options.json) io.out(`reference ${service} server on ${addresses.join(", ")}\n`);
      },
    });
  } catch (error) {
    if (error instanceof Deno.errors.NotFound) {
      throw new CliError(`cannot run: ${command[0]}: command not found`, EXIT_USAGE);
    }
    const line = error instanceof ReferenceListenError
      ? describeFailure(error.cause, { action: "listen", address: error.address })
      : describeFailure(error);
    throw new CliError(`cannot run: ${line}`, EXIT_USAGE);
  }
  return await finish(report, options, io);
}

/** `--list`: each case's id, its marks, and its requirement; or one JSON array with `--json`. */
function printCaseList(
  io: CliIO,
  cases: { id: string; requirement: string; marks: string[] }[],
  json = false,
): void {
  if (json) {
    io.out(JSON.stringify(cases, null, 2) + "\n");
    return;
  }
  for (const { id, requirement, marks } of cases) {
    io.out(`${id}${marks.length ? ` [${marks.join(", ")}]` : ""}\n    ${requirement}\n`);
  }
}

/** A usage error for a selection that leaves no case to run. */
function noCaseMatches(service: string, options: { only: string[]; dialect?: string }): CliError {
  const only = options.only.map((glob) => `--only "${glob}"`).join(" ");
  const dialect = options.dialect ? ` with --dialect ${options.dialect}` : "";
  const what = [only, dialect.trim()].filter(Boolean).join(" ");
  return usageError(`no case of ${service} matches ${what}; --list shows the cases`);
}

/**
 * Fails before any case runs when the JUnit file cannot be written: a grader
 * should not wait for a whole run to learn it. Asks on a terminal, as a write
 * would.
 */
function checkJunitWritable(file: string | undefined): void {
  if (file === undefined) return;
  if (Deno.permissions.requestSync({ name: "write", path: file }).state === "granted") return;
  const denial = describePermissionDenial(`Requires write access to "${file}"`);
  throw new CliError(`cannot write ${file}: ${denial}`);
}

/** Prints the report (or only its summary when the cases were printed live), writes JUnit, gives the exit status. */
async function finish(
  report: CheckReport,
  options: { json?: boolean; junit?: string },
  io: CliIO,
  { printedLive = false } = {},
): Promise<number> {
  if (options.json) io.out(formatJson(report));
  else if (printedLive) io.out("\n" + formatSummary(report));
  else io.out(formatText(report));
  if (options.junit) {
    try {
      await Deno.writeTextFile(options.junit, formatJunit(report));
    } catch (error) {
      throw new CliError(`cannot write ${options.junit}: ${describeFailure(error)}`);
    }
  }
  return report.counts.failed > 0 ? EXIT_FAILURE : EXIT_OK;
}

async function runCheck(
  service: string | undefined,
  targetText: string | undefined,
  options: CheckOptions,
  io: CliIO,
): Promise<number> {
  if (!service) throw usageError("name a service to check: " + Object.keys(CASE_TABLES).join(", "));
  const cases = CASE_TABLES[service];
  if (!cases) {
    throw usageError(
      `unknown service "${service}"; choose from ${Object.keys(CASE_TABLES).join(", ")}`,
    );
  }
  const timeoutMs = durationOption(options.timeout ?? "2s", "--timeout");
  const flushMs = Number(options.flushMs);
  if (!Number.isInteger(flushMs) || flushMs < 1 || flushMs > 60_000) {
    throw usageError(
      `Cannot use --flush-ms "${options.flushMs}": must be a whole number from 1 to 60000`,
    );
  }
  const dialects = [...new Set(cases.flatMap((c) => c.dialect ? [c.dialect] : []))];
  if (options.dialect !== undefined && !dialects.includes(options.dialect)) {
    throw usageError(
      dialects.length === 0
        ? `Cannot use --dialect with ${service}: it has one dialect`
        : `Cannot use --dialect "${options.dialect}" with ${service}: choose ${
          dialects.join(" or ")
        }`,
    );
  }
  const selection = {
    only: options.only,
    strict: options.strict,
    noDestructive: !options.destructive,
    dialect: options.dialect,
    timeoutMs,
    flushMs,
  };
  const selected = selectCases(cases, selection);
  if (selected.length === 0) throw noCaseMatches(service, options);
  if (options.list) {
    const listed = selected.map(({ testCase, skip }) => ({
      id: testCase.id,
      requirement: testCase.requirement,
      marks: [
        testCase.phase === "destructive" ? "destructive" : "",
        testCase.strictOnly ? "strict" : "",
        testCase.dialect ? `dialect ${testCase.dialect}` : "",
        skip ? "skipped" : "",
      ].filter(Boolean),
    }));
    printCaseList(io, listed, options.json);
    return EXIT_OK;
  }
  if (!targetText) {
    throw usageError(`name the server to check, e.g. socklab check ${service} 127.0.0.1:9001`);
  }
  const target = asUsage(() => parseAddress(targetText));
  checkJunitWritable(options.junit);
  const address = formatAddress(target);
  // No separate probe first: a classroom server may stop when a client connects and
  // closes without sending. If nothing can connect, the first case says so.
  if (!options.json) io.out(formatHeading(service, address));
  let report;
  try {
    report = await runChecks(service, target, cases, {
      ...selection,
      onResult: options.json ? undefined : (result) => io.out(formatResultLine(result)),
    });
  } catch (error) {
    if (error instanceof CannotRunError) {
      throw new CliError(`cannot run: ${error.message}`, EXIT_USAGE);
    }
    throw error;
  }
  return await finish(report, options, io, { printedLive: true });
}
