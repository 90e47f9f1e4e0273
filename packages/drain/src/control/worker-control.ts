import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import {
  type Clock,
  type Config,
  createControlFollower,
  createControlWriter,
  createCountsReporter,
  type Logger,
  type RateSetting,
  rateGuard,
  type WorkerReport,
} from '@kafka-throttle/common';
import type { Kafka } from 'kafkajs';
import { clockSkewBudgetMs } from '../pacing/skew-budget.ts';
import { type ClockWatch, createClockWatch } from './clock-watch.ts';
import { type ControlledPacing, createControlledPacing, type Pacer } from './controlled-pacing.ts';

export interface WorkerControlOptions {
  config: Pick<Config, 'kafka' | 'rate'>;
  kafka: Kafka;
  logger: Logger;
  clock: Clock;
  createLimiter(rate: RateSetting): Pacer;
  /** The control state changed: a permit may come sooner or later than the dispatcher thinks. */
  onChange(): void;
  /** This worker's delivery counts and open breaker, written to the topic for the page. */
  counts(): WorkerReport;
  countsReportMs: number;
}

export interface WorkerControl {
  /** The limiter the dispatcher asks: the rate limiter under the group's control state. */
  readonly pacing: ControlledPacing;
  /** This clock's offset from the Kafka cluster's, measured on the acks of the counts. */
  readonly clockWatch: ClockWatch;
  /** Follows the control topic in the background; no permit is granted before it was read. */
  start(): void;
  /** The destination asked to wait: this worker holds at once, the group through the topic. */
  destinationHold(retryAfterMs: number, status: number | undefined): void;
  /**
   * This worker's destination breaker is open and probes next at `nextProbeAt`: the rest of the
   * group holds until then (this worker's breaker already holds it), so the group probes a dead
   * destination once per interval instead of each worker spending its share on it.
   */
  breakerHold(nextProbeAt: number, reason: string): void;
  stop(): Promise<void>;
}

/**
 * A drain worker's side of the control topic: following it, applying it, writing holds, and
 * writing the worker's delivery counts (retries leave no trace in Kafka's offsets otherwise).
 */
export function createWorkerControl(options: WorkerControlOptions): WorkerControl {
  const { kafka, clock, config } = options;
  const logger = options.logger.child({ component: 'control' });
  const follower = createControlFollower({ kafka, config, logger, clock, role: 'drain' });
  // Names this worker in its holds and its counts key; unique, so a restart is a new worker.
  const workerId = `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
  const writer = createControlWriter({
    kafka,
    topic: config.kafka.topic,
    follower,
    clock,
    by: workerId,
  });
  const pacing = createControlledPacing({
    rate: {
      messages: config.rate.messages,
      periodMs: config.rate.period,
      burst: config.rate.burst,
    },
    createLimiter: options.createLimiter,
    clock,
    onApplied(applied, what) {
      const { version, paused, rate, holdUntil, pending } = applied;
      logger.info(
        {
          version,
          paused,
          rate,
          ...(holdUntil > clock.now() ? { holdUntil: new Date(holdUntil).toISOString() } : {}),
          ...(pending
            ? { switchAt: new Date(pending.at).toISOString(), nextRate: pending.rate }
            : {}),
          change: what,
        },
        'control state applied',
      );
    },
  });
  const clockWatch = createClockWatch({
    logger,
    budgetMs() {
      const { periodMs } = pacing.applied().rate;
      return clockSkewBudgetMs(periodMs, rateGuard(periodMs, config.rate.configuredMargin));
    },
  });
  const counts = createCountsReporter({
    worker: workerId,
    kafka,
    topic: config.kafka.topic,
    read: options.counts,
    clock,
    logger,
    intervalMs: options.countsReportMs,
    onWritten: clockWatch.sample,
  });
  let unsubscribe: (() => void) | undefined;
  let started: Promise<void> | undefined;

  function writeHold(until: number, reason: string): void {
    writer
      .hold(until, reason)
      .catch((error: unknown) =>
        logger.warn(
          { err: error, until },
          'could not write the group-wide hold; this worker holds',
        ),
      );
  }

  return {
    pacing,
    clockWatch,
    start() {
      counts.start();
      started = follower.start().then(
        () => {
          pacing.apply(follower.current());
          writer.connect().catch((error: unknown) => {
            logger.warn({ err: error }, 'control writer not connected yet; a hold connects it');
          });
          unsubscribe = follower.onChange((state) => {
            pacing.apply(state);
            options.onChange();
          });
          options.onChange();
        },
        (error: unknown) =>
          logger.debug({ err: error }, 'stopped before the control topic was read'),
      );
    },
    destinationHold(retryAfterMs, status) {
      const until = clock.now() + retryAfterMs;
      pacing.holdUntil(until);
      options.onChange();
      writeHold(until, `destination answered ${status ?? 'an error'} with Retry-After`);
    },
    breakerHold(nextProbeAt, reason) {
      writeHold(nextProbeAt, `destination breaker open in ${workerId}: ${reason}`);
    },
    async stop() {
      unsubscribe?.();
      await counts.stop();
      await writer.close().catch(() => undefined);
      await follower.stop();
      await started;
    },
  };
}
