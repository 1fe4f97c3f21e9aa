/**
 * `socklab server double`: the service takes no flags of its own.
 *
 * @module
 */
import { doubleService } from "../server/double.ts";
import { DOUBLE_PORTS } from "../protocol/double.ts";
import type { ServiceEntry } from "./services.ts";

/** The double service as `socklab server` knows it. */
export const doubleEntry: ServiceEntry = {
  name: "double",
  defaultPorts: DOUBLE_PORTS,
  summary: "replies with twice the integer it is sent (write-up 000)",
  create: () => doubleService(),
};
