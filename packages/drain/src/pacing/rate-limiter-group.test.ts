import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../../../test-support/seeded-random.ts';
import { maxInWindow } from '../../../../test-support/window-check.ts';
import {
  ALL,
  achieved,
  countIn,
  EPS,
  limiterAt,
  runGroup,
  T0,
  takeAll,
} from '../../test/pacing/limiter-harness.ts';
import { createSchedule } from './schedule.ts';

describe('createRateLimiter: shares of a group', () => {
  // Each worker gets its third of the rate over the rotation cycle, fractional as it is.
  it.each([
    {
      messages: 50,
      periodMs: 1000,
      split: [
        [0, 3],
        [1, 4],
        [2, 5],
      ],
      hours: 1,
      latenessMs: 5,
      deliveryMs: 10,
      share: [0.95, 1.01],
    },
    {
      messages: 5,
      periodMs: 5000,
      split: [
        [0, 1],
        [2, 3],
        [4, 5],
      ],
      hours: 4,
      latenessMs: 25,
      deliveryMs: 200,
      share: [0.9, 1.05],
    },
  ])(
    '$messages per $periodMs ms over 3 workers: at least 95% together, never more, each about a third',
    ({ messages, periodMs, split, hours, latenessMs, deliveryMs, share: [low, high] }) => {
      const run = runGroup({
        messages,
        periodMs,
        burst: messages,
        split,
        hours,
        latenessMs,
        deliveryMs,
      });
      expect(maxInWindow(run.starts, periodMs)).toBeLessThanOrEqual(messages);
      expect(run.ratio).toBeGreaterThanOrEqual(0.95);
      for (const starts of run.startsByWorker) {
        const share = achieved(starts, run.from, run.to, { messages: messages / 3, periodMs });
        expect(share).toBeGreaterThan(low as number);
        expect(share).toBeLessThan(high as number);
      }
    },
  );

  it('the same rates with burst 1 and workers up to ε late', () => {
    for (const [messages, periodMs] of [
      [50, 1000],
      [5, 5000],
    ] as const) {
      const run = runGroup({
        messages,
        periodMs,
        burst: 1,
        split: [
          [0, 1],
          [2, 3],
          [4, 5],
        ],
        hours: 2,
        latenessMs: Math.max(5, periodMs * 0.005),
        deliveryMs: 10,
      });
      expect(maxInWindow(run.starts, periodMs)).toBeLessThanOrEqual(messages);
      expect(run.ratio).toBeGreaterThanOrEqual(0.95);
    }
  });
});

describe('createRateLimiter: burst 1 across a group', () => {
  it('spaces the whole group evenly, also when some lanes rotate between workers', () => {
    // 10 lanes on 4 partitions: 8 fixed, 2 rotating between the two workers.
    for (const [messages, periodMs] of [
      [10, 1000],
      [7, 5000],
    ] as const) {
      const run = runGroup({
        messages,
        periodMs,
        burst: 1,
        split: [
          [0, 1],
          [2, 3],
        ],
        hours: 1,
        latenessMs: 0,
        deliveryMs: 1,
      });
      const { groupSpacingMs } = createSchedule({ messages, periodMs, burst: 1 });
      const steady = run.starts.filter((t) => t >= run.from);
      // Never two starts within half a spacing anywhere in the hour: one lane's slots never
      // meet another's, whichever worker holds them.
      expect(maxInWindow(steady, groupSpacingMs / 2), `${messages} per ${periodMs} ms`).toBe(1);
      expect(run.ratio).toBeGreaterThanOrEqual(0.95);
    }
  });
});

describe('createRateLimiter: rebalances', () => {
  // Six lanes on six partitions, all opening together: one start per partition per period.
  const options = { messages: 6, periodMs: 1000, burst: 6 };

  it('a grown share is not spent before one grid period after the assignment', () => {
    const { clock, limiter, schedule } = limiterAt(T0, options);
    const { slotPeriodMs } = schedule;
    limiter.assign([0], 6);
    const before = takeAll(limiter, clock, T0 + 10 * slotPeriodMs + 300);
    expect(before.length).toBeGreaterThanOrEqual(8);
    const t1 = clock.now();
    limiter.assign([0, 1, 2], 6);
    const after = takeAll(limiter, clock, t1 + 4 * slotPeriodMs);
    // Until one grid period has passed only partition 0's lane: one start.
    expect(countIn(after, t1, t1 + slotPeriodMs)).toBe(1);
    // Then the two new lanes pay at once and the share is three per period.
    expect(countIn(after, t1 + slotPeriodMs, t1 + slotPeriodMs + EPS)).toBe(2);
    const grown = after.filter((t) => t >= t1 + slotPeriodMs);
    expect(maxInWindow(grown, 1000)).toBe(3);
    expect(grown.length).toBeGreaterThanOrEqual(9);
  });

  it('the grown share of 50 per second: the old share until a period has passed, then the new', () => {
    const { clock, limiter, schedule } = limiterAt(T0, { messages: 50, periodMs: 1000, burst: 50 });
    const { slotPeriodMs } = schedule;
    limiter.assign([0, 1], 6);
    takeAll(limiter, clock, T0 + 20 * slotPeriodMs + 500);
    const t1 = clock.now();
    limiter.assign([0, 1, 2, 3], 6);
    const after = takeAll(limiter, clock, t1 + 5 * slotPeriodMs);
    // Partitions 0 and 1 hold 16 fixed lanes and, in some epochs, the 2 rotating ones.
    expect(countIn(after, t1, t1 + slotPeriodMs)).toBeLessThanOrEqual(18);
    expect(countIn(after, t1 + slotPeriodMs, t1 + 4 * slotPeriodMs)).toBeGreaterThanOrEqual(3 * 32);
  });

  it('a shrunk share applies at once', () => {
    const { clock, limiter, schedule } = limiterAt(T0, options);
    const { slotPeriodMs } = schedule;
    limiter.assign(ALL, 6);
    const before = takeAll(limiter, clock, T0 + 10 * slotPeriodMs);
    expect(countIn(before, T0 + 5 * slotPeriodMs, T0 + 8 * slotPeriodMs)).toBe(18);
    // Just before the next opening of the grid, five partitions go.
    const open = (Math.floor(clock.now() / slotPeriodMs) + 1) * slotPeriodMs;
    clock.set(open - 1);
    limiter.assign([4], 6);
    const after = takeAll(limiter, clock, open + 3 * slotPeriodMs - 1);
    expect(after).toHaveLength(3);
    expect(limiter.share()).toBe(1);
  });

  it('kept partitions keep their pace; a new partition count makes every partition new', () => {
    const { clock, limiter, schedule } = limiterAt(T0, options);
    const { slotPeriodMs } = schedule;
    limiter.assign([0, 1, 2], 6);
    takeAll(limiter, clock, T0 + 5 * slotPeriodMs + 200);
    let t1 = clock.now();
    limiter.assign([1, 2, 3], 6);
    let after = takeAll(limiter, clock, t1 + slotPeriodMs - 1);
    expect(after).toHaveLength(2);

    t1 = clock.now();
    limiter.assign([0, 1, 2], 3);
    after = takeAll(limiter, clock, t1 + slotPeriodMs - 1);
    expect(after).toHaveLength(0);

    // Losing everything (assign([])) also forgets: the same partitions are new again.
    takeAll(limiter, clock, t1 + 3 * slotPeriodMs);
    t1 = clock.now();
    limiter.assign([], 3);
    limiter.assign([0, 1, 2], 3);
    expect(takeAll(limiter, clock, t1 + slotPeriodMs - 1)).toHaveLength(0);
  });

  it('sleeping until nextAt always gets the permit, across random rates and reassignments', () => {
    const rng = createSeededRandom(4242);
    let promised = 0;
    for (let round = 0; round < 60; round += 1) {
      const messages = rng.int(1, 300);
      const periodMs = Math.round(10 * 1000 ** rng.next());
      const burst = rng.chance(0.5) ? messages : rng.int(1, messages);
      const total = rng.int(1, 12);
      const { clock, limiter, schedule } = limiterAt(T0 + rng.next() * 1e9, {
        messages,
        periodMs,
        burst,
      });
      for (let change = 0; change < 5; change += 1) {
        const partitions = Array.from({ length: total }, (_, p) => p).filter(() => rng.chance(0.6));
        limiter.assign(partitions, total);
        const spanMs = rng.between(1, 30) * periodMs;
        // takeAll fails if a permit is missing at the nextAt it was promised.
        const starts = takeAll(limiter, clock, clock.now() + spanMs);
        // And the permits come: each owned partition holds floor(N / P) lanes of its own, each
        // good for one start per grid period once the partition pays (one grid period after
        // this assignment at the latest), give or take the periods cut at either end.
        const ownLanes = Math.floor(messages / total) * partitions.length;
        const due = ownLanes * Math.max(0, Math.floor(spanMs / schedule.slotPeriodMs) - 2);
        expect(starts.length, `round ${round}, change ${change}`).toBeGreaterThanOrEqual(due);
        promised += due;
      }
      // Left alone with every partition (its peers gone), the worker spends every lane, the
      // rotating ones too, once its new partitions have paid: whatever came before.
      limiter.assign(
        Array.from({ length: total }, (_, p) => p),
        total,
      );
      const alone = takeAll(limiter, clock, clock.now() + 12 * schedule.slotPeriodMs);
      expect(alone.length, `round ${round}, alone`).toBeGreaterThanOrEqual(messages * 9);
    }
    // Most rounds promise starts: the check above is not vacuous.
    expect(promised).toBeGreaterThan(10_000);
  });
});
