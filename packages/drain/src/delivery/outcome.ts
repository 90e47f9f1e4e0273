import type { Clock, Logger } from '@kafka-throttle/common';
import type { DrainMetrics } from '../http/metrics.ts';
import type { SinkOutcome } from '../sinks/sink.ts';
import type { DeadLetter, DeadLetterCause } from './dead-letter.ts';
import type { OffsetCommitter } from './offset-committer.ts';
import type { PartitionQueues, QueuedRecord } from './partition-queues.ts';
import type { RetryPolicy } from './retry-policy.ts';

/** One attempt of one record: which record, and how many attempts it has had with this one. */
export interface AttemptOf {
  partition: number;
  record: QueuedRecord;
  attempt: number;
}

export interface OutcomeHandlerOptions {
  topic: string;
  dlqTopic: string;
  policy: Pick<RetryPolicy, 'decide' | 'backoff'>;
  queues: Pick<PartitionQueues, 'owns' | 'hold' | 'abandon' | 'complete'>;
  committer: Pick<OffsetCommitter, 'done'>;
  deadLetter: Pick<DeadLetter, 'send'>;
  metrics: Pick<DrainMetrics, 'attemptEnded' | 'delivery' | 'deadLetters'>;
  clock: Clock;
  logger: Logger;
  /** True once the worker is stopping: a failed record is left for the next owner. */
  stopping(): boolean;
  /** Aborted when stopping takes too long: a dead-letter write still retrying gives up. */
  signal: AbortSignal;
}

export interface OutcomeHandler {
  /**
   * Acts on an attempt's outcome: commits a delivered record, holds a failed one for its retry,
   * or dead-letters it and then commits it. `started` is the clock time the attempt was sent
   * (absent when it failed before sending). Returns a promise only while dead-lettering; it
   * never rejects, and the partition's head is settled one way or another when it resolves.
   */
  handle(of: AttemptOf, outcome: SinkOutcome, started: number | undefined): Promise<void> | void;
}

/**
 * The retry/dead-letter decision for a record after one attempt, and what follows from it for
 * its partition's queue and offset. The policy decides; this carries the decision out.
 */
export function createOutcomeHandler(options: OutcomeHandlerOptions): OutcomeHandler {
  const { queues, metrics, logger, clock, policy } = options;

  /** A bug, not a delivery failure: keep the record and try it again later. */
  function recoverFromBug(partition: number, attempt: number, error: unknown): void {
    logger.error({ err: error, partition }, 'attempt failed unexpectedly');
    queues.hold(partition, clock.now() + policy.backoff(attempt));
  }

  function finish(partition: number): void {
    const owned = queues.owns(partition);
    const record = queues.complete(partition);
    // A partition that moved to another worker is committed by that worker, from its own
    // deliveries; committing here could move its offset backwards.
    if (record && owned) options.committer.done(partition, record.offset);
  }

  function logAttempt(of: AttemptOf, outcome: SinkOutcome, started: number): void {
    const latencyMs = clock.now() - started;
    metrics.attemptEnded(outcome.kind, latencyMs / 1000);
    // One line per attempt sent, with its start to the microsecond: what the rate is about.
    // Built only when it is printed: this runs thousands of times a second.
    if (!logger.isLevelEnabled('debug')) return;
    logger.debug(
      {
        id: of.record.envelope.id,
        partition: of.partition,
        offset: of.record.message.offset,
        attempt: of.attempt,
        startedAt: started,
        latencyMs,
        outcome: outcome.kind,
        status: outcome.status,
      },
      'attempt',
    );
  }

  /** Synchronous but for dead-lettering, whose promise it returns. */
  function decide(
    of: AttemptOf,
    outcome: SinkOutcome,
    started: number | undefined,
  ): Promise<void> | undefined {
    const { partition, record, attempt } = of;
    if (started !== undefined) logAttempt(of, outcome, started);
    const decision = policy.decide(outcome, attempt);
    if (decision.action === 'done') {
      metrics.delivery('delivered');
      finish(partition);
      return undefined;
    }
    const about = { id: record.envelope.id, partition, offset: record.message.offset, attempt };
    const error = outcome.kind === 'delivered' ? undefined : outcome.error;
    if (decision.action === 'retry') {
      metrics.delivery('retried');
      if (options.stopping() || !queues.owns(partition)) {
        queues.abandon(partition);
        return undefined;
      }
      logger.info(
        { ...about, status: outcome.status, error, sent: started !== undefined },
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
      ...(outcome.status !== undefined ? { status: outcome.status } : {}),
      ...(error !== undefined ? { error } : {}),
    };
    return deadLetter(of, cause, about);
  }

  async function deadLetter(
    of: AttemptOf,
    cause: DeadLetterCause,
    about: Record<string, unknown>,
  ): Promise<void> {
    const { partition, record } = of;
    const written = await options.deadLetter.send(
      { message: record.message, sourceTopic: options.topic, sourcePartition: partition, cause },
      () => queues.owns(partition),
      options.signal,
    );
    if (!written) {
      queues.abandon(partition);
      return;
    }
    metrics.delivery('dead_lettered');
    metrics.deadLetters.inc({ reason: cause.reason });
    logger.warn({ ...about, ...cause, dlqTopic: options.dlqTopic }, 'dead-lettered');
    finish(partition);
  }

  return {
    handle(of, outcome, started) {
      let deadLettering: Promise<void> | undefined;
      try {
        deadLettering = decide(of, outcome, started);
      } catch (error) {
        recoverFromBug(of.partition, of.attempt, error);
      }
      return deadLettering?.catch((error: unknown) =>
        recoverFromBug(of.partition, of.attempt, error),
      );
    },
  };
}
