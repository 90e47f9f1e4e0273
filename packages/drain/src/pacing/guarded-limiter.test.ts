import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig, type RateSetting } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../../test-support/manual-clock.ts';
import { guardedLimiters } from './guarded-limiter.ts';
import { createRateLimiter, type RateLimiter } from './rate-limiter.ts';

const T0 = 1_764_000_000_123.25;
const emptyConfigDir = mkdtempSync(join(tmpdir(), 'kt-guard-'));

/** The rate section of a worker started with these variables (and no config file). */
function startedWith(env: Record<string, string>) {
  return loadConfig({ configDir: emptyConfigDir, env }).rate;
}

/** The first `count` grant times of a limiter owning every partition, asked right at nextAt. */
function grants(make: (clock: ReturnType<typeof createManualClock>) => RateLimiter, count = 40) {
  const clock = createManualClock(T0);
  const limiter = make(clock);
  limiter.assign([0], 1);
  const times: number[] = [];
  while (times.length < count) {
    const permit = limiter.tryAcquire();
    if (permit.granted) times.push(clock.now());
    else clock.set(permit.nextAt);
  }
  return times;
}

/** Grants of the limiter a worker started with `env` makes for a rate the group switches to. */
function switchedTo(env: Record<string, string>, rate: RateSetting): number[] {
  return grants((clock) => guardedLimiters(startedWith(env), clock)(rate));
}

const oneEvery = (periodMs: number): RateSetting => ({ messages: 1, periodMs, burst: 1 });

describe('guardedLimiters', () => {
  it('paces a rate switched to at run time as a worker started with that rate would', () => {
    // Default guard: 10 ms at 5 s, 2 ms (2%) at 100 ms; a change must not keep the old one.
    expect(switchedTo({ RATE_PERIOD: '5s' }, oneEvery(100))).toEqual(
      switchedTo({ RATE_PERIOD: '100ms' }, oneEvery(100)),
    );
    expect(switchedTo({ RATE_PERIOD: '100ms' }, oneEvery(5000))).toEqual(
      switchedTo({ RATE_PERIOD: '5s' }, oneEvery(5000)),
    );
    const fast = switchedTo({ RATE_PERIOD: '5s' }, oneEvery(100));
    const gaps = fast.slice(1).map((t, i) => t - fast[i]!);
    // The guard still spaces the starts, and costs what the default rule says (2%), not 10%.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(102);
    expect((fast.at(-1)! - fast[0]!) / gaps.length).toBeLessThan(105);
  });

  it('keeps a configured rate.margin for a new period, and halves a period not longer than it', () => {
    const margin = { RATE_PERIOD: '5s', RATE_MARGIN: '30ms' };
    expect(switchedTo(margin, oneEvery(1000))).toEqual(
      switchedTo({ RATE_PERIOD: '1s', RATE_MARGIN: '30ms' }, oneEvery(1000)),
    );
    expect(switchedTo(margin, oneEvery(40))).toEqual(
      grants((clock) => createRateLimiter({ messages: 1, periodMs: 40 + 30, burst: 1, clock })),
    );
    // A worker could not start with a 30 ms margin and a 25 ms period; a change cannot be refused.
    expect(switchedTo(margin, oneEvery(25))).toEqual(
      grants((clock) => createRateLimiter({ messages: 1, periodMs: 25 + 12.5, burst: 1, clock })),
    );
  });
});
