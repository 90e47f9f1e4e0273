/**
 * The group-wide promise as the destination sees it: no window of `periodMs` holds more than
 * `messages` arrivals, i.e. with arrival times sorted, times[i + messages] - times[i] >= periodMs.
 * Returns the tightest such span, and every window that breaks the promise.
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
    const spanMs = (sorted[i + messages] as number) - (sorted[i] as number);
    if (tightestMs === undefined || spanMs < tightestMs) tightestMs = spanMs;
    if (spanMs < periodMs) violations.push({ index: i, spanMs });
  }
  return { tightestMs, violations };
}

/** Arrival times in ms from the first, for a failure message a person can read. */
export function arrivalsText(arrivals: readonly { at: number }[]): string {
  const times = arrivals.map((a) => a.at).sort((a, b) => a - b);
  const first = times[0] ?? 0;
  return `arrivals, ms after the first: ${times.map((t) => (t - first).toFixed(0)).join(' ')}`;
}
