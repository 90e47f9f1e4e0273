import { createSchedule } from './schedule.ts';

/**
 * How far one worker's clock may be off the others' before the promise at the destination can
 * break. Workers lay one schedule on absolute time, but their clocks meet in one place only: a
 * rotating lane changing hands at an epoch boundary. (A partition moved by a rebalance waits a
 * whole grid period on the new owner's own clock, which skew does not shorten.) There the giver
 * may use its last slot as late as a grid period, and the taker's first slot opens two grid
 * periods after that slot: their uses stay a period apart while the taker's clock is ahead by
 * no more than a grid period minus the period, which is the guard plus the schedule's margin.
 * The same sum also absorbs arrival jitter, so skew should use well under all of it.
 */
export function clockSkewBudgetMs(periodMs: number, guardMs: number): number {
  // Any rate gives the same grid period; only the period and the guard matter here.
  const { slotPeriodMs } = createSchedule({ messages: 1, periodMs: periodMs + guardMs, burst: 1 });
  return slotPeriodMs - periodMs;
}
