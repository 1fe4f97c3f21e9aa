/**
 * Waiting with a deadline, without leaking the timer.
 *
 * @module
 */

/** What {@linkcode within} resolves to when time runs out first. */
export const TIMEOUT: unique symbol = Symbol("timeout");

/**
 * Waits for `promise`, or resolves {@linkcode TIMEOUT} after `ms`. The timer is
 * always cleared; `promise` itself is left running.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { TIMEOUT, within } from "./deadline.ts";
 *
 * deepEqual(await within(Promise.resolve(1), 1000), 1);
 * deepEqual(await within(new Promise(() => {}), 1), TIMEOUT);
 * ```
 */
export function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMEOUT> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<typeof TIMEOUT>((resolve) => {
    timer = setTimeout(resolve, Math.max(0, ms), TIMEOUT);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
