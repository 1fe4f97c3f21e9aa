/**
 * `socklab client sum`: sends a name and a number to a sum server, in the
 * text or the JSON dialect, and prints both numbers and the sum.
 *
 * @module
 */
import { type Command, Option } from "commander";
import { type Address, formatAddress } from "../net/address.ts";
import { escapeBytes } from "../net/escape.ts";
import { requestSum, type SumResult } from "../client/sum.ts";
import { parseInteger } from "../protocol/double.ts";
import {
  checkSumName,
  DEFAULT_CLIENT_NAME,
  isInSumRange,
  SUM_DIALECTS,
  SUM_MAX,
  SUM_MIN,
  SUM_PORT,
  type SumDialect,
  sumExchange,
  sumLines,
} from "../protocol/sum.ts";
import { getLogger } from "../log.ts";
import {
  asUsage,
  describeFailure,
  EXIT_FAILURE,
  EXIT_OK,
  EXIT_USAGE,
  usageError,
} from "./errors.ts";
import { type CliIO, readLines } from "./io.ts";
import { durationOption, parseServers } from "./options.ts";

/** Registers `socklab client sum` on the `client` command. */
export function registerSumClient(
  client: Command,
  io: CliIO,
  setExit: (code: number) => void,
): void {
  client
    .command("sum")
    .description(
      "send a name and an integer in 1..100 to a sum server; print its name and number and the sum",
    )
    .argument(
      "[numbers...]",
      "integers to send, one exchange each (default: prompt, or one per line of stdin)",
    )
    .option("--server <host:port>", "the server", `127.0.0.1:${SUM_PORT}`)
    .option("--name <name>", "the client's name", DEFAULT_CLIENT_NAME)
    .addOption(
      new Option("--format <dialect>", "request dialect: text NAME;NUMBER (003) or JSON (001)")
        .choices(SUM_DIALECTS).default("text"),
    )
    .option("--json", "print one JSON object per exchange")
    .option(
      "--unchecked",
      `send a number outside ${SUM_MIN}..${SUM_MAX} anyway, to test a server's handling`,
    )
    .option("--bare", "send the request with no newline, as the write-ups' clients do")
    .option("--timeout <duration>", "connect and reply deadline, each", "3s")
    .addHelpText(
      "after",
      "\nExamples:\n  socklab client sum 25\n  socklab client sum 25 --format json --name 'Ada Client'" +
        "\n  seq 1 5 | socklab client sum --json\n  socklab client sum 0 --unchecked" +
        "\n\nExit status: 0 every exchange as the contract says; 1 a network failure or a bad" +
        "\nreply; 2 a usage error, or a number refused before sending.",
    )
    .action(async (numbers: string[], options: SumClientOptions) => {
      setExit(await runSumClient(numbers, options, io));
    });
}

interface SumClientOptions {
  server: string;
  name: string;
  format: SumDialect;
  json?: boolean;
  unchecked?: boolean;
  bare?: boolean;
  timeout: string;
}

const PROMPT = `Enter an integer between ${SUM_MIN} and ${SUM_MAX}: `;
const encoder = new TextEncoder();

/** The number to send, or a one-line reason it is refused. */
function checkNumber(text: string, unchecked: boolean): number | bigint | string {
  const number = parseInteger(encoder.encode(text));
  if (number === undefined) return `"${text}" is not an integer`;
  if (!unchecked && !isInSumRange(number)) {
    return `Cannot send ${number}: the number must be from ${SUM_MIN} to ${SUM_MAX} ` +
      "(--unchecked sends it anyway)";
  }
  return number;
}

async function runSumClient(
  numbers: string[],
  options: SumClientOptions,
  io: CliIO,
): Promise<number> {
  const log = getLogger(["socklab", "client", "sum"]);
  const server = parseServers([options.server], [SUM_PORT])[0];
  const timeoutMs = durationOption(options.timeout, "--timeout");
  const name = asUsage(() => checkSumName(options.name, "--name"));
  const exchange = (number: number | bigint) =>
    exchangeOnce(server, { name, number }, options, timeoutMs, io);

  if (numbers.length > 0) {
    const checked = numbers.map((text) => checkNumber(text.trim(), options.unchecked === true));
    const refused = checked.find((value) => typeof value === "string");
    if (typeof refused === "string") throw usageError(refused);
    let status = EXIT_OK;
    for (const number of checked as (number | bigint)[]) {
      if (!await exchange(number)) status = EXIT_FAILURE;
    }
    return status;
  }

  const interactive = io.stdinIsTerminal();
  let failed = false;
  let refused = false;
  let sent = 0;
  let endOfInput = true;
  if (interactive) io.out(PROMPT);
  for await (
    const line of readLines(io.stdin, () => log.warning("Input line too long; skipped"))
  ) {
    const text = line.trim();
    if (text.toLowerCase() === "exit") {
      endOfInput = false;
      break;
    }
    if (text !== "") {
      const number = checkNumber(text, options.unchecked === true);
      if (typeof number === "string") {
        log.error("{reason}", { reason: number });
        refused = true;
      } else {
        sent++;
        if (!await exchange(number)) failed = true;
      }
    }
    if (interactive) io.out(PROMPT);
  }
  if (interactive && endOfInput) io.out("\n"); // Ctrl+D leaves the cursor after the prompt
  if (!interactive && sent === 0 && !refused) {
    throw usageError("no number to send: give one as an argument or on stdin");
  }
  return failed ? EXIT_FAILURE : refused ? EXIT_USAGE : EXIT_OK;
}

/** One exchange, printed; resolves to whether it went as the contract says. */
async function exchangeOnce(
  server: Address,
  request: { name: string; number: number | bigint },
  options: SumClientOptions,
  timeoutMs: number,
  io: CliIO,
): Promise<boolean> {
  const log = getLogger(["socklab", "client", "sum"]);
  const address = formatAddress(server);
  let result: SumResult;
  try {
    result = await requestSum(server, request, {
      dialect: options.format,
      timeoutMs,
      bare: options.bare,
    });
  } catch (error) {
    const line = describeFailure(error, { action: "connect", address });
    log.error("{line}", { line });
    if (options.json) {
      printJson(io, {
        server: address,
        dialect: options.format,
        ok: false,
        clientName: request.name,
        clientNumber: request.number,
        error: line,
      });
    }
    return false;
  }
  const verdict = judge(result);
  if (options.json) {
    const outcome = result.outcome;
    const reply = outcome.kind === "no-reply" ? null : decodeLoosely(outcome.bytes);
    const exchange = outcome.kind === "reply" ? sumExchange(request, outcome.reply) : undefined;
    printJson(io, {
      server: result.server,
      dialect: result.dialect,
      request: result.sent,
      reply,
      ok: verdict.ok,
      ...(exchange ?? { clientName: request.name, clientNumber: request.number }),
      ...(verdict.ok ? {} : { error: verdict.message }),
      latencyMs: Math.round(result.latencyMs * 1000) / 1000,
    });
  } else if (result.outcome.kind === "reply" && verdict.ok) {
    const [names, numbers] = sumLines(sumExchange(request, result.outcome.reply));
    io.out(`${names}\n${numbers}\n`);
  } else if (verdict.ok) {
    io.out(`${verdict.message}\n`);
  }
  if (!verdict.ok) log.error("{message}", { message: verdict.message });
  return verdict.ok;
}

/** Whether an exchange went as the contract says, and what to tell the user. */
function judge(result: SumResult): { ok: boolean; message: string } {
  const { server, outcome } = result;
  const number = result.request.number;
  const inRange = isInSumRange(number);
  switch (outcome.kind) {
    case "reply":
      return inRange ? { ok: true, message: "" } : {
        ok: false,
        message: `${server} replied to ${number}, outside ${SUM_MIN}..${SUM_MAX}; the contract ` +
          `is to close without a reply: ${escapeBytes(outcome.bytes)}`,
      };
    case "bad-reply":
      return {
        ok: false,
        message: `bad reply from ${server}: ${outcome.reason}: ${escapeBytes(outcome.bytes)}`,
      };
    case "no-reply": {
      const how = outcome.reset ? "reset the connection" : "closed the connection";
      return inRange ? { ok: false, message: `${server} ${how} without a reply` } : {
        ok: true,
        message: `No reply: ${server} ${how}, as the contract says for ${number} ` +
          `(outside ${SUM_MIN}..${SUM_MAX})`,
      };
    }
  }
}

const loose = new TextDecoder();
/** The reply as text, without its terminator (as `request` is shown without its own). */
function decodeLoosely(bytes: Uint8Array): string {
  return loose.decode(bytes).replace(/\r?\n$/, "");
}

/** Prints one JSON object on a line; integers beyond the safe range keep every digit. */
function printJson(io: CliIO, value: Record<string, unknown>): void {
  const rawJson = (JSON as unknown as { rawJSON(text: string): unknown }).rawJSON;
  io.out(
    JSON.stringify(value, (_key, item) => typeof item === "bigint" ? rawJson(String(item)) : item) +
      "\n",
  );
}
