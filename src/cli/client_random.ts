/**
 * `socklab client random`: fetches a random server's numbers, checks their
 * form (and the announced range), and prints them with their statistics.
 *
 * @module
 */
import type { Command } from "commander";
import { formatAddress, parseIntegerOption } from "../net/address.ts";
import { escapeBytes } from "../net/escape.ts";
import { fetchRandom, type RandomFetch } from "../client/random.ts";
import {
  formatRandomStats,
  MAX_RANDOM_COUNT,
  parseRandomReply,
  RANDOM_PORT,
  type RandomExpectation,
  randomStats,
} from "../protocol/random.ts";
import { getLogger } from "../log.ts";
import { asUsage, CliError, describeFailure, EXIT_OK } from "./errors.ts";
import type { CliIO } from "./io.ts";
import { durationOption, parseServers } from "./options.ts";

/** Registers `socklab client random` on the `client` command. */
export function registerRandomClient(
  client: Command,
  io: CliIO,
  setExit: (code: number) => void,
): void {
  client
    .command("random")
    .description("fetch a random server's numbers; print them with count, sum, min, max and mean")
    .option("--server <host:port>", "the server", `127.0.0.1:${RANDOM_PORT}`)
    .option("--min <n>", "the announced smallest number: a smaller one is an error")
    .option("--max <n>", "the announced largest number: a larger one is an error")
    .option("--count <n>", "the announced count: any other count is an error")
    .option("--json", "print one JSON object")
    .option("--timeout <duration>", "connect deadline, and deadline for the whole reply", "3s")
    .addHelpText(
      "after",
      "\nExamples:\n  socklab client random\n  socklab client random --min 1 --max 100 --count 10 --json" +
        '\n\nA reply that is not integers joined by "," (or breaks --min/--max/--count) is an' +
        "\nerror showing the bytes received, exit status 1.",
    )
    .action(async (options: RandomClientOptions) => {
      setExit(await runRandomClient(options, io));
    });
}

interface RandomClientOptions {
  server: string;
  min?: string;
  max?: string;
  count?: string;
  json?: boolean;
  timeout: string;
}

function expectation(options: RandomClientOptions): RandomExpectation {
  return asUsage(() => {
    const safe = (text: string, flag: string) =>
      parseIntegerOption(text, flag, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
    const expect: RandomExpectation = {
      min: options.min === undefined ? undefined : safe(options.min, "--min"),
      max: options.max === undefined ? undefined : safe(options.max, "--max"),
      count: options.count === undefined
        ? undefined
        : parseIntegerOption(options.count, "--count", 1, MAX_RANDOM_COUNT),
    };
    if (expect.min !== undefined && expect.max !== undefined && expect.min > expect.max) {
      throw new RangeError(
        `Cannot use --min ${expect.min} with --max ${expect.max}: --min must not exceed --max`,
      );
    }
    return expect;
  });
}

async function runRandomClient(options: RandomClientOptions, io: CliIO): Promise<number> {
  const log = getLogger(["socklab", "client", "random"]);
  const server = parseServers([options.server], [RANDOM_PORT])[0];
  const timeoutMs = durationOption(options.timeout, "--timeout");
  const expect = expectation(options);
  let fetched: RandomFetch;
  try {
    fetched = await fetchRandom(server, { timeoutMs });
  } catch (error) {
    throw new CliError(
      describeFailure(error, { action: "connect", address: formatAddress(server) }),
    );
  }
  if (!fetched.closed) {
    log.warning(
      "{server} did not close the connection after sending; using the {bytes} bytes it sent",
      {
        server: fetched.server,
        bytes: fetched.bytes.length,
      },
    );
  }
  const parsed = parseRandomReply(fetched.bytes, expect);
  if (!parsed.ok) {
    throw new CliError(
      `bad reply from ${fetched.server}: ${parsed.reason}: ${escapeBytes(fetched.bytes)}`,
    );
  }
  const stats = randomStats(parsed.numbers);
  if (options.json) {
    const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;
    io.out(
      JSON.stringify({
        server: fetched.server,
        numbers: parsed.numbers,
        ...stats,
        sum: typeof stats.sum === "bigint" ? rawJson(String(stats.sum)) : stats.sum,
        closed: fetched.closed,
        latencyMs: Math.round(fetched.latencyMs * 1000) / 1000,
      }) + "\n",
    );
  } else {
    io.out(`Numbers: ${parsed.numbers.join(",")}\n${formatRandomStats(stats)}\n`);
  }
  return EXIT_OK;
}
