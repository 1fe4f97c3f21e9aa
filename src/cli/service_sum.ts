/**
 * `socklab server sum`: its flags and how they make the service.
 *
 * @module
 */
import type { Command } from "commander";
import { parseIntegerOption } from "../net/address.ts";
import { sumService } from "../server/sum.ts";
import { checkSumName, DEFAULT_SERVER_NAME, SUM_MAX, SUM_MIN, SUM_PORT } from "../protocol/sum.ts";
import type { ServiceEntry } from "./services.ts";
import { seededSource } from "./service_random.ts";

/** The sum service as `socklab server` knows it. */
export const sumEntry: ServiceEntry = {
  name: "sum",
  defaultPorts: [SUM_PORT],
  summary: "NAME;NUMBER or JSON in, the server's name and number out (write-ups 001, 003)",
  // --seed is declared by the random service's entry.
  sharedOptions: ["seed"],
  addOptions(command: Command) {
    command
      .option("--name <name>", "sum: the server's name in replies", DEFAULT_SERVER_NAME)
      .option(
        "--number <n>",
        `sum: reply with this number (${SUM_MIN}-${SUM_MAX}) instead of a random one per request`,
      )
      .option(
        "--exit-on-out-of-range",
        `sum: after a client number outside ${SUM_MIN}..${SUM_MAX}, shut the server down ` +
          "gracefully, as the write-ups describe (default: keep serving)",
      );
  },
  create(options, context) {
    const name = checkSumName(String(options.name), "--name");
    const number = options.number === undefined
      ? undefined
      : parseIntegerOption(String(options.number), "--number", SUM_MIN, SUM_MAX);
    return sumService({
      name,
      number,
      random: seededSource(options.seed),
      onOutOfRange: options.exitOnOutOfRange === true
        ? (event) =>
          context.requestShutdown(
            `sum client ${event.remote} sent ${event.number}, outside ${SUM_MIN}..${SUM_MAX} ` +
              "(--exit-on-out-of-range)",
          )
        : undefined,
    });
  },
};
