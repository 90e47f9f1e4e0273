import type { Clock } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import { runRequests, scheduledStart } from './run.ts';
import type { Outcome } from './summary.ts';

/** Virtual time: sleeping moves the clock, so pacing is checked without waiting. */
function virtualClock(): Clock & { starts: number[] } {
  let now = 0;
  return {
    starts: [],
    now: () => now,
    sleep: async (ms) => {
      now += ms;
    },
  };
}

describe('scheduledStart', () => {
  it('spaces requests evenly at the rate, and not at all without one', () => {
    expect([1, 2, 3, 11].map((n) => scheduledStart(n, 10))).toEqual([0, 100, 200, 1000]);
    expect(scheduledStart(50, undefined)).toBe(0);
  });
});

describe('runRequests', () => {
  it('sends every number once and never more than `concurrency` at a time', async () => {
    let inFlight = 0;
    let most = 0;
    const seen: number[] = [];
    const send = async (n: number): Promise<Outcome> => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      seen.push(n);
      await new Promise((resolve) => setImmediate(resolve));
      inFlight -= 1;
      return { kind: 'response', status: 202, latencyMs: 1 };
    };
    const finished: number[] = [];
    const result = await runRequests({ count: 25, concurrency: 4, rate: undefined }, send, {
      clock: virtualClock(),
      onOutcome: (_, count) => finished.push(count),
    });
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
    expect(most).toBe(4);
    expect(result.outcomes).toHaveLength(25);
    expect(finished).toEqual(Array.from({ length: 25 }, (_, i) => i + 1));
  });

  it('starts no request before its slot when a rate is set', async () => {
    const clock = virtualClock();
    const startedAt = new Map<number, number>();
    const send = async (n: number): Promise<Outcome> => {
      startedAt.set(n, clock.now());
      return { kind: 'response', status: 202, latencyMs: 0 };
    };
    await runRequests({ count: 12, concurrency: 3, rate: 4 }, send, { clock });
    for (const [n, at] of startedAt) expect(at).toBeGreaterThanOrEqual(((n - 1) * 1000) / 4);
    expect(startedAt.size).toBe(12);
  });

  it('stops starting requests once aborted, keeping what finished', async () => {
    const stop = new AbortController();
    const send = async (n: number): Promise<Outcome> => {
      if (n === 3) stop.abort();
      return { kind: 'response', status: 202, latencyMs: 0 };
    };
    const result = await runRequests({ count: 100, concurrency: 1, rate: undefined }, send, {
      clock: virtualClock(),
      signal: stop.signal,
    });
    expect(result.outcomes).toHaveLength(3);
  });
});
