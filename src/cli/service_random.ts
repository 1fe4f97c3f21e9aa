/**
 * `socklab server random`: its flags and how they make the service. Also
 * declares `--seed`, which sum uses as well.
 *
 * @module
 */
import type { Command } from "commander";
import { parseIntegerOption } from "../net/address.ts";
import { randomService } from "../server/random.ts";
import { createRandomSource, type RandomSource } from "../protocol/rng.ts";
import {
  checkRandomOptions,
  DEFAULT_RANDOM_OPTIONS,
  MAX_RANDOM_COUNT,
  RANDOM_PORT,
} from "../protocol/random.ts";
import type { ServiceEntry } from "./services.ts";

/**
 * The random source `--seed` asks for: seeded when the flag was given,
 * unpredictable otherwise. Throws a RangeError for a bad seed.
 */
export function seededSource(seed: unknown): RandomSource {
  if (seed === undefined) return createRandomSource();
  return createRandomSource(
    parseIntegerOption(String(seed), "--seed", 0, Number.MAX_SAFE_INTEGER),
  );
}

function safeInteger(value: unknown, flag: string): number {
  return parseIntegerOption(
    String(value),
    flag,
    Number.MIN_SAFE_INTEGER,
    Number.MAX_SAFE_INTEGER,
  );
}

/** The random service as `socklab server` knows it. */
export const randomEntry: ServiceEntry = {
  name: "random",
  defaultPorts: [RANDOM_PORT],
  summary: 'sends random integers joined by "," on connect, then closes (write-up 002)',
  addOptions(command: Command) {
    command
      .option(
        "--count <n>",
        `random: how many numbers per connection, 1-${MAX_RANDOM_COUNT}`,
        String(DEFAULT_RANDOM_OPTIONS.count),
      )
      .option("--min <n>", "random: smallest number", String(DEFAULT_RANDOM_OPTIONS.min))
      .option("--max <n>", "random: largest number", String(DEFAULT_RANDOM_OPTIONS.max))
      .option("--newline", "random: end the numbers with a newline, for terminal users")
      .option(
        "--seed <n>",
        "random and sum: seed the numbers drawn, for a reproducible run (default: unpredictable)",
      );
  },
  create(options) {
    const draw = checkRandomOptions({
      count: parseIntegerOption(String(options.count), "--count", 1, MAX_RANDOM_COUNT),
      min: safeInteger(options.min, "--min"),
      max: safeInteger(options.max, "--max"),
    });
    return randomService({
      ...draw,
      newline: options.newline === true,
      random: seededSource(options.seed),
    });
  },
};
