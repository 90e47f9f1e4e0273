import { ThrottleError } from '@kafka-throttle/common';

export interface ScheduleOptions {
  /** N: starts allowed per period for the whole group. */
  messages: number;
  periodMs: number;
  /** 1..N: most starts that share one start time. */
  burst: number;
}

/** Slot k of a lane opens at slotStart(k, lane); slots of one lane open at least p' apart. */
export interface SlotGrid {
  slotStart(slot: number, lane: number): number;
  /** The slot k of `lane` with slotStart(k) <= t < slotStart(k + 1). */
  slotAt(lane: number, t: number): number;
}

/**
 * The group's one slot grid on absolute (epoch) time, identical in every worker that has the
 * same options, so workers agree on it without talking.
 *
 * The group rate is split into N lanes. A lane has one slot per grid period p' = period + ε; a
 * slot may be used during `[open, open + useWindowMs)`. Whoever uses a lane, two consecutive
 * uses of it are at least period + δ apart, so a window of one period never holds more than N
 * starts. Every lane moves between partitions by epochs of `epochPeriods` slots, and the grid
 * skips one slot between epochs (`handoverGapMs`, one whole grid period): a lane's last slot
 * before it may change hands can be used as late as any other slot, and the first slot of the
 * next epoch still opens a grid period after that use. All lanes pause together, so the lanes
 * never shift against each other and burst 1 stays evenly spaced.
 */
export interface Schedule {
  readonly messages: number;
  readonly periodMs: number;
  readonly burst: number;
  /** ε: what one grid period adds to the period; the rate costs ε / (period + ε). */
  readonly marginMs: number;
  /** δ: two uses of one lane are at least period + δ apart (clock skew, arrival jitter). */
  readonly gapMarginMs: number;
  /** λ = ε − δ: how much of a late lane's lateness one grid period wins back. */
  readonly recoveryMs: number;
  /** p' = period + ε: the grid period; also the wait before a newly assigned partition pays. */
  readonly slotPeriodMs: number;
  /** Distance between the start times of consecutive groups of `burst` slots. */
  readonly groupSpacingMs: number;
  /** How late after its start a slot may still be used (caps how many starts pile up). */
  readonly useWindowMs: number;
  /** Slots of a lane in one epoch (it may change partition between epochs). */
  readonly epochPeriods: number;
  /** Pause of the grid between epochs, where lanes may change hands: one grid period. */
  readonly handoverGapMs: number;
  readonly grid: SlotGrid;
}

const MIN_MARGIN_MS = 5;
const MARGIN_SHARE = 0.005;
const MAX_MARGIN_SHARE = 0.02;
const MAX_MARGIN_MS = 1000;
/** What a start after its slot opened may be late (event loop, GC, busy sink). */
const TOLERANCE_MS = 100;
/** Epochs are long enough that their gap costs at most this share of the rate: 400 slots. */
const GAP_COST = 0.0025;

export function createSchedule(options: ScheduleOptions): Schedule {
  const { messages, periodMs, burst } = options;
  if (!Number.isSafeInteger(messages) || messages < 1) {
    throw new ThrottleError('invalid_rate', `messages must be a positive integer, got ${messages}`);
  }
  if (!Number.isFinite(periodMs) || periodMs <= 0) {
    throw new ThrottleError('invalid_rate', `periodMs must be a positive number, got ${periodMs}`);
  }
  if (!Number.isSafeInteger(burst) || burst < 1 || burst > messages) {
    throw new ThrottleError(
      'invalid_rate',
      `burst must be an integer from 1 to messages (${messages}), got ${burst}`,
    );
  }

  // Big enough to absorb NTP skew, arrival jitter and timer lateness, small enough to cost at
  // most 0.5% of the rate (up to 2% for periods under 1 s, where 5 ms is a larger share).
  const marginMs = Math.min(
    Math.max(MIN_MARGIN_MS, MARGIN_SHARE * periodMs),
    MAX_MARGIN_SHARE * periodMs,
    MAX_MARGIN_MS,
  );
  const gapMarginMs = marginMs / 2;
  const recoveryMs = marginMs - gapMarginMs;
  const slotPeriodMs = periodMs + marginMs;
  const groupSpacingMs = (burst * slotPeriodMs) / messages;
  const toleranceMs = Math.max(recoveryMs, Math.min(slotPeriodMs / 2, TOLERANCE_MS));
  const useWindowMs = Math.min(slotPeriodMs, Math.max(groupSpacingMs, toleranceMs));
  const handoverGapMs = slotPeriodMs;
  const epochPeriods = Math.max(1, Math.ceil(handoverGapMs / (GAP_COST * slotPeriodMs) - 1e-9));
  const epochMs = epochPeriods * slotPeriodMs + handoverGapMs;

  const offsetOf = (lane: number): number => Math.floor(lane / burst) * groupSpacingMs;

  const slotStart = (slot: number, lane: number): number => {
    const epoch = Math.floor(slot / epochPeriods);
    const inEpoch = slot - epoch * epochPeriods;
    return epoch * epochMs + handoverGapMs + inEpoch * slotPeriodMs + offsetOf(lane);
  };
  const grid: SlotGrid = {
    slotStart,
    slotAt(lane, t) {
      const since = t - offsetOf(lane) - handoverGapMs;
      const epoch = Math.floor(since / epochMs);
      const inEpoch = Math.floor((since - epoch * epochMs) / slotPeriodMs);
      // The gap belongs to the epoch's last slot, which stays current until the next opens.
      let slot = epoch * epochPeriods + Math.min(inEpoch, epochPeriods - 1);
      // Division rounds; the answer must agree with slotStart, which every check uses.
      while (slotStart(slot + 1, lane) <= t) slot += 1;
      while (slotStart(slot, lane) > t) slot -= 1;
      return slot;
    },
  };

  return {
    messages,
    periodMs,
    burst,
    marginMs,
    gapMarginMs,
    recoveryMs,
    slotPeriodMs,
    groupSpacingMs,
    useWindowMs,
    epochPeriods,
    handoverGapMs,
    grid,
  };
}
