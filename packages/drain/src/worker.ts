import { type Clock, type Config, fromKafkaMessage, type Logger } from '@kafka-throttle/common';
import type { Kafka, KafkaMessage } from 'kafkajs';
import type { Registry } from 'prom-client';
import { createDeadLetter, type DeadLetterCause } from './dead-letter.ts';
import { createDispatcher, type ReadyPick, type Sendable } from './dispatcher.ts';
import { type ConsumerTuning, createKafkaSource, defaultConsumerTuning } from './kafka-source.ts';
import { createDrainMetrics } from './metrics.ts';
import { monotonicClock } from './monotonic-clock.ts';
import { createOffsetCommitter } from './offset-committer.ts';
import { createRateLimiter } from './pacing/rate-limiter.ts';
import { createPartitionQueues, type QueuedRecord } from './partition-queues.ts';
import { createRetryPolicy } from './retry-policy.ts';
import { createHealthServer } from './server.ts';
import type { PreparedAttempt, Sink, SinkOutcome } from './sinks/sink.ts';
import { sinkFromConfig } from './sinks/sink-from-config.ts';

export interface DrainTuning extends ConsumerTuning {
  /**
   * Added to `rate.period` for pacing, on top of the limiter's own margin (0.5% of the period).
   * Permits are counted when a request is written; the destination counts it when it arrives.
   * For a destination whose arrival times vary more than the limiter's margin absorbs, this
   * trades that much of the rate for never seeing N+1 in a period. `rate.margin` by default.
   */
  pacingMarginMs: number;
  /** Records a partition's queue may hold before fetching from it pauses (derived from the rate). */
  highWater: number;
  lowWater: number;
  maxQueueBytes: number;
  /** Wait between attempts to write to the dead-letter topic while it fails. */
  deadLetterRetryMs: number;
}

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
  /** Undefined when in the group and not stopping; otherwise why not. */
  notReadyReason(): string | undefined;
  readonly registry: Registry;
}

/**
 * One drain worker: a member of `drain.group` that delivers its partitions' records to the sink
 * at its share of the group's rate, in order within each partition, committing each offset only
 * once its record was delivered or dead-lettered.
 *
 * Fetching and delivering are decoupled: kafkajs hands batches to per-partition queues and
 * returns at once; a partition whose queue is full is paused and resumed when it has drained.
 * A dispatcher takes one permit per attempt from the rate limiter and starts attempts from the
 * queues in turn, one at a time per partition, several partitions at once.
 */
export function createDrainWorker(options: DrainWorkerOptions): DrainWorker {
  const { config, kafka } = options;
  const clock = options.clock ?? monotonicClock;
  const logger = options.logger.child({ component: 'drain' });
  const tuning = resolveTuning(config, options.tuning);
  const topic = config.kafka.topic;
  const sink = options.sink ?? sinkFromConfig(config.sink, clock);
  const policy = createRetryPolicy({
    maxAttempts: config.sink.maxAttempts,
    backoffBaseMs: config.sink.backoffBase,
    backoffMaxMs: config.sink.backoffMax,
    ...(options.random ? { random: options.random } : {}),
  });
  const limiter = createRateLimiter({
    messages: config.rate.messages,
    periodMs: config.rate.period + tuning.pacingMarginMs,
    burst: config.rate.burst,
    clock,
  });
  const deadLetter = createDeadLetter({ kafka, topic: config.dlq.topic });
  /** Aborted when stopping takes too long: attempts still under way are cut short. */
  const abortAttempts = new AbortController();
  let inFlight = 0;
  let idle: (() => void) | undefined;
  let stopping = false;
  let stopped: Promise<void> | undefined;
  let port = 0;
  let totalPartitions = config.kafka.partitions;

  const queues = createPartitionQueues({
    highWater: tuning.highWater,
    lowWater: tuning.lowWater,
    maxBytes: tuning.maxQueueBytes,
    onPause: (partition) => source.pause([partition]),
    onResume: (partition) => source.resume([partition]),
  });

  const source = createKafkaSource({
    config,
    kafka,
    logger: options.logger,
    clock,
    tuning,
    onAssigned(partitions, total) {
      totalPartitions = total;
      limiter.assign(partitions, total);
      const dropped = queues.assign(partitions);
      committer.reassigned();
      dispatcher.pacingChanged();
      logger.info(
        { partitions, totalPartitions: total, share: limiter.share(), droppedQueued: dropped },
        'partitions assigned',
      );
    },
    onPacing(partitions, total, reason) {
      totalPartitions = total;
      limiter.assign(partitions, total);
      dispatcher.pacingChanged();
      logger.info(
        { partitions, totalPartitions: total, share: limiter.share(), reason },
        'pacing changed',
      );
    },
    onLost(reason) {
      limiter.assign([], totalPartitions);
      const dropped = queues.assign([]);
      committer.reassigned();
      dispatcher.pacingChanged();
      logger.warn({ reason, droppedQueued: dropped }, 'lost the assignment');
    },
    onRecords(partition, messages) {
      queues.push(partition, messages.map(toQueued(partition)));
      dispatcher.workArrived();
    },
  });

  const committer = createOffsetCommitter({
    commit: (offsets) => source.commit(offsets),
    owns: (partition) => queues.owns(partition),
    clock,
    logger,
    onCommitted: () => metrics.commits.inc({ result: 'ok' }),
    onFailed: () => metrics.commits.inc({ result: 'failed' }),
  });

  const dispatcher = createDispatcher({ queues, limiter, clock, prepare: prepareAttempt });

  const metrics = createDrainMetrics({
    share: () => limiter.share(),
    assigned: () => queues.assigned(),
    paused: () => queues.paused(),
    depth: () => queues.depth(),
    inFlight: () => inFlight,
    lag: () => source.lag(queues.assigned(), 1000),
  });

  const server = createHealthServer({
    host: config.drain.host,
    port: config.drain.port,
    registry: metrics.registry,
    logger,
    notReadyReason,
    status: () => ({ partitions: queues.assigned(), share: limiter.share() }),
  });

  function notReadyReason(): string | undefined {
    return stopping ? 'stopping' : source.notReadyReason();
  }

  function toQueued(partition: number): (message: KafkaMessage) => QueuedRecord {
    return (message) => ({
      offset: Number(message.offset),
      message,
      envelope: fromKafkaMessage(message, `${topic}-${partition}-${message.offset}`),
      bytes: (message.value?.length ?? 0) + (message.key?.length ?? 0),
    });
  }

  /** Readies an attempt (no permit yet); an attempt that fails before sending ends here. */
  function prepareAttempt(
    pick: ReadyPick,
    attempt: number,
  ): Sendable | undefined | Promise<Sendable | undefined> {
    const { partition, record } = pick;
    inFlight++;
    let prepared: PreparedAttempt | SinkOutcome | Promise<PreparedAttempt | SinkOutcome>;
    try {
      prepared = sink.prepare(
        { envelope: record.envelope, topic, partition, offset: record.message.offset, attempt },
        abortAttempts.signal,
      );
    } catch (error) {
      prepared = failedBeforeSending(error);
    }
    if (!(prepared instanceof Promise)) return readied(partition, record, attempt, prepared);
    return prepared.then(
      (result) => readied(partition, record, attempt, result),
      (error: unknown) => readied(partition, record, attempt, failedBeforeSending(error)),
    );
  }

  function readied(
    partition: number,
    record: QueuedRecord,
    attempt: number,
    prepared: PreparedAttempt | SinkOutcome,
  ): Sendable | undefined {
    if (prepared.kind === 'prepared') {
      return new ReadyAttempt(partition, record, attempt, prepared, owner);
    }
    // Nothing was sent and no permit taken; it still counts as an attempt of this record.
    settle(partition, record, attempt, prepared, undefined);
    return undefined;
  }

  const owner: AttemptOwner = {
    sent: () => metrics.attemptSent(),
    settle,
    cancelled(partition) {
      queues.release(partition);
      attemptEnded();
    },
  };

  function attemptEnded(): void {
    inFlight--;
    if (inFlight === 0) idle?.();
    dispatcher.workArrived();
  }

  /** What an attempt's outcome means for its record: done, retry later, or dead-letter. */
  function settle(
    partition: number,
    record: QueuedRecord,
    attempt: number,
    outcome: SinkOutcome,
    started: number | undefined,
  ): void {
    let deadLettering: Promise<void> | undefined;
    try {
      deadLettering = decide(partition, record, attempt, outcome, started);
    } catch (error) {
      recoverFromBug(partition, attempt, error);
    }
    if (!deadLettering) {
      attemptEnded();
      return;
    }
    void deadLettering
      .catch((error: unknown) => recoverFromBug(partition, attempt, error))
      .finally(attemptEnded);
  }

  /** A bug, not a delivery failure: keep the record and try it again later. */
  function recoverFromBug(partition: number, attempt: number, error: unknown): void {
    logger.error({ err: error, partition }, 'attempt failed unexpectedly');
    queues.hold(partition, clock.now() + policy.backoff(attempt));
  }

  /** Synchronous but for dead-lettering, whose promise it returns. */
  function decide(
    partition: number,
    record: QueuedRecord,
    attempt: number,
    outcome: SinkOutcome,
    started: number | undefined,
  ): Promise<void> | undefined {
    const { envelope } = record;
    const offset = record.message.offset;
    if (started !== undefined) {
      const latencyMs = performance.now() - started;
      metrics.attemptEnded(outcome.kind, latencyMs / 1000);
      // One line per attempt sent, with its start to the microsecond: what the rate is about.
      // Built only when it is printed: this runs thousands of times a second.
      if (logger.isLevelEnabled('debug')) {
        logger.debug(
          {
            id: envelope.id,
            partition,
            offset,
            attempt,
            startedAt: performance.timeOrigin + started,
            latencyMs,
            outcome: outcome.kind,
            status: outcome.status,
          },
          'attempt',
        );
      }
    }

    const decision = policy.decide(outcome, attempt);
    if (decision.action === 'done') {
      metrics.delivery('delivered');
      finish(partition);
      return undefined;
    }
    const about = { id: envelope.id, partition, offset, attempt };
    const failure = {
      status: outcome.status,
      error: outcome.kind === 'delivered' ? undefined : outcome.error,
      sent: started !== undefined,
    };
    if (decision.action === 'retry') {
      metrics.delivery('retried');
      if (stopping || !queues.owns(partition)) {
        queues.abandon(partition);
        return undefined;
      }
      logger.info(
        { ...about, ...failure, retryInMs: decision.delayMs },
        'attempt failed; will retry',
      );
      // The clock counts whole milliseconds (Date.now truncates): one more makes the wait at
      // least delayMs, which matters for a destination's Retry-After.
      queues.hold(partition, clock.now() + decision.delayMs + 1);
      return undefined;
    }
    const cause: DeadLetterCause = {
      reason: decision.reason,
      attempts: attempt,
      ...(failure.status !== undefined ? { status: failure.status } : {}),
      ...(failure.error !== undefined ? { error: failure.error } : {}),
    };
    return deadLetterRecord(partition, record, cause, about);
  }

  async function deadLetterRecord(
    partition: number,
    record: QueuedRecord,
    cause: DeadLetterCause,
    about: Record<string, unknown>,
  ): Promise<void> {
    if (!queues.owns(partition) || !(await writeDeadLetter(partition, record, cause))) {
      queues.abandon(partition);
      return;
    }
    metrics.delivery('dead_lettered');
    metrics.deadLetters.inc({ reason: cause.reason });
    logger.warn({ ...about, ...cause, dlqTopic: config.dlq.topic }, 'dead-lettered');
    finish(partition);
  }

  /** Keeps trying while the dead-letter topic cannot be written; false if we must give up. */
  async function writeDeadLetter(
    partition: number,
    record: QueuedRecord,
    cause: DeadLetterCause,
  ): Promise<boolean> {
    for (;;) {
      if (abortAttempts.signal.aborted || !queues.owns(partition)) return false;
      try {
        await deadLetter.send({
          message: record.message,
          sourceTopic: topic,
          sourcePartition: partition,
          cause,
        });
        return true;
      } catch (error) {
        logger.error(
          { err: error, partition, offset: record.message.offset },
          'could not write to the dead-letter topic; retrying',
        );
        await clock.sleep(tuning.deadLetterRetryMs, abortAttempts.signal);
      }
    }
  }

  function finish(partition: number): void {
    const owned = queues.owns(partition);
    const record = queues.complete(partition);
    // A partition that moved to another worker is committed by that worker, from its own
    // deliveries; committing here could move its offset backwards.
    if (record && owned) committer.done(partition, record.offset);
  }

  function waitForIdle(deadline: number): Promise<boolean> {
    if (inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = new AbortController();
      idle = () => {
        timer.abort();
        resolve(true);
      };
      void clock.sleep(Math.max(0, deadline - clock.now()), timer.signal).then(() => {
        if (!timer.signal.aborted) resolve(inFlight === 0);
      });
    });
  }

  async function shutdown(): Promise<void> {
    stopping = true;
    const began = clock.now();
    const budget = config.drain.shutdownTimeout;
    await dispatcher.stop();
    source.pause(queues.assigned());
    if (!(await waitForIdle(began + budget * 0.6))) {
      logger.warn({ inFlight }, 'attempts still under way at the shutdown deadline; aborting them');
      abortAttempts.abort();
      await waitForIdle(began + budget * 0.7);
    }
    if (!(await committer.flush(began + budget * 0.8))) {
      logger.warn('could not commit every delivered offset before leaving the group');
    }
    committer.stop();
    await source.stop();
    await Promise.allSettled([deadLetter.disconnect(), sink.close(), server.close()]);
    logger.info({ ms: clock.now() - began }, 'stopped');
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
      source.start();
      deadLetter.connect().catch((error: unknown) => {
        logger.warn({ err: error }, 'dead-letter producer not connected yet; it retries on use');
      });
      void dispatcher.run();
    },
    stop() {
      stopped ??= shutdown();
      return stopped;
    },
    get port() {
      return port;
    },
    notReadyReason,
    registry: metrics.registry,
  };
}

/** What a ready attempt needs from its worker. */
interface AttemptOwner {
  sent(): void;
  settle(
    partition: number,
    record: QueuedRecord,
    attempt: number,
    outcome: SinkOutcome,
    started: number | undefined,
  ): void;
  cancelled(partition: number): void;
}

/**
 * An attempt whose request is ready to go. A class rather than an object of closures: one is
 * made per delivery, thousands a second.
 */
class ReadyAttempt implements Sendable {
  constructor(
    readonly partition: number,
    private readonly record: QueuedRecord,
    private readonly attempt: number,
    private readonly prepared: PreparedAttempt,
    private readonly owner: AttemptOwner,
  ) {}

  send(): void {
    this.owner.sent();
    void this.run(performance.now());
  }

  private async run(started: number): Promise<void> {
    let outcome: SinkOutcome;
    try {
      outcome = await this.prepared.send();
    } catch (error) {
      outcome = { kind: 'retry', error: error instanceof Error ? error.message : String(error) };
    }
    this.owner.settle(this.partition, this.record, this.attempt, outcome, started);
  }

  cancel(): void {
    this.prepared.cancel();
    this.owner.cancelled(this.partition);
  }

  onLost(listener: (lost: Sendable) => void): void {
    this.prepared.onLost(() => listener(this));
  }
}

function failedBeforeSending(error: unknown): SinkOutcome {
  return { kind: 'retry', error: error instanceof Error ? error.message : String(error) };
}

function resolveTuning(config: Config, given: Partial<DrainTuning> = {}): DrainTuning {
  // Per partition, enough queued records to cover a fetch round trip and kafkajs's paused
  // sleep at the full rate, so a resumed partition never runs dry.
  const perPartitionPerSecond =
    (config.rate.messages * 1000) / config.rate.period / Math.max(1, config.kafka.partitions);
  const lowWater = Math.min(5000, Math.max(20, Math.ceil(perPartitionPerSecond * 0.5)));
  return {
    ...defaultConsumerTuning,
    pacingMarginMs: config.rate.margin,
    highWater: lowWater * 3,
    lowWater,
    maxQueueBytes: 8 * 1024 * 1024,
    deadLetterRetryMs: 1000,
    ...given,
  };
}
