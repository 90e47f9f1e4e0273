import { expect } from 'vitest';
import { createManualClock, type ManualClock } from '../../../../test-support/manual-clock.ts';
import { createSeededRandom } from '../../../../test-support/seeded-random.ts';
import {
  createRateLimiter,
  type Permit,
  type RateLimiter,
  type RateLimiterOptions,
} from '../../src/pacing/rate-limiter.ts';
import { createSchedule } from '../../src/pacing/schedule.ts';
import { type GroupSimulationResult, simulateGroup } from './group-simulation.ts';

// What the limiter's unit tests share: one limiter on a manual clock taking every permit it
// is given, and a group of them in the seeded simulation.

/** An ordinary wall-clock time, deliberately not aligned to any grid. */
export const T0 = 1_764_000_000_123.25;
export const HOUR = 3_600_000;
export const ALL = [0, 1, 2, 3, 4, 5];
/** Times are epoch milliseconds near 1.8e12, where a double resolves about 0.25 µs. */
export const EPS = 1e-3;

export function limiterAt(start: number, options: Omit<RateLimiterOptions, 'clock'>) {
  const clock = createManualClock(start);
  return {
    clock,
    limiter: createRateLimiter({ ...options, clock }),
    schedule: createSchedule(options),
  };
}

/**
 * One worker that starts as many deliveries as it is allowed, and otherwise sleeps exactly
 * until nextAt, up to `untilMs`. Checks on the way that sleeping until nextAt is always enough.
 */
export function takeAll(limiter: RateLimiter, clock: ManualClock, untilMs: number): number[] {
  const starts: number[] = [];
  let promised = false;
  for (;;) {
    const permit: Permit = limiter.tryAcquire();
    if (permit.granted) {
      starts.push(clock.now());
      promised = false;
      continue;
    }
    // Plain checks: this loop runs hundreds of thousands of times per test.
    if (promised) expect.fail(`no permit at the promised ${clock.now()}`);
    if (permit.nextAt > untilMs) {
      clock.set(untilMs);
      return starts;
    }
    if (!(permit.nextAt > clock.now())) expect.fail(`nextAt ${permit.nextAt} is not ahead`);
    clock.set(permit.nextAt);
    promised = true;
  }
}

export const countIn = (starts: readonly number[], from: number, to: number): number =>
  starts.filter((t) => t >= from && t < to).length;

/** Starts per period over [from, to), against N: 1 means exactly N per period. */
export function achieved(
  starts: readonly number[],
  from: number,
  to: number,
  options: { messages: number; periodMs: number },
): number {
  return countIn(starts, from, to) / ((options.messages * (to - from)) / options.periodMs);
}

export interface GroupRun {
  messages: number;
  periodMs: number;
  burst: number;
  split: number[][];
  hours: number;
  /** Each timer wakes a worker up to this late (uniformly). */
  latenessMs: number;
  /** Each delivery keeps its partition busy up to this long (uniformly). */
  deliveryMs: number;
}

export function runGroup(
  run: GroupRun,
  seed = 1,
): GroupSimulationResult & { from: number; to: number; ratio: number } {
  const rng = createSeededRandom(seed);
  const totalPartitions = run.split.flat().length;
  const untilMs = T0 + run.hours * HOUR;
  const result = simulateGroup({
    messages: run.messages,
    periodMs: run.periodMs,
    burst: run.burst,
    totalPartitions,
    workers: run.split.map(() => ({
      skewMs: 0,
      latenessMs: () => rng.between(0, run.latenessMs),
      deliveryMs: () => rng.between(0, run.deliveryMs),
    })),
    generations: [
      {
        revokeAt: T0,
        members: run.split.map((partitions, worker) => ({ worker, partitions, assignAt: T0 })),
      },
    ],
    untilMs,
  });
  // Measure once every worker pays (one grid period after joining), in whole periods.
  const { slotPeriodMs } = createSchedule(run);
  const from = T0 + 2 * slotPeriodMs;
  const to = from + Math.floor((untilMs - from) / run.periodMs) * run.periodMs;
  return { ...result, from, to, ratio: achieved(result.starts, from, to, run) };
}
