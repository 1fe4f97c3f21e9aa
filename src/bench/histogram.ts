/**
 * A log-bucketed histogram in the manner of HdrHistogram: fixed memory
 * whatever the number of values or the length of the run, and a bounded
 * relative error on every percentile.
 *
 * @module
 */

/** log2 of the number of linear sub-buckets per power of two. */
const SUB_BITS = 7;
/** Sub-buckets per power of two: each bucket is at most 1/128 of its value wide. */
const SUB = 1 << SUB_BITS;
/** Values at or above 2^MAX_BITS are counted in the top bucket (about 2.4 hours in ns). */
const MAX_BITS = 43;
const MAX_VALUE = 2 ** MAX_BITS - 1;
const BUCKETS = (MAX_BITS - SUB_BITS) * SUB + SUB;
const TWO_32 = 2 ** 32;

/**
 * The largest relative error of a percentile read from a
 * {@linkcode Histogram}: a reported value lies within this fraction of the
 * exact value of the same rank (half a bucket, buckets being at most 1/128 of
 * their value wide).
 */
export const HISTOGRAM_RELATIVE_ERROR = 1 / (2 * SUB);

/** The position of the highest set bit of a whole number below 2^53. */
function highestBit(value: number): number {
  if (value >= TWO_32) return 32 + 31 - Math.clz32(Math.floor(value / TWO_32));
  return 31 - Math.clz32(value);
}

/** The bucket of a whole number in [0, MAX_VALUE]. */
function bucketOf(value: number): number {
  if (value < 2 * SUB) return value;
  const shift = highestBit(value) - SUB_BITS;
  return shift * SUB + Math.floor(value / 2 ** shift);
}

/** The smallest value of a bucket. */
function bucketLow(index: number): number {
  if (index < 2 * SUB) return index;
  const shift = Math.floor(index / SUB) - 1;
  return (index - shift * SUB) * 2 ** shift;
}

/** The width of a bucket (how many whole numbers it holds). */
function bucketWidth(index: number): number {
  return index < 2 * SUB ? 1 : 2 ** (Math.floor(index / SUB) - 1);
}

/** One non-empty bucket, as {@linkcode Histogram.buckets} lists them. */
export interface HistogramBucket {
  /** The smallest value the bucket holds. */
  low: number;
  /** One past the largest value the bucket holds. */
  high: number;
  /** How many values fell in it. */
  count: number;
}

/**
 * A {@linkcode Histogram} as plain, structured-cloneable data (to send it
 * from one thread to another): its non-empty buckets and its exact figures.
 */
export interface HistogramState {
  /** Indexes of the non-empty buckets, ascending. */
  buckets: number[];
  /** How many values each of `buckets` holds. */
  counts: number[];
  count: number;
  sum: number;
  /** The smallest value (0 when empty). */
  min: number;
  /** The largest value (0 when empty). */
  max: number;
}

/**
 * Counts whole, non-negative values (e.g. nanoseconds) in about 4,900
 * buckets: exact below 256, then 128 buckets per power of two up to 2^43.
 * Recording is a few arithmetic operations and never allocates.
 *
 * @example
 * ```ts
 * import { deepEqual } from "node:assert/strict";
 * import { Histogram } from "./histogram.ts";
 *
 * const histogram = new Histogram();
 * for (let value = 1; value <= 100; value++) histogram.record(value);
 * deepEqual(histogram.count, 100);
 * deepEqual(histogram.percentile(50), 50);
 * deepEqual(histogram.percentile(100), 100);
 * ```
 */
export class Histogram {
  readonly #counts = new Float64Array(BUCKETS);
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** How many values were recorded. */
  get count(): number {
    return this.#count;
  }

  /** The smallest value recorded (exact), or 0 when empty. */
  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }

  /** The largest value recorded (exact), or 0 when empty. */
  get max(): number {
    return this.#max;
  }

  /** The mean of the values recorded (exact), or 0 when empty. */
  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /**
   * Counts `value`, rounded to a whole number; negative values count as 0 and
   * values past 2^43 as 2^43 - 1.
   */
  record(value: number): void {
    let v = Math.round(value);
    if (!(v > 0)) v = 0; // also catches NaN
    else if (v > MAX_VALUE) v = MAX_VALUE;
    this.#counts[bucketOf(v)]++;
    this.#count++;
    this.#sum += v;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  /** Adds every value of `other` to this histogram. */
  merge(other: Histogram): void {
    const counts = other.#counts;
    for (let i = 0; i < BUCKETS; i++) this.#counts[i] += counts[i];
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#count > 0) {
      this.#min = Math.min(this.#min, other.#min);
      this.#max = Math.max(this.#max, other.#max);
    }
  }

  /** This histogram as plain data; {@linkcode Histogram.mergeState} adds it to another. */
  state(): HistogramState {
    const buckets: number[] = [];
    const counts: number[] = [];
    for (let i = 0; i < BUCKETS; i++) {
      if (this.#counts[i] > 0) {
        buckets.push(i);
        counts.push(this.#counts[i]);
      }
    }
    return { buckets, counts, count: this.#count, sum: this.#sum, min: this.min, max: this.max };
  }

  /**
   * Adds the values of a histogram's {@linkcode Histogram.state}: the same as
   * {@linkcode Histogram.merge} with that histogram. Throws a RangeError for
   * a state no histogram could have.
   */
  mergeState(state: HistogramState): void {
    const { buckets, counts } = state;
    if (
      buckets.length !== counts.length ||
      buckets.some((index, i) =>
        !Number.isInteger(index) || index < 0 || index >= BUCKETS || !(counts[i] >= 0)
      )
    ) {
      throw new RangeError(
        `Cannot merge a histogram state of ${buckets.length} buckets: malformed`,
      );
    }
    for (let i = 0; i < buckets.length; i++) this.#counts[buckets[i]] += counts[i];
    this.#count += state.count;
    this.#sum += state.sum;
    if (state.count > 0) {
      this.#min = Math.min(this.#min, state.min);
      this.#max = Math.max(this.#max, state.max);
    }
  }

  /**
   * The value at percentile `p` (0-100): the value of rank ⌈p/100 × count⌉
   * in sorted order, within {@linkcode HISTOGRAM_RELATIVE_ERROR}; exact for
   * the minimum and the maximum. 0 when empty.
   */
  percentile(p: number): number {
    if (!(p >= 0 && p <= 100)) {
      throw new RangeError(`Cannot compute percentile ${p}: must be from 0 to 100`);
    }
    if (this.#count === 0) return 0;
    // The small allowance keeps 99.9% of 1000 at rank 999 despite float rounding.
    const rank = Math.ceil((p * this.#count) / 100 - 1e-9);
    if (rank <= 1) return this.#min;
    if (rank >= this.#count) return this.#max;
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.#counts[i];
      if (seen >= rank) {
        // The middle of the bucket, kept within what was actually seen.
        const middle = bucketLow(i) + (bucketWidth(i) - 1) / 2;
        return Math.min(Math.max(middle, this.#min), this.#max);
      }
    }
    return this.#max;
  }

  /** The non-empty buckets, smallest values first. */
  buckets(): HistogramBucket[] {
    const result: HistogramBucket[] = [];
    for (let i = 0; i < BUCKETS; i++) {
      const count = this.#counts[i];
      if (count > 0) {
        const low = bucketLow(i);
        result.push({ low, high: low + bucketWidth(i), count });
      }
    }
    return result;
  }
}
