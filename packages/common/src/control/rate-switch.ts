import type { RateSetting } from './control-state.ts';

/**
 * When a rate change written at `changedAt` takes effect: the first multiple of the larger of
 * the two periods (on the epoch grid) that is at least one such period after `changedAt`.
 * Every worker computes the same instant from the same record, so the group switches at once;
 * the period of notice covers the time the record takes to reach every worker.
 */
export function rateSwitchAt(from: RateSetting, to: RateSetting, changedAt: number): number {
  const period = Math.max(from.periodMs, to.periodMs);
  return Math.ceil((changedAt + period) / period) * period;
}

export function sameRate(a: RateSetting, b: RateSetting): boolean {
  return a.messages === b.messages && a.periodMs === b.periodMs && a.burst === b.burst;
}
