import { describe, expect, it } from 'vitest';
import { createManualClock, type ManualClock } from '../../../../test-support/manual-clock.ts';
import { createSeededRandom } from '../../../../test-support/seeded-random.ts';
import { busiestWindow, maxInWindow } from '../../../../test-support/window-check.ts';
import { type GroupSimulationResult, simulateGroup } from '../../test/pacing/group-simulation.ts';
import { randomScenario } from '../../test/pacing/random-scenario.ts';
import {
  createRateLimiter,
  type Permit,
  type RateLimiter,
  type RateLimiterOptions,
} from './rate-limiter.ts';
import { createSchedule } from './schedule.ts';

/** An ordinary wall-clock time, deliberately not aligned to any grid. */
const T0 = 1_764_000_000_123.25;
const HOUR = 3_600_000;
const ALL = [0, 1, 2, 3, 4, 5];
/** Times are epoch milliseconds near 1.8e12, where a double resolves about 0.25 µs. */
const EPS = 1e-3;

function limiterAt(start: number, options: Omit<RateLimiterOptions, 'clock'>) {
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
function takeAll(limiter: RateLimiter, clock: ManualClock, untilMs: number): number[] {
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

const countIn = (starts: readonly number[], from: number, to: number): number =>
  starts.filter((t) => t >= from && t < to).length;

/** Starts per period over [from, to), against N: 1 means exactly N per period. */
function achieved(
  starts: readonly number[],
  from: number,
  to: number,
  options: { messages: number; periodMs: number },
): number {
  return countIn(starts, from, to) / ((options.messages * (to - from)) / options.periodMs);
}

interface GroupRun {
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

function runGroup(
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

describe('createRateLimiter: shares of a group', () => {
  it('50 per second over 3 workers with 2 partitions each: at least 95% together, never more', () => {
    const run = runGroup({
      messages: 50,
      periodMs: 1000,
      burst: 50,
      split: [
        [0, 3],
        [1, 4],
        [2, 5],
      ],
      hours: 1,
      latenessMs: 5,
      deliveryMs: 10,
    });
    expect(maxInWindow(run.starts, 1000)).toBeLessThanOrEqual(50);
    expect(run.ratio).toBeGreaterThanOrEqual(0.95);
    // Each worker gets its third of the rate over the rotation cycle, fractional as it is.
    for (const starts of run.startsByWorker) {
      const share = achieved(starts, run.from, run.to, { messages: 50 / 3, periodMs: 1000 });
      expect(share).toBeGreaterThan(0.95);
      expect(share).toBeLessThan(1.01);
    }
  });

  it('5 per 5 s over 3 workers: at least 95% together, never more, each about a third', () => {
    const run = runGroup({
      messages: 5,
      periodMs: 5000,
      burst: 5,
      split: [
        [0, 1],
        [2, 3],
        [4, 5],
      ],
      hours: 4,
      latenessMs: 25,
      deliveryMs: 200,
    });
    expect(maxInWindow(run.starts, 5000)).toBeLessThanOrEqual(5);
    expect(run.ratio).toBeGreaterThanOrEqual(0.95);
    for (const starts of run.startsByWorker) {
      const share = achieved(starts, run.from, run.to, { messages: 5 / 3, periodMs: 5000 });
      expect(share).toBeGreaterThan(0.9);
      expect(share).toBeLessThan(1.05);
    }
  });

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
    }
    // Most rounds promise starts: the check above is not vacuous.
    expect(promised).toBeGreaterThan(10_000);
  });
});

describe('createRateLimiter: randomized groups (property)', () => {
  // 150 seeds in batches of 25: one test would hold vitest's worker for minutes on a loaded
  // machine, long enough for its progress reports to time out.
  const batches = [1, 26, 51, 76, 101, 126].map((first) => ({ first, last: first + 24 }));

  it.each(batches)(
    'never more than N starts in any window of one period, whatever the group does (seeds $first-$last)',
    ({ first, last }) => {
      for (let seed = first; seed <= last; seed += 1) {
        const scenario = randomScenario(seed, 'chaos');
        const result = simulateGroup(scenario.simulation);
        const { messages, periodMs } = scenario.simulation;
        const busiest = busiestWindow(result.starts, periodMs);
        expect(busiest.count, scenario.describe()).toBeLessThanOrEqual(messages);
        // The same check by sliding: N + 1 consecutive starts span at least a period.
        for (let i = 0; i + messages < result.starts.length; i += 1) {
          if (result.starts[i + messages]! - result.starts[i]! < periodMs) {
            expect.fail(`${scenario.describe()}: starts ${i}..${i + messages} within a period`);
          }
        }
        expect(result.refusedAtNextAt, scenario.describe()).toBe(0);
      }
    },
  );

  it.each(batches)(
    'at least 95% of N per period with a backlog and workers at most ε late (seeds $first-$last)',
    ({ first, last }) => {
      for (let seed = first; seed <= last; seed += 1) {
        const scenario = randomScenario(seed, 'steady');
        const result = simulateGroup(scenario.simulation);
        const { messages, periodMs } = scenario.simulation;
        expect(
          busiestWindow(result.starts, periodMs).count,
          scenario.describe(),
        ).toBeLessThanOrEqual(messages);
        const ratio = achieved(result.starts, scenario.measureFrom, scenario.measureUntil, {
          messages,
          periodMs,
        });
        expect(ratio, scenario.describe()).toBeGreaterThanOrEqual(0.95);
        expect(result.refusedAtNextAt, scenario.describe()).toBe(0);
      }
    },
  );

  it('the same property check catches a limiter that breaks the promise', () => {
    // Independent sliding windows holding ceil(share) each: what the design rules out.
    const naive = (options: RateLimiterOptions): RateLimiter => {
      const log: number[] = [];
      let capacity = 0;
      return {
        assign(partitions, total) {
          capacity = Math.ceil((options.messages * new Set(partitions).size) / total);
        },
        tryAcquire() {
          const now = options.clock.now();
          while (log.length > 0 && now - log[0]! >= options.periodMs) log.shift();
          if (log.length < capacity) {
            log.push(now);
            return { granted: true };
          }
          return {
            granted: false,
            nextAt: capacity === 0 ? Number.POSITIVE_INFINITY : log[0]! + options.periodMs,
          };
        },
        share: () => capacity,
      };
    };
    let caught = 0;
    for (let seed = 1; seed <= 40; seed += 1) {
      const scenario = randomScenario(seed, 'chaos');
      const result = simulateGroup({ ...scenario.simulation, createLimiter: naive });
      const { messages, periodMs } = scenario.simulation;
      if (busiestWindow(result.starts, periodMs).count > messages) caught += 1;
    }
    expect(caught).toBeGreaterThan(10);
  });
});
