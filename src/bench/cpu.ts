/**
 * The load generator's own CPU time, so a run can say whether the generator
 * itself was the limit: a single-threaded generator near one core of CPU
 * cannot drive any faster, whatever the target could answer.
 *
 * @module
 */

/** A reading of this process's CPU time (user and system), in ms. */
export type CpuClock = () => number;

/**
 * This process's CPU clock, or null where the runtime offers none. Node's
 * `process.cpuUsage()` (getrusage) needs no permission; its module is loaded
 * on first use, before a run starts, so that loading it is not measured.
 *
 * @example
 * ```ts
 * import { cpuClock } from "./cpu.ts";
 *
 * const clock = await cpuClock();
 * if (clock) console.log(`${clock().toFixed(1)} ms of CPU so far`);
 * ```
 */
export async function cpuClock(): Promise<CpuClock | null> {
  try {
    // A specifier the module graph does not list: nothing at startup touches it.
    const specifier = "node:process";
    const { default: process } = await import(specifier) as {
      default: { cpuUsage(): { user: number; system: number } };
    };
    return () => {
      const { user, system } = process.cpuUsage();
      return (user + system) / 1000;
    };
  } catch {
    return null;
  }
}
