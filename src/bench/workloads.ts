/**
 * The services `socklab bench` can drive. Adding one means adding an entry
 * here: a request/reply workload (see `double.ts`), or the chat fan-out.
 *
 * @module
 */
import type { Command } from "commander";
import { parseIntegerOption } from "../net/address.ts";
import { DEFAULT_RANDOM_OPTIONS, MAX_RANDOM_COUNT } from "../protocol/random.ts";
import { doubleWorkload } from "./double.ts";
import { randomWorkload } from "./random.ts";
import type { ExchangeWorkload } from "./workload.ts";

/** A service as `socklab bench` knows it. */
export type BenchEntry =
  & {
    readonly name: string;
    /** One line for `--help`. */
    readonly summary: string;
    /** Adds the workload's own flags to `socklab bench` (shown in its help). */
    addOptions?(command: Command): void;
  }
  & (
    | {
      readonly kind: "exchange";
      /**
       * Creates the workload from the parsed options (commander's camelCase
       * names). Throw a RangeError/SyntaxError for a bad value: it is reported
       * as a usage error.
       */
      create(options: Record<string, unknown>): ExchangeWorkload;
    }
    | { readonly kind: "fan-out" }
  );

/** Every service `socklab bench` drives. */
export const BENCH_ENTRIES: readonly BenchEntry[] = [
  {
    name: "double",
    kind: "exchange",
    summary: "an integer per request, every reply checked (persistent or per-connection)",
    create: () => doubleWorkload(),
  },
  {
    name: "random",
    kind: "exchange",
    summary: "connect, read to the end, check --count integers within --min..--max " +
      "(per-connection only)",
    addOptions: (command) =>
      command
        .option(
          "--count <n>",
          "random: how many numbers the server sends",
          String(DEFAULT_RANDOM_OPTIONS.count),
        )
        .option("--min <n>", "random: smallest number allowed", String(DEFAULT_RANDOM_OPTIONS.min))
        .option("--max <n>", "random: largest number allowed", String(DEFAULT_RANDOM_OPTIONS.max)),
    create: (options) =>
      randomWorkload({
        count: parseIntegerOption(String(options.count), "--count", 1, MAX_RANDOM_COUNT),
        min: safeInteger(options.min, "--min"),
        max: safeInteger(options.max, "--max"),
      }),
  },
  {
    name: "chat",
    kind: "fan-out",
    summary: "--senders write --rate lines/s each, --receivers count deliveries, latency, " +
      "lost, merged and corrupted lines (any relay that sends each line to every other client)",
    addOptions: (command) =>
      command
        .option("--receivers <n>", "chat: clients that only read", "50")
        .option("--senders <n>", "chat: clients that write --rate lines per second each", "5"),
  },
];

function safeInteger(value: unknown, flag: string): number {
  return parseIntegerOption(String(value), flag, Number.MIN_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
}

/** Looks a bench service up by name. */
export function findBenchEntry(name: string): BenchEntry | undefined {
  return BENCH_ENTRIES.find((entry) => entry.name === name);
}
