import type { Clock, Config, Logger } from '@kafka-throttle/common';
import type { Kafka } from 'kafkajs';
import { createKafkaSource } from './consumer/kafka-source.ts';
import { registerClockMetrics, registerControlMetrics } from './control/control-metrics.ts';
import { holdOnRetryAfter } from './control/destination-hold.ts';
import { createWorkerControl } from './control/worker-control.ts';
import { assignmentListener } from './delivery/assignment.ts';
import { createAttempts } from './delivery/attempt.ts';
import { createDeadLetter } from './delivery/dead-letter.ts';
import { createDispatcher } from './delivery/dispatcher.ts';
import { createFlowControl } from './delivery/flow-control.ts';
import { createInFlight } from './delivery/in-flight.ts';
import { createOffsetCommitter } from './delivery/offset-committer.ts';
import { createOutcomeHandler } from './delivery/outcome.ts';
import { createPartitionQueues } from './delivery/partition-queues.ts';
import { createRetryPolicy } from './delivery/retry-policy.ts';
import { type Breaker, createBreaker } from './destination/breaker.ts';
import { createHold, type Hold } from './destination/hold.ts';
import { createHealthServer, HEALTH_SERVER_LIMITS } from './http/health-server.ts';
import { createDrainMetrics } from './http/metrics.ts';
import { monotonicClock } from './monotonic-clock.ts';
import { guardedLimiters } from './pacing/guarded-limiter.ts';
import { shutDown } from './shutdown.ts';
import type { Sink } from './sinks/sink.ts';
import { sinkFromConfig } from './sinks/sink-from-config.ts';
import { type DrainTuning, resolveTuning } from './tuning.ts';

/** A /metrics scrape waits this long at most for the group's lag; a slow broker leaves it out. */
const LAG_SCRAPE_TIMEOUT_MS = 1000;

export interface DrainWorkerOptions {
  config: Config;
  logger: Logger;
  kafka: Kafka;
  clock?: Clock;
  /** Where records go; by default the sink `sink.type` names. */
  sink?: Sink;
  /** Jitter source for retry backoff. */
  random?: () => number;
  tuning?: Partial<DrainTuning>;
}

export interface DrainWorker {
  /** Listens on `drain.port` and starts joining the group in the background. */
  start(): Promise<void>;
  /** Stops fetching, lets the attempts under way end, commits, leaves the group. */
  stop(): Promise<void>;
  /** The health and metrics port actually bound (after start). */
  readonly port: number;
  /**
   * Holds every partition of this worker until a time (a group-wide hold from the control topic
   * lands here too); its events say when it is set.
   */
  readonly hold: Pick<Hold, 'holdUntil' | 'onChange'>;
  /** Opens and closes on its own; its events say when and why (for a group-wide hold). */
  readonly breaker: Pick<Breaker, 'status' | 'onChange'>;
}

/**
 * One drain worker: a member of `drain.group` that delivers its partitions' records to the sink
 * at its share of the group's rate, in order within each partition, committing each offset only
 * once its record was delivered or dead-lettered.
 *
 * Fetching and delivering are decoupled: the consumer hands batches to per-partition queues and
 * returns at once; flow control pauses a partition whose queue is full and resumes it when it
 * has drained. The dispatcher takes one permit per attempt from the rate limiter and starts
 * attempts from the queues in turn, one at a time per partition, several partitions at once;
 * each attempt's outcome is handled (commit, retry later, dead-letter) when it ends.
 *
 * This function only wires the parts together, each from the ones built before it; the
 * consumer and the dispatcher get the parts that call back into them when they start.
 */
export function createDrainWorker(options: DrainWorkerOptions): DrainWorker {
  const { config, kafka } = options;
  const clock = options.clock ?? monotonicClock;
  const logger = options.logger.child({ component: 'drain' });
  const tuning = resolveTuning(config, options.tuning);
  const topic = config.kafka.topic;
  const sink = options.sink ?? sinkFromConfig(config.sink, clock);
  /** Aborted when stopping takes too long: attempts still under way are cut short. */
  const abortAttempts = new AbortController();
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let port = 0;

  const source = createKafkaSource({ config, kafka, logger: options.logger, clock, tuning });
  const flow = createFlowControl({
    highWater: tuning.highWater,
    lowWater: tuning.lowWater,
    maxBytes: tuning.maxQueueBytes,
    onPause: (partition) => source.pause([partition]),
    onResume: (partition) => source.resume([partition]),
  });
  const queues = createPartitionQueues({ flow });
  // The group's control topic decides the rate in force, pauses and holds; the configuration
  // only gives the rate until the topic holds one.
  const control = createWorkerControl({
    config,
    kafka,
    logger,
    clock,
    createLimiter: guardedLimiters(config.rate, clock),
    onChange: () => dispatcher.pacingChanged(),
    counts: () => {
      const { state, reason, since } = breaker.status();
      return state === 'open' && since !== undefined
        ? { ...metrics.deliveryCounts(), breaker: { reason: reason ?? 'open', since } }
        : metrics.deliveryCounts();
    },
    countsReportMs: tuning.countsReportMs,
  });
  const limiter = control.pacing;
  const hold = createHold();
  const breaker = createBreaker({
    records: config.sink.breakerRecords,
    partitions: () => queues.assigned().length,
    probe: { initialMs: config.sink.backoffBase, maxMs: config.sink.backoffMax, jitter: 'none' },
  });
  const dispatcher = createDispatcher({
    queues,
    limiter,
    clock,
    // Without the lease nothing starts; what gives it back (a heartbeat, a join) re-paces and
    // so wakes the dispatcher.
    gate: {
      openAt: (now) =>
        source.holdsLease(now)
          ? Math.max(hold.until(), breaker.openAt(now))
          : Number.POSITIVE_INFINITY,
      begin: (partition) => breaker.begin(partition),
      allows: (partition, now) =>
        source.holdsLease(now) && hold.until() <= now && breaker.allows(partition),
      cancelled: (partition) => breaker.cancelled(partition),
    },
  });
  const inFlight = createInFlight(clock);
  const metrics = createDrainMetrics({
    share: () => limiter.share(),
    assigned: () => queues.assigned(),
    paused: () => flow.paused(),
    depth: () => queues.depth(),
    inFlight: () => inFlight.count(),
    lag: () => source.lag(queues.assigned(), LAG_SCRAPE_TIMEOUT_MS),
    breakerOpen: () => breaker.status().state === 'open',
  });
  breaker.onChange((change) => {
    if (change.state === 'open') {
      const nextProbeInMs = (change.nextProbeAt ?? change.at) - change.at;
      if (change.nextProbeAt !== undefined) control.breakerHold(change.nextProbeAt, change.reason);
      if (change.probeFailed) {
        logger.debug({ reason: change.reason, nextProbeInMs }, 'probe failed; breaker stays open');
      } else {
        metrics.breakerTransitions.inc({ to: change.state });
        logger.warn(
          { reason: change.reason, nextProbeInMs },
          'destination breaker open: every partition held, probing the destination',
        );
      }
    } else {
      metrics.breakerTransitions.inc({ to: change.state });
      logger.info(
        { reason: change.reason, openForMs: change.openForMs, probes: change.probes },
        'destination breaker closed: delivering at the configured rate again',
      );
    }
    dispatcher.pacingChanged();
  });
  hold.onChange((change) => {
    logger.warn(
      { reason: change.reason, holdForMs: change.until - clock.now() },
      'worker held: no partition starts an attempt before the time the destination named',
    );
    dispatcher.pacingChanged();
  });
  registerControlMetrics(metrics.registry, () => control.pacing.applied());
  registerClockMetrics(metrics.registry, () => control.clockWatch.offset());
  const committer = createOffsetCommitter({
    commit: (offsets) => source.commit(offsets),
    owns: (partition) => queues.owns(partition),
    clock,
    logger,
    onCommitted: () => metrics.commits.inc({ result: 'ok' }),
    onFailed: () => metrics.commits.inc({ result: 'failed' }),
  });
  const deadLetter = createDeadLetter({
    kafka,
    topic: config.dlq.topic,
    clock,
    logger,
    retryMs: tuning.deadLetterRetryMs,
    retryMaxMs: tuning.deadLetterRetryMaxMs,
  });
  const outcomes = createOutcomeHandler({
    topic,
    dlqTopic: config.dlq.topic,
    policy: createRetryPolicy({
      maxAttempts: config.sink.maxAttempts,
      backoffBaseMs: config.sink.backoffBase,
      backoffMaxMs: config.sink.backoffMax,
      ...(options.random ? { random: options.random } : {}),
    }),
    queues,
    committer,
    deadLetter,
    breaker,
    hold,
    metrics,
    clock,
    logger,
    stopping: () => stopping,
    signal: abortAttempts.signal,
  });
  const attempts = createAttempts({
    topic,
    sink,
    outcomes: holdOnRetryAfter(outcomes, control.destinationHold),
    queues,
    clock,
    inFlight,
    signal: abortAttempts.signal,
    onSent: () => metrics.attemptSent(),
    onEnded: () => dispatcher.workArrived(),
  });
  const notReadyReason = (): string | undefined =>
    stopping ? 'stopping' : source.notReadyReason();
  const server = createHealthServer({
    host: config.drain.host,
    port: config.drain.port,
    registry: metrics.registry,
    limits: HEALTH_SERVER_LIMITS,
    logger,
    notReadyReason,
    // An open breaker leaves the worker ready: it is the destination that is down, and a
    // restart or a rerouting of this worker would not bring it back.
    status: () => ({
      partitions: queues.assigned(),
      share: limiter.share(),
      breaker: breaker.status(),
      ...(hold.status(clock.now()) ? { hold: hold.status(clock.now()) } : {}),
    }),
  });

  function shutdown(): Promise<void> {
    stopping = true;
    return shutDown(
      {
        stopDispatching: () => dispatcher.stop(),
        pauseFetching: () => source.pause(queues.assigned()),
        attemptsIdle: (deadline) => inFlight.idle(deadline),
        abortAttempts: () => abortAttempts.abort(),
        inFlight: () => inFlight.count(),
        flushCommits: (deadline) => committer.flush(deadline),
        stopCommitting: () => committer.stop(),
        leaveGroup: () => source.stop(),
        closeRest: () => [deadLetter.disconnect(), sink.close(), server.close(), control.stop()],
      },
      config.drain.shutdownTimeout,
      clock,
      logger,
    );
  }

  return {
    async start() {
      await sink.warm?.().catch((error: unknown) => {
        logger.warn({ err: error }, 'sink warm-up failed; the first deliveries may arrive late');
      });
      port = await server.listen();
      logger.info(
        { port, host: config.drain.host, topic, group: config.drain.group, sink: sink.name },
        'drain worker listening',
      );
      source.start(
        assignmentListener({
          topic,
          limiter,
          queues,
          committer,
          dispatcher,
          logger,
          totalPartitions: config.kafka.partitions,
        }),
      );
      deadLetter.connect().catch((error: unknown) => {
        logger.warn({ err: error }, 'dead-letter producer not connected yet; it retries on use');
      });
      control.start();
      void dispatcher.run(attempts.prepare);
    },
    stop() {
      stopped ??= shutdown();
      return stopped;
    },
    get port() {
      return port;
    },
    hold,
    breaker,
  };
}
