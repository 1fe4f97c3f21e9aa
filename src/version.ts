/**
 * socklab's version, read from deno.json so there is one place to bump it.
 *
 * @module
 */
import config from "../deno.json" with { type: "json" };

/** The version printed by `socklab --version`. */
export const VERSION: string = config.version;
