/**
 * `socklab client double`: integers to a set of double servers, one chosen at
 * random per request.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { NoServerAnsweredError, requestDouble } from "../client/double.ts";
import { DOUBLE_PORTS } from "../protocol/double.ts";
import { getLogger } from "../log.ts";
import { EXIT_FAILURE, EXIT_OK } from "./errors.ts";
import { type CliIO, readLines } from "./io.ts";
import { collect, durationOption, parseServers } from "./options.ts";

/** Registers `socklab client double` on the `client` command. */
export function registerDoubleClient(
  client: Command,
  io: CliIO,
  setExit: (code: number) => void,
): void {
  client
    .command("double")
    .description(
      "send integers to double servers; each request goes to a server chosen at random",
    )
    .argument("[numbers...]", "integers to send (default: prompt, or one per line of stdin)")
    .addOption(
      new Option("--server <host:port>", "a server to use; repeat for several")
        .argParser(collect).default([], "127.0.0.1:9001-9003"),
    )
    .option("--json", "print one JSON object per result")
    .option("--timeout <duration>", "connect and reply deadline, each", "3s")
    .option("--bare", "send the number with no newline, as the write-up's client does")
    .addHelpText(
      "after",
      "\nExamples:\n  socklab client double 21 -5 1_000\n  seq 1 5 | socklab client double --json\n" +
        "  socklab client double --server 127.0.0.1:9001",
    )
    .action(async (numbers: string[], options: DoubleClientOptions) => {
      setExit(await runDoubleClient(numbers, options, io));
    });
}

interface DoubleClientOptions {
  server: string[];
  json?: boolean;
  timeout: string;
  bare?: boolean;
}

const PROMPT = "Enter number to calculate: (or write exit to terminate): ";

async function runDoubleClient(
  numbers: string[],
  options: DoubleClientOptions,
  io: CliIO,
): Promise<number> {
  const log = getLogger(["socklab", "client", "double"]);
  const servers = parseServers(options.server, DOUBLE_PORTS);
  const timeoutMs = durationOption(options.timeout, "--timeout");
  let status = EXIT_OK;

  const one = async (request: string): Promise<boolean> => {
    try {
      const result = await requestDouble(servers, request, { timeoutMs, bare: options.bare });
      const ok = result.verdict.kind === "ok" || result.verdict.kind === "invalid-request";
      if (options.json) {
        io.out(
          JSON.stringify({
            server: result.server,
            request: result.request,
            reply: result.reply,
            ok,
            latencyMs: Math.round(result.latencyMs * 1000) / 1000,
          }) + "\n",
        );
      } else {
        io.out(`Received from ${result.server}: ${result.reply}\n`);
      }
      if (result.verdict.kind === "wrong") {
        log.error("{server} answered {actual} to {request}; expected {expected}", {
          server: result.server,
          actual: result.verdict.actual,
          request,
          expected: result.verdict.expected,
        });
      } else if (result.verdict.kind === "malformed") {
        log.error("{server} sent a reply that is not an integer: {reply}", {
          server: result.server,
          reply: JSON.stringify(result.reply),
        });
      }
      return ok;
    } catch (error) {
      if (!(error instanceof NoServerAnsweredError)) throw error;
      if (options.json) {
        io.out(JSON.stringify({ server: null, request, error: error.message }) + "\n");
      }
      // One server: its failure alone. Several: each one was warned about but the last.
      log.error("{line}", {
        line: error.failures.length === 1 ? error.failures[0] : error.message,
      });
      return false;
    }
  };

  if (numbers.length > 0) {
    for (const number of numbers) if (!await one(number)) status = EXIT_FAILURE;
    return status;
  }

  const interactive = io.stdinIsTerminal();
  if (interactive) io.out(PROMPT);
  for await (
    const line of readLines(io.stdin, () => log.warning("Input line too long; skipped"))
  ) {
    const text = line.trim();
    if (text.toLowerCase() === "exit") break;
    if (text !== "" && !await one(text)) status = EXIT_FAILURE;
    if (interactive) io.out(PROMPT);
  }
  return status;
}
