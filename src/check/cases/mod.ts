/**
 * The case tables, by service.
 *
 * @module
 */
import type { CheckCase } from "../types.ts";
import { DOUBLE_CASES } from "./double.ts";

/** Every service's conformance cases. */
export const CASE_TABLES: Readonly<Record<string, readonly CheckCase[]>> = {
  double: DOUBLE_CASES,
};
