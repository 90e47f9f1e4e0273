import { DrainError } from '../errors.ts';

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
 * starts. Some lanes move between partitions every `epochPeriods` slots (see lane-map.ts), and
 * one that changes hands there is skipped for a slot by its new owner (see rate-limiter.ts):
 * the grid itself never pauses, so lanes never shift against each other.
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
  readonly grid: SlotGrid;
}

const MIN_MARGIN_MS = 5;
const MARGIN_SHARE = 0.005;
const MAX_MARGIN_SHARE = 0.02;
const MAX_MARGIN_MS = 1000;
/** What a start after its slot opened may be late (event loop, GC, busy sink). */
const TOLERANCE_MS = 100;
/**
 * Grid periods between the moments lanes may change partition: long enough that the slot a
 * lane skips when it changes hands costs under 0.25% of it.
 */
const EPOCH_PERIODS = 401;

export function createSchedule(options: ScheduleOptions): Schedule {
  const { messages, periodMs, burst } = options;
  if (!Number.isSafeInteger(messages) || messages < 1) {
    throw new DrainError('invalid_rate', `messages must be a positive integer, got ${messages}`);
  }
  if (!Number.isFinite(periodMs) || periodMs <= 0) {
    throw new DrainError('invalid_rate', `periodMs must be a positive number, got ${periodMs}`);
  }
  if (!Number.isSafeInteger(burst) || burst < 1 || burst > messages) {
    throw new DrainError(
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

  const offsetOf = (lane: number): number => Math.floor(lane / burst) * groupSpacingMs;

  const slotStart = (slot: number, lane: number): number => slot * slotPeriodMs + offsetOf(lane);
  const grid: SlotGrid = {
    slotStart,
    slotAt(lane, t) {
      let slot = Math.floor((t - offsetOf(lane)) / slotPeriodMs);
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
    epochPeriods: EPOCH_PERIODS,
    grid,
  };
}
