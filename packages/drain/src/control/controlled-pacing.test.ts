import type { Clock, ControlState, RateSetting } from '@kafka-throttle/common';
import { rateSwitchAt } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import {
  type AppliedControl,
  createControlledPacing,
  type Pacer,
  type Permit,
} from './controlled-pacing.ts';

const RATE_20: RateSetting = { messages: 20, periodMs: 1000, burst: 20 };
const RATE_5: RateSetting = { messages: 5, periodMs: 1000, burst: 5 };

/** A limiter that grants whenever told to, and remembers what it was made for. */
class FakeLimiter implements Pacer {
  assigned: (readonly number[])[] = [];
  answer: Permit = { granted: true };
  constructor(readonly rate: RateSetting) {}
  assign(partitions: readonly number[]): void {
    this.assigned.push(partitions);
  }
  tryAcquire(): Permit {
    return this.answer;
  }
  share(): number {
    return this.rate.messages;
  }
}

function setUp() {
  let now = 10_000_250;
  const clock: Clock = { now: () => now, sleep: async () => undefined };
  const limiters: FakeLimiter[] = [];
  const applied: [AppliedControl, string][] = [];
  const pacing = createControlledPacing({
    rate: RATE_20,
    clock,
    createLimiter(rate) {
      const limiter = new FakeLimiter(rate);
      limiters.push(limiter);
      return limiter;
    },
    onApplied: (state, what) => applied.push([state, what]),
  });
  pacing.assign([0, 1], 6);
  return {
    pacing,
    limiters,
    applied,
    at: (t: number) => {
      now = t;
    },
    now: () => now,
  };
}

function state(over: Partial<ControlState['desired']> = {}, holdUntil?: number): ControlState {
  return {
    desired: {
      paused: false,
      rate: RATE_20,
      version: 1,
      changedAt: 10_000_000,
      reason: 't',
      ...over,
    },
    hold:
      holdUntil === undefined
        ? undefined
        : { until: holdUntil, changedAt: 0, reason: 'r', by: 'w' },
    source: 'topic',
  };
}

describe('rateSwitchAt', () => {
  it('is the first multiple of the larger period at least one period after the change', () => {
    expect(rateSwitchAt(RATE_20, RATE_5, 10_000_250)).toBe(10_002_000);
    expect(rateSwitchAt(RATE_20, RATE_5, 10_000_000)).toBe(10_001_000);
    expect(rateSwitchAt(RATE_20, { ...RATE_5, periodMs: 5000 }, 10_000_250)).toBe(10_010_000);
  });
});

describe('controlled pacing', () => {
  it('grants nothing before the control topic was read, then paces with the limiter', () => {
    const { pacing } = setUp();
    expect(pacing.tryAcquire()).toEqual({ granted: false, nextAt: Number.POSITIVE_INFINITY });
    pacing.apply(state());
    expect(pacing.tryAcquire()).toEqual({ granted: true });
  });

  it('applies a first state with another rate at once: nothing was granted before it', () => {
    const { pacing, limiters } = setUp();
    pacing.apply(state({ rate: RATE_5 }));
    expect(limiters.map((l) => l.rate)).toEqual([RATE_20, RATE_5]);
    expect(limiters[1]?.assigned).toEqual([[0, 1]]);
  });

  it('grants nothing while paused and resumes with the same limiter and its history', () => {
    const { pacing, limiters, applied } = setUp();
    pacing.apply(state());
    pacing.apply(state({ paused: true, version: 2 }));
    expect(pacing.tryAcquire()).toEqual({ granted: false, nextAt: Number.POSITIVE_INFINITY });
    pacing.apply(state({ paused: false, version: 3 }));
    expect(pacing.tryAcquire()).toEqual({ granted: true });
    expect(limiters).toHaveLength(1);
    expect(applied.map(([a, what]) => [a.version, a.paused, what])).toEqual([
      [1, false, 'first state, version 1'],
      [2, true, 'version 2, paused'],
      [3, false, 'version 3, resumed'],
    ]);
  });

  it('holds until the group hold or its own hold ends, whichever is later', () => {
    const { pacing, at, now } = setUp();
    pacing.apply(state({}, now() + 3000));
    expect(pacing.tryAcquire()).toEqual({ granted: false, nextAt: now() + 3000 });
    pacing.holdUntil(now() + 4000);
    expect(pacing.tryAcquire()).toEqual({ granted: false, nextAt: now() + 4000 });
    at(now() + 4000);
    expect(pacing.tryAcquire()).toEqual({ granted: true });
  });

  it('switches a rate at the shared instant, to a fresh limiter given the assignment', () => {
    const { pacing, limiters, at } = setUp();
    pacing.apply(state());
    limiters[0]!.answer = { granted: false, nextAt: 10_005_000 };
    pacing.apply(state({ rate: RATE_5, version: 2, changedAt: 10_000_250 }));
    expect(pacing.applied().pending).toEqual({ rate: RATE_5, at: 10_002_000 });
    // Asked again at the switch, though the old limiter's next permit is later.
    expect(pacing.tryAcquire()).toEqual({ granted: false, nextAt: 10_002_000 });
    at(10_001_999);
    expect(limiters).toHaveLength(1);
    at(10_002_000);
    expect(pacing.tryAcquire()).toEqual({ granted: true });
    expect(limiters.map((l) => l.rate)).toEqual([RATE_20, RATE_5]);
    expect(limiters[1]?.assigned).toEqual([[0, 1]]);
    expect(pacing.applied()).toMatchObject({ rate: RATE_5, pending: undefined, version: 2 });
  });

  it('switches at once when the change is learnt after its instant, and cancels a switch changed back', () => {
    const { pacing, limiters, at } = setUp();
    pacing.apply(state());
    at(10_003_000);
    pacing.apply(state({ rate: RATE_5, version: 2, changedAt: 10_000_250 }));
    expect(limiters.map((l) => l.rate)).toEqual([RATE_20, RATE_5]);
    pacing.apply(state({ rate: RATE_20, version: 3, changedAt: 10_003_000 }));
    expect(pacing.applied().pending).toEqual({ rate: RATE_20, at: 10_004_000 });
    pacing.apply(state({ rate: RATE_5, version: 4, changedAt: 10_003_100 }));
    expect(pacing.applied().pending).toBeUndefined();
    at(10_006_000);
    pacing.tryAcquire();
    expect(limiters).toHaveLength(2);
  });

  it('switches at the instant even when it asked for nothing, so the next change starts from there', () => {
    const { pacing, limiters, at } = setUp();
    pacing.apply(state());
    pacing.apply(state({ rate: RATE_5, version: 2, changedAt: 10_000_250 }));
    // Paused or without work, this worker asks for no permit across the switch at 10_002_000.
    at(10_002_500);
    pacing.apply(state({ rate: RATE_20, version: 3, changedAt: 10_002_500 }));
    expect(limiters.map((l) => l.rate)).toEqual([RATE_20, RATE_5]);
    expect(pacing.applied()).toMatchObject({
      rate: RATE_5,
      pending: { rate: RATE_20, at: rateSwitchAt(RATE_5, RATE_20, 10_002_500) },
    });
  });

  it('keeps a shorter new period quiet until one old period has passed since the switch', () => {
    const { pacing, limiters, at } = setUp();
    const fast: RateSetting = { messages: 20, periodMs: 250, burst: 20 };
    pacing.apply(state());
    pacing.apply(state({ rate: fast, version: 2, changedAt: 10_000_250 }));
    at(10_002_000);
    expect(pacing.tryAcquire()).toEqual({ granted: false, nextAt: 10_002_750 });
    expect(limiters[1]?.assigned).toEqual([]);
    at(10_002_750);
    expect(pacing.tryAcquire()).toEqual({ granted: true });
    expect(limiters[1]?.assigned).toEqual([[0, 1]]);
  });

  it('paces a worker that starts while a change waits for its instant at the rate before it', () => {
    const { pacing, limiters } = setUp();
    const changedAt = 10_000_000;
    pacing.apply(
      state({ rate: RATE_5, version: 3, changedAt, previous: { rate: RATE_20, changedAt } }),
    );
    expect(limiters.map((l) => l.rate)).toEqual([RATE_20]);
    expect(pacing.applied().pending).toEqual({
      rate: RATE_5,
      at: rateSwitchAt(RATE_20, RATE_5, changedAt),
    });
  });

  it('keeps a worker that starts just after a switch to a shorter period quiet until the old period has passed', () => {
    const { pacing, at } = setUp();
    const fast: RateSetting = { messages: 20, periodMs: 250, burst: 20 };
    const changedAt = 10_000_000;
    const switchAt = rateSwitchAt(RATE_20, fast, changedAt);
    // The rest of the group spent 20 per 1000 ms until the switch; a window that began just
    // before it still has most of an old period to run.
    at(switchAt + 100);
    pacing.apply(
      state({ rate: fast, version: 3, changedAt, previous: { rate: RATE_20, changedAt } }),
    );
    expect(pacing.applied()).toMatchObject({ rate: fast, pending: undefined });
    expect(pacing.tryAcquire()).toEqual({ granted: false, nextAt: switchAt + 750 });
    at(switchAt + 750);
    expect(pacing.tryAcquire()).toEqual({ granted: true });
  });
});
