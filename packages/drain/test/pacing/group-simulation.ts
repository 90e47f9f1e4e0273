import { type Config, type ControlState, configuredState, rateGuard } from '@kafka-throttle/common';
import { createManualClock, offsetClock } from '../../../../test-support/manual-clock.ts';
import {
  type AppliedControl,
  type ControlledPacing,
  createControlledPacing,
} from '../../src/control/controlled-pacing.ts';
import { guardedLimiters } from '../../src/pacing/guarded-limiter.ts';
import {
  createRateLimiter,
  type RateLimiter,
  type RateLimiterOptions,
} from '../../src/pacing/rate-limiter.ts';
import { createEventQueue } from './event-queue.ts';

/** How one simulated worker process behaves. */
export interface SimulatedWorker {
  /** How far this worker's clock is ahead of true time (NTP skew between hosts). */
  skewMs: number;
  /** How late a timer wakes the worker to ask (at nextAt, at the end of an idle spell). */
  latenessMs(): number;
  /** How long one delivery keeps its partition busy (one in flight per partition). */
  deliveryMs(): number;
}

/** One consumer-group generation (eager protocol). */
export interface SimulatedGeneration {
  /** True time at which every member of the previous generation stops starting deliveries. */
  revokeAt: number;
  /** Whether members also call assign([], total) when revoked, forgetting what they held. */
  forgetOnRevoke?: boolean;
  /**
   * The members and what each learns, at `assignAt` (>= every revokeAt of this generation).
   * A worker that was not a member of the previous generation (or crashed) is a new process.
   */
  members: Array<{ worker: number; partitions: number[]; assignAt: number; crashAt?: number }>;
}

export interface GroupSimulationOptions {
  messages: number;
  periodMs: number;
  burst: number;
  totalPartitions: number;
  workers: SimulatedWorker[];
  /** Ordered by revokeAt. */
  generations: SimulatedGeneration[];
  /** True-time intervals [from, to) in which no worker has anything to deliver. */
  idle?: ReadonlyArray<readonly [number, number]>;
  untilMs: number;
  /** The limiter each worker process runs; createRateLimiter unless a test swaps it. */
  createLimiter?: (options: RateLimiterOptions) => RateLimiter;
  /**
   * The control topic, if any: then each worker process runs drain's controlled pacing (over
   * guarded limiters, as a worker does) and applies the records as its follower reads them.
   */
  control?: SimulatedControl;
}

/** A control topic and how each worker's follower reads it. */
export interface SimulatedControl {
  /** The group's control state after each write, in write order (true write times). */
  records: ReadonlyArray<{ at: number; state: ControlState }>;
  /**
   * True time at which worker `worker`'s follower has read record `index` (in order, so not
   * before it read the previous one). A process that starts later reads every record written
   * before it started, before its first attempt.
   */
  seenAt(worker: number, index: number): number;
}

/** A change a worker process applied, as drain logs it. */
export interface AppliedEntry {
  worker: number;
  /** The worker's process, counting from 1 (a restart is a new process). */
  process: number;
  trueTime: number;
  /** The time on the worker's (skewed) clock. */
  workerTime: number;
  what: string;
  applied: AppliedControl;
}

export interface GroupSimulationResult {
  /** True times of every start the limiters allowed, across the group, sorted. */
  starts: number[];
  /** The same, per worker. */
  startsByWorker: number[][];
  /** Asks right at a nextAt the limiter gave (no assign since) that were refused. */
  refusedAtNextAt: number;
  /** Every limiter the simulation created (one per worker process), in order of creation. */
  limiters: RateLimiter[];
  /** With `control`: every change applied, by every worker process, in time order. */
  applied: AppliedEntry[];
}

/** An ask this close after nextAt counts as on time (float rounding of skewed clocks). */
const ON_TIME_MS = 1e-6;

interface WorkerState {
  spec: SimulatedWorker;
  limiter: Pick<RateLimiter, 'assign' | 'tryAcquire'> | undefined;
  pacing: ControlledPacing | undefined;
  /** The last control record this process applied (-1: none). */
  record: number;
  process: number;
  active: boolean;
  parallel: number;
  inFlight: number;
  wakeToken: number;
  promised: number | undefined;
}

/**
 * Runs a consumer group's limiters on one simulated clock: each worker asks for permits as a
 * drain worker would (one delivery in flight per partition, asking again at nextAt), while
 * members come and go, crash, get late and run out of work. Pure and deterministic: the
 * scenario (built from a seeded PRNG by the caller) decides everything.
 */
export function simulateGroup(options: GroupSimulationOptions): GroupSimulationResult {
  const first = options.generations[0];
  if (first === undefined) throw new RangeError('a simulation needs at least one generation');
  const truth = createManualClock(first.revokeAt);
  const events = createEventQueue();
  const idle = options.idle ?? [];
  const startsByWorker: number[][] = options.workers.map(() => []);
  const limiters: RateLimiter[] = [];
  const applied: AppliedEntry[] = [];
  const control = options.control;
  let refusedAtNextAt = 0;

  const workers: WorkerState[] = options.workers.map((spec) => ({
    spec,
    limiter: undefined,
    pacing: undefined,
    record: -1,
    process: 0,
    active: false,
    parallel: 0,
    inFlight: 0,
    wakeToken: 0,
    promised: undefined,
  }));

  function idleUntil(t: number): number | undefined {
    for (const [from, to] of idle) if (t >= from && t < to) return to;
    return undefined;
  }

  function wakeAt(index: number, at: number): void {
    const worker = workers[index]!;
    worker.wakeToken += 1;
    const token = worker.wakeToken;
    events.add(Math.max(at, truth.now()), () => {
      if (worker.wakeToken === token) ask(index);
    });
  }

  /** The first true time at which this worker's clock shows at least `workerTime`. */
  function trueTimeOf(worker: WorkerState, workerTime: number): number {
    let t = workerTime - worker.spec.skewMs;
    while (t + worker.spec.skewMs < workerTime) t += Math.max(Math.abs(t) * Number.EPSILON, 1e-9);
    return t;
  }

  function ask(index: number): void {
    const worker = workers[index]!;
    const limiter = worker.limiter;
    if (!worker.active || limiter === undefined) return;
    const busyUntil = idleUntil(truth.now());
    if (busyUntil !== undefined) {
      wakeAt(index, busyUntil + worker.spec.latenessMs());
      return;
    }
    while (worker.inFlight < worker.parallel) {
      const askedAt = truth.now() + worker.spec.skewMs;
      const permit = limiter.tryAcquire();
      if (permit.granted) {
        startsByWorker[index]!.push(truth.now());
        worker.inFlight += 1;
        worker.promised = undefined;
        const process = worker.process;
        events.add(truth.now() + worker.spec.deliveryMs(), () => {
          if (worker.process !== process) return;
          worker.inFlight -= 1;
          // The end of a delivery is an event, not a timer: the worker asks again at once.
          wakeAt(index, truth.now());
        });
        continue;
      }
      // Only an ask right on time says anything about nextAt: a late one may have missed a slot.
      if (worker.promised !== undefined && askedAt >= worker.promised) {
        if (askedAt - worker.promised <= ON_TIME_MS) refusedAtNextAt += 1;
      }
      worker.promised = permit.nextAt;
      if (Number.isFinite(permit.nextAt)) {
        wakeAt(index, trueTimeOf(worker, permit.nextAt) + worker.spec.latenessMs());
      }
      return;
    }
  }

  function stop(index: number): void {
    const worker = workers[index]!;
    worker.active = false;
    worker.wakeToken += 1;
  }

  function gone(index: number): void {
    const worker = workers[index]!;
    stop(index);
    worker.limiter = undefined;
    worker.pacing = undefined;
    worker.process += 1;
    worker.inFlight = 0;
  }

  /** A new worker process: it reads the control topic as written so far before any attempt. */
  function startControlled(index: number): ControlledPacing {
    const worker = workers[index]!;
    const clock = offsetClock(truth, worker.spec.skewMs);
    const process = worker.process;
    const limiterFor = guardedLimiters(configuredRate(options), clock);
    const pacing = createControlledPacing({
      rate: { messages: options.messages, periodMs: options.periodMs, burst: options.burst },
      createLimiter: (rate) => {
        const limiter = limiterFor(rate);
        limiters.push(limiter);
        return limiter;
      },
      clock,
      onApplied: (state, what) =>
        applied.push({
          worker: index,
          process,
          trueTime: truth.now(),
          workerTime: clock.now(),
          what,
          applied: state,
        }),
    });
    const records = control?.records ?? [];
    let latest = -1;
    while (latest + 1 < records.length && records[latest + 1]!.at <= truth.now()) latest += 1;
    pacing.apply(
      latest >= 0 ? records[latest]!.state : configuredState({ rate: configuredRate(options) }),
    );
    worker.record = latest;
    return pacing;
  }

  if (control) {
    workers.forEach((worker, index) => {
      control.records.forEach((record, k) => {
        events.add(control.seenAt(index, k), () => {
          if (worker.pacing === undefined || worker.record >= k) return;
          worker.record = k;
          worker.pacing.apply(record.state);
          // The worker wakes its dispatcher on every change, as drain does.
          if (worker.active) wakeAt(index, truth.now() + worker.spec.latenessMs());
        });
      });
    });
  }

  options.generations.forEach((generation, g) => {
    const previous = new Set(options.generations[g - 1]?.members.map((m) => m.worker) ?? []);
    events.add(generation.revokeAt, () => {
      workers.forEach((worker, index) => {
        stop(index);
        if (generation.forgetOnRevoke) worker.limiter?.assign([], options.totalPartitions);
        const stays = generation.members.some((m) => m.worker === index);
        if (!stays || !previous.has(index)) gone(index);
      });
    });
    for (const member of generation.members) {
      if (member.assignAt < generation.revokeAt) {
        throw new RangeError('an assignment cannot come before the revocation of its generation');
      }
      events.add(member.assignAt, () => {
        const worker = workers[member.worker]!;
        if (worker.limiter === undefined) {
          worker.process += 1;
          worker.inFlight = 0;
          if (control) {
            worker.pacing = startControlled(member.worker);
            worker.limiter = worker.pacing;
          } else {
            const limiter = (options.createLimiter ?? createRateLimiter)({
              messages: options.messages,
              periodMs: options.periodMs,
              burst: options.burst,
              clock: offsetClock(truth, worker.spec.skewMs),
            });
            limiters.push(limiter);
            worker.limiter = limiter;
          }
        }
        worker.limiter.assign(member.partitions, options.totalPartitions);
        worker.promised = undefined;
        worker.parallel = member.partitions.length;
        worker.active = member.partitions.length > 0;
        wakeAt(member.worker, truth.now() + worker.spec.latenessMs());
      });
      if (member.crashAt !== undefined) {
        events.add(member.crashAt, () => gone(member.worker));
      }
    }
  });

  for (;;) {
    const event = events.take();
    if (event === undefined || event.at > options.untilMs) break;
    truth.set(event.at);
    event.run();
  }

  const starts = startsByWorker.flat().sort((a, b) => a - b);
  return { starts, startsByWorker, refusedAtNextAt, limiters, applied };
}

/** The rate section of the workers' configuration: the default guard (no rate.margin). */
function configuredRate(options: GroupSimulationOptions): Config['rate'] {
  const { messages, periodMs, burst } = options;
  return { messages, period: periodMs, burst, margin: rateGuard(periodMs, undefined) };
}
