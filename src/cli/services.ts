/**
 * The services `socklab server` can run, with their default ports and the
 * options each one takes. Adding a service means writing its entry in
 * `service_NAME.ts` and adding it here.
 *
 * @module
 */
import type { Command } from "commander";
import type { Service } from "../net/server.ts";
import type { CliIO } from "./io.ts";
import { doubleEntry } from "./service_double.ts";
import { sumEntry } from "./service_sum.ts";
import { randomEntry } from "./service_random.ts";
import { chatEntry } from "./service_chat.ts";

/** What a service may ask of the command that runs it. */
export interface ServiceContext {
  /** Stops the whole server gracefully, saying why (e.g. sum's exit-on-out-of-range). */
  requestShutdown(reason: string): void;
  /** Aborted when the server begins to shut down. */
  signal: AbortSignal;
  /** The process's stdin/stdout (e.g. for an operator console). */
  io: CliIO;
}

/** A service as the command line knows it. */
export interface ServiceEntry {
  /** The name typed after `socklab server`. */
  readonly name: string;
  /** Ports it listens on when none is given (one listener each). */
  readonly defaultPorts: readonly number[];
  /** One line for `--help`. */
  readonly summary: string;
  /**
   * The idle timeout when `--idle-timeout` is not given, if not the shared
   * one (chat: 0, never, since a client may only read).
   */
  readonly defaultIdleTimeoutMs?: number;
  /** Adds the service's own flags to `socklab server` (shown in its help). */
  addOptions?(command: Command): void;
  /** Flags another service declares that this one reads too (commander's names: `seed`). */
  readonly sharedOptions?: readonly string[];
  /**
   * Creates the service from the parsed command-line options (commander's
   * camelCase names). Throw a RangeError/SyntaxError for a bad value: it is
   * reported as a usage error.
   */
  create(options: Record<string, unknown>, context: ServiceContext): Service;
}

/** Every service, in the order `socklab server` starts them. */
export const SERVICES: readonly ServiceEntry[] = [doubleEntry, sumEntry, randomEntry, chatEntry];

/** Looks a service up by name. */
export function findService(name: string): ServiceEntry | undefined {
  return SERVICES.find((entry) => entry.name === name);
}
