/**
 * The services `socklab bench` can drive. Adding one means adding an entry
 * here: a request/reply workload (see `double.ts`), or the chat fan-out.
 *
 * @module
 */
import type { Command } from "commander";
import { doubleWorkload } from "./double.ts";
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
];

/** Looks a bench service up by name. */
export function findBenchEntry(name: string): BenchEntry | undefined {
  return BENCH_ENTRIES.find((entry) => entry.name === name);
}
