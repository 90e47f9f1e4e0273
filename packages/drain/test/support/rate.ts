/**
 * The rate achieved, as a fraction of N per period, over whole periods: from the first
 * arrival `t0`, k = floor((last − t0) / period) periods; arrivals in [t0, t0 + k·period) are
 * counted and divided by k·N. Windows of one period never hold more than N, so 1 is the best
 * possible; the partial period at the end is left out because it would understate the rate.
 */
export function achievedRate(sortedTimes: readonly number[], n: number, periodMs: number): number {
  return achievedInSpan(sortedTimes, n, periodMs, sortedTimes[0] ?? 0, sortedTimes.at(-1) ?? 0);
}

/** The same over the span [from, to): whole periods from `from`; NaN if not one whole period. */
export function achievedInSpan(
  sortedTimes: readonly number[],
  n: number,
  periodMs: number,
  from: number,
  to: number,
): number {
  const periods = Math.floor((to - from) / periodMs);
  if (periods < 1) return Number.NaN;
  const end = from + periods * periodMs;
  const count = sortedTimes.filter((t) => t >= from && t < end).length;
  return count / (periods * n);
}
