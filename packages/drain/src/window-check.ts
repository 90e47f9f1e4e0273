import { ThrottleError } from '@kafka-throttle/common';

/** The busiest half-open window found: `count` starts from index `first` to `last`. */
export interface BusiestWindow {
  count: number;
  first: number;
  last: number;
}

/**
 * The busiest half-open window `[t, t + windowMs)` over start times sorted ascending: two starts
 * share such a window exactly when they are less than `windowMs` apart. Returns count 0 (and
 * first = last = -1) for no starts. Throws `unsorted_times` if the times are not sorted.
 */
export function busiestWindow(sortedTimesMs: readonly number[], windowMs: number): BusiestWindow {
  if (!(windowMs > 0)) {
    throw new ThrottleError('invalid_window', `windowMs must be positive, got ${windowMs}`);
  }
  let best: BusiestWindow = { count: 0, first: -1, last: -1 };
  let first = 0;
  for (let last = 0; last < sortedTimesMs.length; last += 1) {
    const end = sortedTimesMs[last]!;
    if (!Number.isFinite(end)) {
      throw new ThrottleError('invalid_time', `time #${last} is not a finite number: ${end}`);
    }
    if (last > 0 && end < sortedTimesMs[last - 1]!) {
      throw new ThrottleError(
        'unsorted_times',
        `time #${last} (${end}) comes before the one above`,
      );
    }
    while (end - sortedTimesMs[first]! >= windowMs) first += 1;
    const count = last - first + 1;
    if (count > best.count) best = { count, first, last };
  }
  return best;
}

/** The largest number of starts in any half-open window of `windowMs` (times sorted ascending). */
export function maxInWindow(sortedTimesMs: number[], windowMs: number): number {
  return busiestWindow(sortedTimesMs, windowMs).count;
}
