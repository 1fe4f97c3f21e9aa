/**
 * The case tables, by service.
 *
 * @module
 */
import type { CheckCase } from "../types.ts";
import { DOUBLE_CASES } from "./double.ts";
import { SUM_CASES } from "./sum.ts";
import { RANDOM_CASES } from "./random.ts";
import { CHAT_CASES } from "./chat.ts";
import { DOUBLE_CLIENT } from "./double_client.ts";
import { SUM_CLIENT } from "./sum_client.ts";
import { RANDOM_CLIENT } from "./random_client.ts";
import { CHAT_CLIENT } from "./chat_client.ts";
import type { ClientScenario } from "../client_runner.ts";

/** Every service's conformance cases. */
export const CASE_TABLES: Readonly<Record<string, readonly CheckCase[]>> = {
  double: DOUBLE_CASES,
  sum: SUM_CASES,
  random: RANDOM_CASES,
  chat: CHAT_CASES,
};

/** Every service's client scenario (`socklab check client SERVICE -- COMMAND`). */
export const CLIENT_SCENARIOS: Readonly<Record<string, ClientScenario>> = {
  double: DOUBLE_CLIENT,
  sum: SUM_CLIENT,
  random: RANDOM_CLIENT,
  chat: CHAT_CLIENT,
};
