/**
 * A small seedable random source for the services that draw numbers (sum's
 * server number, the random service), so that `--seed` makes a run
 * reproducible and tests are deterministic. Not for cryptography.
 *
 * The generator is xoshiro128** 1.1 (Blackman and Vigna), seeded through
 * SplitMix64 as its authors recommend; both are the reference algorithms,
 * checked against the reference C code in the tests.
 *
 * @module
 */

/** Anything that yields uniformly distributed unsigned 32-bit integers. */
export interface RandomSource {
  /** The next integer in 0..2^32-1. */
  nextUint32(): number;
}

const MASK64 = (1n << 64n) - 1n;

/** One SplitMix64 step: the new state and its output. */
function splitMix64(state: bigint): [bigint, bigint] {
  const next = (state + 0x9e3779b97f4a7c15n) & MASK64;
  let z = next;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & MASK64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & MASK64;
  return [next, z ^ (z >> 31n)];
}

/**
 * The xoshiro128** generator: 128 bits of state, period 2^128 - 1.
 *
 * @example Two generators with the same seed give the same numbers
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Xoshiro128 } from "./rng.ts";
 *
 * deepEqual(new Xoshiro128(42).nextUint32(), new Xoshiro128(42).nextUint32());
 * ```
 */
export class Xoshiro128 implements RandomSource {
  #s0: number;
  #s1: number;
  #s2: number;
  #s3: number;

  /**
   * Seeds the state from `seed` (a whole number from 0 to 2^53 - 1) through
   * SplitMix64. Throws a RangeError for any other seed.
   */
  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) {
      throw new RangeError(
        `Cannot use seed ${seed}: must be a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`,
      );
    }
    const [state, a] = splitMix64(BigInt(seed));
    const [, b] = splitMix64(state);
    this.#s0 = Number(a & 0xffffffffn);
    this.#s1 = Number(a >> 32n);
    this.#s2 = Number(b & 0xffffffffn);
    this.#s3 = Number(b >> 32n);
    // An all-zero state would only ever yield zeros.
    if ((this.#s0 | this.#s1 | this.#s2 | this.#s3) === 0) this.#s0 = 1;
  }

  /** Creates a generator from explicit state words (for checking against reference vectors). */
  static fromState(state: readonly [number, number, number, number]): Xoshiro128 {
    const rng = new Xoshiro128(0);
    [rng.#s0, rng.#s1, rng.#s2, rng.#s3] = state.map((word) => word >>> 0);
    if ((rng.#s0 | rng.#s1 | rng.#s2 | rng.#s3) === 0) {
      throw new RangeError("Cannot use an all-zero state for xoshiro128**");
    }
    return rng;
  }

  nextUint32(): number {
    const s1 = this.#s1;
    const result = Math.imul(rotl(Math.imul(s1, 5), 7), 9) >>> 0;
    const t = s1 << 9;
    this.#s2 ^= this.#s0;
    this.#s3 ^= s1;
    this.#s1 ^= this.#s2;
    this.#s0 ^= this.#s3;
    this.#s2 ^= t;
    this.#s3 = rotl(this.#s3, 11);
    return result;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/**
 * A random source seeded with `seed`, or with 53 bits from the system's
 * secure random generator when `seed` is undefined.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { createRandomSource, randomInteger } from "./rng.ts";
 *
 * const a = createRandomSource(7);
 * const b = createRandomSource(7);
 * deepEqual(randomInteger(a, { min: 1, max: 100 }), randomInteger(b, { min: 1, max: 100 }));
 * ```
 */
export function createRandomSource(seed?: number): RandomSource {
  if (seed !== undefined) return new Xoshiro128(seed);
  const words = crypto.getRandomValues(new Uint32Array(2));
  return new Xoshiro128((words[0] & 0x1fffff) * 2 ** 32 + words[1]);
}

const TWO_32 = 2 ** 32;

/** An inclusive range of integers. */
export interface IntegerRange {
  /** The smallest value (a safe integer). */
  min: number;
  /** The largest value (a safe integer, at least `min`). */
  max: number;
}

/**
 * A uniformly distributed integer in `min..max` (both included, any safe
 * integers with `min <= max`), without modulo bias: draws that would favour
 * some values are rejected and drawn again.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { createRandomSource, randomInteger } from "./rng.ts";
 *
 * deepEqual(randomInteger(createRandomSource(1), { min: 5, max: 5 }), 5);
 * ```
 */
export function randomInteger(source: RandomSource, range: IntegerRange): number {
  const { min, max } = range;
  if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || min > max) {
    throw new RangeError(
      `Cannot draw an integer from ${min} to ${max}: need safe integers with min <= max`,
    );
  }
  const span = max - min + 1; // exact up to 2^53; larger spans go through BigInt below
  if (span <= TWO_32 && Number.isSafeInteger(span)) {
    // The largest multiple of span that fits in 32 bits: draws at or above it are rejected.
    const limit = TWO_32 - (TWO_32 % span);
    let draw = source.nextUint32();
    while (draw >= limit) draw = source.nextUint32();
    return min + (draw % span);
  }
  const bigSpan = BigInt(max) - BigInt(min) + 1n;
  const words = 1n << 64n;
  const limit = words - (words % bigSpan);
  while (true) {
    const draw = (BigInt(source.nextUint32()) << 32n) | BigInt(source.nextUint32());
    if (draw < limit) return Number(BigInt(min) + (draw % bigSpan));
  }
}
