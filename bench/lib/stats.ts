/**
 * Nearest-rank percentile of an ascending-sorted array.
 * @param sorted - values sorted ascending
 * @param p - percentile in [0, 100]
 * @returns the value, or NaN for an empty array
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (sorted.length === 0) {
    return Number.NaN;
  }
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

/**
 * Median of unsorted values.
 * @param values - the values
 * @returns the median, or NaN for none
 */
export function median(values: readonly number[]): number {
  if (values.length === 0) {
    return Number.NaN;
  }
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Sorts numbers ascending into a new Float64Array. */
export function sortedCopy(values: ArrayLike<number>): Float64Array {
  return Float64Array.from(values).sort();
}

/** Rounds for the report (keeps the JSON readable); NaN becomes null. */
export function round(value: number, decimals = 2): number | null {
  if (!Number.isFinite(value)) {
    return null;
  }
  const f = 10 ** decimals;
  return Math.round(value * f) / f;
}
