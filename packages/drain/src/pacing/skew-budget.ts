import { createSchedule } from './schedule.ts';

/**
 * How far one worker's clock may be ahead of another's before the promise can break. Workers
 * lay one schedule on absolute time, but their clocks meet in one place only: a rotating lane
 * changing hands at an epoch boundary (a partition moved by a rebalance waits a grid period on
 * its new owner's own clock, which skew does not shorten). The giver may use its last slot up to
 * a grid period late; the taker's first slot opens two grid periods after that slot. Their uses
 * stay a period apart while the skew is at most a grid period minus the period: the guard plus
 * the schedule's margin. The same sum also absorbs arrival jitter, so skew should use well under
 * it.
 */
export function clockSkewBudgetMs(periodMs: number, guardMs: number): number {
  // The grid period depends only on the period the limiter is given, not on the rate.
  const { slotPeriodMs } = createSchedule({ messages: 1, periodMs: periodMs + guardMs, burst: 1 });
  return slotPeriodMs - periodMs;
}
