import { fromKafkaMessage, type Logger } from '@kafka-throttle/common';
import type { KafkaMessage } from 'kafkajs';
import type { SourceListener } from '../consumer/source-listener.ts';
import type { RateLimiter } from '../pacing/rate-limiter.ts';
import type { Dispatcher } from './dispatcher.ts';
import type { OffsetCommitter } from './offset-committer.ts';
import type { PartitionQueues, QueuedRecord } from './partition-queues.ts';

export interface AssignmentOptions {
  topic: string;
  limiter: Pick<RateLimiter, 'assign' | 'share'>;
  queues: Pick<PartitionQueues, 'assign' | 'push'>;
  committer: Pick<OffsetCommitter, 'reassigned'>;
  dispatcher: Pick<Dispatcher, 'pacingChanged' | 'workArrived'>;
  logger: Logger;
  /** Partitions of the topic when the worker starts, until the consumer knows better. */
  totalPartitions: number;
}

/**
 * What the consumer's news means for delivery. A new assignment replaces the queues (kafkajs
 * fetches again from the committed offsets), forgets offsets no longer ours and re-paces; a
 * pacing change (rejoin, lapsed heartbeats, a grown topic) only re-paces; losing the consumer
 * gives everything up; fetched records join their partition's queue.
 */
export function assignmentListener(options: AssignmentOptions): SourceListener {
  const { limiter, queues, committer, dispatcher, logger, topic } = options;
  let totalPartitions = options.totalPartitions;

  const toQueued =
    (partition: number) =>
    (message: KafkaMessage): QueuedRecord => ({
      offset: Number(message.offset),
      message,
      envelope: fromKafkaMessage(message, `${topic}-${partition}-${message.offset}`),
      bytes: (message.value?.length ?? 0) + (message.key?.length ?? 0),
    });

  return {
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
  };
}
