import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../../test-support/manual-clock.ts';
import { maxInWindow } from '../../../../test-support/window-check.ts';
import {
  ALL,
  countIn,
  EPS,
  HOUR,
  limiterAt,
  runGroup,
  T0,
  takeAll,
} from '../../test/pacing/limiter-harness.ts';
import { createRateLimiter } from './rate-limiter.ts';

describe('createRateLimiter: one worker', () => {
  it('5 per 5 s with the default burst: five back to back, then waits for the next period', () => {
    const { clock, limiter, schedule } = limiterAt(T0, { messages: 5, periodMs: 5000, burst: 5 });
    const { slotPeriodMs } = schedule;
    // What a lane that changes hands at an epoch boundary may skip: one slot.
    const handoverGapMs = slotPeriodMs;
    limiter.assign(ALL, 6);

    // Newly assigned partitions pay only after one grid period.
    const first = limiter.tryAcquire();
    expect(first.granted).toBe(false);
    const readyAt = (first as { nextAt: number }).nextAt;
    expect(readyAt).toBeGreaterThanOrEqual(T0 + slotPeriodMs);
    expect(readyAt).toBeLessThanOrEqual(T0 + slotPeriodMs + handoverGapMs);

    for (let round = 0; round < 3; round += 1) {
      const next = limiter.tryAcquire() as { nextAt: number };
      clock.set(next.nextAt);
      const startedAt = clock.now();
      const burst = Array.from({ length: 5 }, () => limiter.tryAcquire().granted);
      expect(burst).toEqual([true, true, true, true, true]);
      const sixth = limiter.tryAcquire();
      expect(sixth.granted).toBe(false);
      const wait = (sixth as { nextAt: number }).nextAt - startedAt;
      expect(wait).toBeGreaterThanOrEqual(5000);
      expect(wait).toBeLessThanOrEqual(slotPeriodMs + handoverGapMs);
    }
  });

  it('burst 1 spaces the starts evenly, one grid period / N apart', () => {
    const { clock, limiter, schedule } = limiterAt(T0, { messages: 5, periodMs: 5000, burst: 1 });
    const { slotPeriodMs, recoveryMs } = schedule;
    // What a lane that changes hands at an epoch boundary may skip: one slot.
    const handoverGapMs = slotPeriodMs;
    limiter.assign(ALL, 6);
    const starts = takeAll(limiter, clock, T0 + 2 * HOUR);
    expect(maxInWindow(starts, 5000)).toBeLessThanOrEqual(5);
    // The first start comes when the new partitions pay, part-way into a slot; that lane then
    // wins back λ per period until it is on the grid again.
    const settled = T0 + (slotPeriodMs / recoveryMs + 2) * slotPeriodMs;
    const later = starts.filter((t) => t >= settled);
    const spacing = slotPeriodMs / 5;
    const gaps = later.slice(1).map((t, i) => t - later[i]!);
    expect(gaps.length).toBeGreaterThan(1000);
    for (const gap of gaps) {
      expect(gap).toBeGreaterThanOrEqual(spacing - EPS);
      // A lane that changes hands at an epoch boundary may skip a slot.
      expect(gap).toBeLessThanOrEqual(spacing + handoverGapMs + EPS);
    }
    const even = gaps.filter((gap) => Math.abs(gap - spacing) < EPS).length;
    expect(even / gaps.length).toBeGreaterThan(0.95);
  });

  it('20 per second with all 6 partitions achieves at least 99% over a simulated hour', () => {
    const run = runGroup({
      messages: 20,
      periodMs: 1000,
      burst: 20,
      split: [ALL],
      hours: 1,
      latenessMs: 2,
      deliveryMs: 20,
    });
    expect(maxInWindow(run.starts, 1000)).toBeLessThanOrEqual(20);
    expect(run.ratio).toBeGreaterThanOrEqual(0.99);
  });

  it('1 per hour: one start an hour, never two within an hour', () => {
    const { clock, limiter } = limiterAt(T0, { messages: 1, periodMs: HOUR, burst: 1 });
    limiter.assign(ALL, 6);
    const starts = takeAll(limiter, clock, T0 + 48 * HOUR);
    expect(maxInWindow(starts, HOUR)).toBe(1);
    // The first hour is the wait for newly assigned partitions.
    expect(starts.length).toBeGreaterThanOrEqual(46);
    expect(starts.length).toBeLessThanOrEqual(47);
  });

  it('5,000 per second (burst 5,000 and burst 1) achieves at least 99% and never more', () => {
    for (const burst of [5000, 1]) {
      const run = runGroup({
        messages: 5000,
        periodMs: 1000,
        burst,
        split: [ALL],
        hours: 1 / 60,
        latenessMs: 1,
        deliveryMs: 1,
      });
      expect(maxInWindow(run.starts, 1000)).toBeLessThanOrEqual(5000);
      expect(run.ratio).toBeGreaterThanOrEqual(0.99);
    }
  });

  it('does not drift over 10 simulated hours: starts stay on the absolute grid', () => {
    const { clock, limiter, schedule } = limiterAt(T0, { messages: 20, periodMs: 1000, burst: 20 });
    const { slotPeriodMs, grid } = schedule;
    limiter.assign(ALL, 6);
    const until = T0 + 10 * HOUR;
    const starts = takeAll(limiter, clock, until);

    // What the grid promises in whole grid periods from the third one on: all 20 lanes open
    // once per grid period (one worker holds every partition: no lane changes hands).
    const from = (Math.floor(T0 / slotPeriodMs) + 3) * slotPeriodMs;
    const to = Math.floor(until / slotPeriodMs) * slotPeriodMs;
    const expected = 20 * Math.round((to - from) / slotPeriodMs);
    expect(Math.abs(countIn(starts, from, to) - expected)).toBeLessThanOrEqual(2);
    expect(countIn(starts, from, to) / (20 * ((to - from) / 1000))).toBeGreaterThanOrEqual(0.99);
    // Hours later, the last period's burst starts exactly when the grid opens.
    const lastOpen = grid.slotStart(grid.slotAt(0, to - 1), 0);
    expect(countIn(starts, lastOpen, lastOpen + EPS)).toBe(20);
    expect(maxInWindow(starts, 1000)).toBeLessThanOrEqual(20);
  });

  it('a worker started hours later paces on the same absolute grid', () => {
    const options = { messages: 20, periodMs: 1000, burst: 1 };
    const early = limiterAt(T0, options);
    const late = limiterAt(T0 + 3 * HOUR + 777.5, options);
    early.limiter.assign(ALL, 6);
    late.limiter.assign(ALL, 6);
    const a = takeAll(early.limiter, early.clock, T0 + 5 * HOUR);
    const b = takeAll(late.limiter, late.clock, T0 + 5 * HOUR);
    const window = (ts: number[]) => ts.filter((t) => t >= T0 + 4 * HOUR);
    expect(window(b).length).toBeGreaterThan(70_000);
    expect(window(b)).toEqual(window(a));
  });

  it('owns nothing until assigned: nextAt is Infinity and the share 0', () => {
    const { limiter } = limiterAt(T0, { messages: 5, periodMs: 5000, burst: 5 });
    expect(limiter.tryAcquire()).toEqual({ granted: false, nextAt: Number.POSITIVE_INFINITY });
    expect(limiter.share()).toBe(0);
    limiter.assign([2], 6);
    expect(limiter.share()).toBeCloseTo(5 / 6, 12);
    limiter.assign([], 6);
    expect(limiter.tryAcquire()).toEqual({ granted: false, nextAt: Number.POSITIVE_INFINITY });
    expect(limiter.share()).toBe(0);
  });

  it('reports its share in deliveries per period, fractional', () => {
    const { limiter } = limiterAt(T0, { messages: 50, periodMs: 1000, burst: 50 });
    limiter.assign([0, 1], 6);
    expect(limiter.share()).toBeCloseTo(50 / 3, 12);
    limiter.assign([0, 1, 1, 2], 6);
    expect(limiter.share()).toBe(25);
  });

  it('refuses impossible options and assignments with a stable code', () => {
    const clock = createManualClock(T0);
    const bad = [
      { messages: 0, periodMs: 1000, burst: 1 },
      { messages: 2.5, periodMs: 1000, burst: 1 },
      { messages: 5, periodMs: 0, burst: 1 },
      { messages: 5, periodMs: Number.NaN, burst: 1 },
      { messages: 5, periodMs: 1000, burst: 6 },
      { messages: 5, periodMs: 1000, burst: 0 },
    ];
    for (const options of bad) {
      expect(() => createRateLimiter({ ...options, clock })).toThrow(
        expect.objectContaining({ code: 'invalid_rate' }),
      );
    }
    const limiter = createRateLimiter({ messages: 5, periodMs: 1000, burst: 5, clock });
    for (const [partitions, total] of [
      [[6], 6],
      [[-1], 6],
      [[0.5], 6],
      [[0], 0],
    ] as const) {
      expect(() => limiter.assign(partitions, total)).toThrow(
        expect.objectContaining({ code: 'invalid_assignment' }),
      );
    }
  });
});
