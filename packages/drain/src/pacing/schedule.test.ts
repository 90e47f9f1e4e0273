import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../../../test-support/seeded-random.ts';
import { createSchedule } from './schedule.ts';

describe('createSchedule', () => {
  it('adds a margin of 5 ms or 0.5% of the period, at most 2% and never more than 1 s', () => {
    const margin = (periodMs: number) => createSchedule({ messages: 1, periodMs, burst: 1 });
    expect(margin(10).marginMs).toBeCloseTo(0.2, 12);
    expect(margin(250).marginMs).toBe(5);
    expect(margin(1000).marginMs).toBe(5);
    expect(margin(5000).marginMs).toBe(25);
    expect(margin(60_000).marginMs).toBe(300);
    expect(margin(3_600_000).marginMs).toBe(1000);
    const second = margin(1000);
    expect(second.slotPeriodMs).toBe(1005);
    expect(second.gapMarginMs + second.recoveryMs).toBe(second.marginMs);
  });

  it('lets a slot be used late by up to 100 ms (half a grid period at most), longer for a burst', () => {
    expect(createSchedule({ messages: 20, periodMs: 1000, burst: 1 }).useWindowMs).toBe(100);
    expect(createSchedule({ messages: 20, periodMs: 1000, burst: 20 }).useWindowMs).toBe(1005);
    expect(createSchedule({ messages: 5, periodMs: 5000, burst: 1 }).useWindowMs).toBe(1005);
    expect(createSchedule({ messages: 100, periodMs: 20, burst: 1 }).useWindowMs).toBeCloseTo(
      10.2,
      9,
    );
  });

  it('sizes epochs so the slot skipped at a hand-over costs at most 0.25% of a lane', () => {
    for (const periodMs of [10, 250, 1000, 5000, 60_000, 3_600_000]) {
      const s = createSchedule({ messages: 7, periodMs, burst: 7 });
      expect(1 / s.epochPeriods).toBeLessThanOrEqual(0.0025 + 1e-12);
      // A lane used at the end of its use window, then skipped one slot by its next owner,
      // still leaves period + δ to that owner's first use.
      expect(2 * s.slotPeriodMs - s.useWindowMs).toBeGreaterThanOrEqual(
        periodMs + s.gapMarginMs - 1e-9,
      );
    }
  });

  it("groups slots by burst: lanes of one group open together, groups burst·p'/N apart", () => {
    const s = createSchedule({ messages: 10, periodMs: 1000, burst: 4 });
    const opens = Array.from(
      { length: 10 },
      (_, lane) => s.grid.slotStart(7, lane) - s.grid.slotStart(7, 0),
    );
    expect(opens).toEqual([0, 0, 0, 0, 402, 402, 402, 402, 804, 804]);
  });

  it('is a steady grid, across epoch boundaries too', () => {
    const s = createSchedule({ messages: 20, periodMs: 1000, burst: 20 });
    const k = 1_700_000 * s.epochPeriods;
    expect(s.grid.slotStart(k + 1, 3) - s.grid.slotStart(k, 3)).toBeCloseTo(1005, 6);
    expect(s.grid.slotStart(k, 3) - s.grid.slotStart(k - 1, 3)).toBeCloseTo(1005, 6);
  });

  it('finds the slot holding any time, in agreement with slotStart', () => {
    const rng = createSeededRandom(99);
    for (let round = 0; round < 2000; round += 1) {
      const messages = rng.int(1, 300);
      const s = createSchedule({
        messages,
        periodMs: Math.round(10 * 1000 ** rng.next()),
        burst: rng.int(1, messages),
      });
      const lane = rng.int(0, messages - 1);
      const t = 1.7e12 + rng.next() * 1e10;
      const slot = s.grid.slotAt(lane, t);
      expect(s.grid.slotStart(slot, lane)).toBeLessThanOrEqual(t);
      expect(s.grid.slotStart(slot + 1, lane)).toBeGreaterThan(t);
      expect(s.grid.slotAt(lane, s.grid.slotStart(slot, lane))).toBe(slot);
    }
  });

  it('refuses a rate that cannot be paced', () => {
    for (const options of [
      { messages: 0, periodMs: 1000, burst: 1 },
      { messages: 3, periodMs: -1, burst: 1 },
      { messages: 3, periodMs: 1000, burst: 4 },
    ]) {
      expect(() => createSchedule(options)).toThrow(
        expect.objectContaining({ code: 'invalid_rate' }),
      );
    }
  });
});
