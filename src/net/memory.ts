/**
 * Handing memory back to the system after a crowd of connections has gone.
 *
 * A server that held thousands of connections is left with their garbage in
 * V8's heap, and V8 keeps the pages it grew into: left to itself it collects
 * and shrinks on its own schedule, which can be minutes after the crowd left
 * (measured: 5,000 idle connections reclaimed four times over took a 50 MiB
 * server to 254 MiB, and it sat there for a minute and a half). One full,
 * memory-reducing collection right after the crowd has gone returns it at
 * once, for a few milliseconds of pause.
 *
 * Deno only offers such a collection through V8's `gc` function, which is
 * hidden unless V8 is started with `--expose-gc`. Rather than make every way
 * of running socklab (`deno run`, the deno tasks, a compiled binary) carry
 * that flag, the first call turns it on from inside (Node's `v8` and `vm`
 * modules: the documented way to get `gc` in a running process) and keeps the
 * function. Where that fails, nothing is collected and V8's schedule applies.
 *
 * @module
 */

/** V8's `gc` with options (V8 11+). */
type Collect = (options: { type: "major"; execution: "sync"; flavor: "last-resort" }) => void;

let collector: Promise<Collect | null> | null = null;

async function loadCollector(): Promise<Collect | null> {
  const exposed = (globalThis as { gc?: Collect }).gc;
  if (typeof exposed === "function") return exposed;
  try {
    // Loaded only when first needed (importing them took about 20 ms, which a
    // server's start should not pay), from specifiers the module graph does
    // not list, so that nothing at startup touches them.
    const [v8Name, vmName] = ["node:v8", "node:vm"];
    const [v8, vm] = await Promise.all([
      import(v8Name) as Promise<{ setFlagsFromString(flags: string): void }>,
      import(vmName) as Promise<{ runInNewContext(code: string): unknown }>,
    ]);
    v8.setFlagsFromString("--expose-gc");
    const gc = vm.runInNewContext("gc");
    return typeof gc === "function" ? gc as Collect : null;
  } catch {
    return null;
  }
}

/** What one {@linkcode returnMemory} did. */
export interface MemoryReturned {
  /** V8's heap (committed) before the collection, in bytes. */
  heapBefore: number;
  /** V8's heap (committed) after it, in bytes. */
  heapAfter: number;
  /** How long the collection paused the process, in ms. */
  pauseMs: number;
}

/**
 * Runs one full, memory-reducing collection and says what it gave back, or
 * null when this runtime offers no way to ask for one.
 *
 * @example
 * ```ts
 * import { returnMemory } from "./memory.ts";
 *
 * const returned = await returnMemory();
 * if (returned) console.log(`heap ${returned.heapBefore} -> ${returned.heapAfter} bytes`);
 * ```
 */
export async function returnMemory(): Promise<MemoryReturned | null> {
  collector ??= loadCollector();
  const collect = await collector;
  if (collect === null) return null;
  const heapBefore = Deno.memoryUsage().heapTotal;
  const started = performance.now();
  collect({ type: "major", execution: "sync", flavor: "last-resort" });
  const pauseMs = performance.now() - started;
  return { heapBefore, heapAfter: Deno.memoryUsage().heapTotal, pauseMs };
}

/**
 * Decides when connections have gone in numbers worth a collection, from
 * the count open and the count accepted so far, taken on each tick:
 *
 * - a crowd: at least `threshold` fewer open than the most since the last
 *   collection, and at most half of it (5,000 idle connections reclaimed by
 *   the idle timeout);
 * - a burst: at least five times `threshold` accepted since the last
 *   collection, then a quiet spell: over the last `quietTicks` ticks, a
 *   trickle of accepts at most (`threshold` / 25 a second on average: 40 a
 *   second for the default 1,000; 20,000 short connections, each closed at
 *   once, then a pause).
 *
 * A steady churn of short connections (a few open at a time, more than a
 * trickle accepted) triggers neither. Nor does a lull between bursts shorter
 * than the quiet spell: memory handed back there is grown again by the next
 * burst, and that costs more than it saves (measured: a collection in each
 * 3 s lull between 2 s bursts of short connections made each burst about 10%
 * slower, the heap growing from 8 to 70 MiB again every time).
 */
export class CrowdWatch {
  readonly #threshold: number;
  /** Accepted so far at each of the last `quietTicks` ticks (a ring). */
  readonly #history: Float64Array;
  /** Accepts a quiet spell may hold. */
  readonly #trickle: number;
  #ticks = 0;
  #peak = 0;
  #acceptedAtLast = 0;

  /**
   * `threshold` 0 never triggers. The quiet spell lasts `quietTicks` ticks of
   * `tickMs` each: one tick of 250 ms unless told.
   */
  constructor(threshold: number, quietTicks = 1, tickMs = 250) {
    this.#threshold = threshold;
    this.#history = new Float64Array(Math.max(1, Math.ceil(quietTicks)));
    this.#trickle = (threshold / 25) * (this.#history.length * tickMs) / 1000;
  }

  /**
   * Takes the connections open now and accepted so far; true when memory
   * should be returned.
   */
  update(open: number, accepted = 0): boolean {
    // Accepted so far as of `quietTicks` ticks ago (0 before there were that many).
    const slot = this.#ticks++ % this.#history.length;
    const acceptedSpellAgo = this.#history[slot];
    this.#history[slot] = accepted;
    if (this.#threshold <= 0) return false;
    const crowdGone = this.#peak - open >= this.#threshold && open <= this.#peak / 2;
    const burstOver = accepted - acceptedSpellAgo <= this.#trickle &&
      accepted - this.#acceptedAtLast >= 5 * this.#threshold;
    if (open > this.#peak) this.#peak = open;
    if (!crowdGone && !burstOver) return false;
    this.#peak = open;
    this.#acceptedAtLast = accepted;
    return true;
  }
}
