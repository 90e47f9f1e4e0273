/**
 * The one window checker of the repository, for unit tests, e2e and bench alike. The promise
 * it checks: at most N events (starts, arrivals) in any half-open window of one period.
 */

/** The busiest half-open window found: `count` times from index `first` to `last`. */
export interface BusiestWindow {
  count: number;
  first: number;
  last: number;
}

/**
 * The busiest half-open window `[t, t + windowMs)` over times sorted ascending: two times share
 * such a window exactly when they are less than `windowMs` apart. Returns count 0 (and
 * first = last = -1) for no times. Throws a RangeError for unsorted or non-finite times.
 */
export function busiestWindow(sortedTimesMs: readonly number[], windowMs: number): BusiestWindow {
  if (!(windowMs > 0)) throw new RangeError(`windowMs must be positive, got ${windowMs}`);
  let best: BusiestWindow = { count: 0, first: -1, last: -1 };
  let first = 0;
  for (let last = 0; last < sortedTimesMs.length; last += 1) {
    const end = sortedTimesMs[last]!;
    if (!Number.isFinite(end)) {
      throw new RangeError(`time #${last} is not a finite number: ${end}`);
    }
    if (last > 0 && end < sortedTimesMs[last - 1]!) {
      throw new RangeError(`unsorted times: #${last} (${end}) comes before the one above`);
    }
    while (end - sortedTimesMs[first]! >= windowMs) first += 1;
    const count = last - first + 1;
    if (count > best.count) best = { count, first, last };
  }
  return best;
}

/** The largest number of times in any half-open window of `windowMs` (times sorted ascending). */
export function maxInWindow(sortedTimesMs: readonly number[], windowMs: number): number {
  return busiestWindow(sortedTimesMs, windowMs).count;
}

/**
 * The promise checked on times in any order: with the times sorted, every N + 1 consecutive
 * ones must span at least one period. Returns the tightest such span and every one that is
 * shorter than the period (empty when the promise holds).
 */
export function rateWindows(
  times: readonly number[],
  messages: number,
  periodMs: number,
): { tightestMs: number | undefined; violations: { index: number; spanMs: number }[] } {
  const sorted = [...times].sort((a, b) => a - b);
  let tightestMs: number | undefined;
  const violations: { index: number; spanMs: number }[] = [];
  for (let i = 0; i + messages < sorted.length; i++) {
    const spanMs = sorted[i + messages]! - sorted[i]!;
    if (tightestMs === undefined || spanMs < tightestMs) tightestMs = spanMs;
    if (spanMs < periodMs) violations.push({ index: i, spanMs });
  }
  return { tightestMs, violations };
}

/** Times in ms from the first, for a failure message a person can read. */
export function timesText(times: readonly number[], what = 'arrivals'): string {
  const sorted = [...times].sort((a, b) => a - b);
  const first = sorted[0] ?? 0;
  return `${what}, ms after the first: ${sorted.map((t) => (t - first).toFixed(0)).join(' ')}`;
}
