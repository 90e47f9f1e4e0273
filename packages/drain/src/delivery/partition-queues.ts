import type { Envelope } from '@kafka-throttle/common';
import type { KafkaMessage } from 'kafkajs';
import { DrainError } from '../errors.ts';
import type { FlowControl } from './flow-control.ts';

/** A fetched record waiting for its turn. */
export interface QueuedRecord {
  /**
   * The record's offset as a number: exact up to 2^53, which a partition would reach after
   * a million records a second for 285 years. Cheaper than bigint on this path.
   */
  offset: number;
  message: KafkaMessage;
  envelope: Envelope;
  bytes: number;
}

export interface PartitionQueuesOptions {
  /** Told how full each queue is; pauses and resumes fetching from its partition. */
  flow: FlowControl;
}

export type NextPick =
  | { kind: 'ready'; partition: number; record: QueuedRecord; attempt: number }
  /** Nothing to start before `until` (Infinity: until new work arrives). */
  | { kind: 'wait'; until: number };

export interface PartitionQueues {
  /**
   * Replaces the assignment, at every rebalance. Every partition keeps at most its head record
   * (the one being attempted or waiting for a retry); the rest is dropped, because the consumer
   * fetches it again from the committed offset. A partition no longer owned whose head is being
   * attempted is kept as "revoked" until that attempt ends, then forgotten.
   * Returns how many queued records were dropped.
   */
  assign(partitions: readonly number[]): number;
  /** Appends fetched records; records at or below what this partition already holds are ignored. */
  push(partition: number, records: readonly QueuedRecord[]): number;
  /**
   * The next record to attempt, partitions taken in turn (the turn moves on at `begin`); a
   * partition is busy during an attempt.
   */
  next(now: number): NextPick;
  /** Marks the partition busy with an attempt of its head; returns the attempt number. */
  begin(partition: number): number;
  /** The attempt failed and may be retried: the head waits until `until`. */
  hold(partition: number, until: number): void;
  /** The head was delivered or dead-lettered: it leaves the queue. */
  complete(partition: number): QueuedRecord | undefined;
  /** The attempt ended without a verdict (stopping, revoked): the head stays or is forgotten. */
  abandon(partition: number): void;
  /** The attempt was given up before it was sent: as if `begin` had not been called. */
  release(partition: number): void;
  owns(partition: number): boolean;
  assigned(): number[];
  depth(): Map<number, number>;
}

/** One partition's queue: its records from the head on, and the state of its head's attempts. */
interface PartitionQueue {
  partition: number;
  /** Records from `head` on are queued; slots before it were delivered. */
  items: (QueuedRecord | undefined)[];
  head: number;
  bytes: number;
  busy: boolean;
  attempts: number;
  holdUntil: number;
  revoked: boolean;
  /** Only offsets above this are accepted. */
  floor: number | undefined;
}

export function createPartitionQueues(options: PartitionQueuesOptions): PartitionQueues {
  const queues = new Map<number, PartitionQueue>();
  /** Highest offset per partition this worker delivered or dead-lettered. */
  const doneThrough = new Map<number, number>();
  let order: number[] = [];
  let cursor = 0;

  function newPartitionQueue(partition: number): PartitionQueue {
    return {
      partition,
      items: [],
      head: 0,
      bytes: 0,
      busy: false,
      attempts: 0,
      holdUntil: 0,
      revoked: false,
      floor: doneThrough.get(partition),
    };
  }

  const length = (queue: PartitionQueue): number => queue.items.length - queue.head;
  const headOf = (queue: PartitionQueue): QueuedRecord | undefined => queue.items[queue.head];

  function keepOnlyHead(queue: PartitionQueue): number {
    const head = headOf(queue);
    const dropped = length(queue) - (head ? 1 : 0);
    queue.items = head ? [head] : [];
    queue.head = 0;
    queue.bytes = head?.bytes ?? 0;
    queue.floor = head ? head.offset : doneThrough.get(queue.partition);
    return dropped;
  }

  function refreshOrder(): void {
    order = [...queues.values()]
      .filter((queue) => !queue.revoked)
      .map((queue) => queue.partition)
      .sort((a, b) => a - b);
    cursor = 0;
  }

  function forgetIfRevoked(queue: PartitionQueue): void {
    if (queue.revoked && !queue.busy) queues.delete(queue.partition);
  }

  return {
    assign(partitions) {
      const wanted = new Set(partitions);
      let dropped = 0;
      for (const queue of queues.values()) {
        options.flow.release(queue.partition);
        if (wanted.has(queue.partition)) {
          queue.revoked = false;
          dropped += keepOnlyHead(queue);
        } else if (queue.busy) {
          queue.revoked = true;
          dropped += keepOnlyHead(queue);
        } else {
          dropped += length(queue);
          queues.delete(queue.partition);
        }
      }
      for (const partition of wanted) {
        if (!queues.has(partition)) queues.set(partition, newPartitionQueue(partition));
      }
      refreshOrder();
      return dropped;
    },

    push(partition, records) {
      const queue = queues.get(partition);
      if (!queue || queue.revoked) return 0;
      let accepted = 0;
      for (const record of records) {
        if (queue.floor !== undefined && record.offset <= queue.floor) continue;
        queue.items.push(record);
        queue.bytes += record.bytes;
        queue.floor = record.offset;
        accepted++;
      }
      options.flow.filled(partition, { records: length(queue), bytes: queue.bytes });
      return accepted;
    },

    next(now) {
      let until = Number.POSITIVE_INFINITY;
      for (let i = 0; i < order.length; i++) {
        const index = (cursor + i) % order.length;
        const queue = queues.get(order[index] as number);
        if (!queue || queue.busy) continue;
        const record = headOf(queue);
        if (!record) continue;
        if (queue.holdUntil > now) {
          until = Math.min(until, queue.holdUntil);
          continue;
        }
        return { kind: 'ready', partition: queue.partition, record, attempt: queue.attempts + 1 };
      }
      return { kind: 'wait', until };
    },

    begin(partition) {
      const queue = queues.get(partition);
      if (!queue) throw new DrainError('unknown_partition', `partition ${partition} has no queue`);
      queue.busy = true;
      queue.attempts += 1;
      // The turn moves on only when a partition is actually served.
      const index = order.indexOf(partition);
      if (index >= 0) cursor = (index + 1) % order.length;
      return queue.attempts;
    },

    hold(partition, until) {
      const queue = queues.get(partition);
      if (!queue) return;
      queue.busy = false;
      queue.holdUntil = until;
      forgetIfRevoked(queue);
    },

    complete(partition) {
      const queue = queues.get(partition);
      if (!queue) return undefined;
      const record = headOf(queue);
      if (record) {
        queue.items[queue.head] = undefined;
        queue.head++;
        queue.bytes -= record.bytes;
        doneThrough.set(partition, record.offset);
        // Compact now and then so a long-lived queue does not keep every record it ever held.
        if (queue.head > 1024 && queue.head * 2 > queue.items.length) {
          queue.items = queue.items.slice(queue.head);
          queue.head = 0;
        }
      }
      queue.busy = false;
      queue.attempts = 0;
      queue.holdUntil = 0;
      options.flow.drained(partition, { records: length(queue), bytes: queue.bytes });
      forgetIfRevoked(queue);
      return record;
    },

    abandon(partition) {
      const queue = queues.get(partition);
      if (!queue) return;
      queue.busy = false;
      forgetIfRevoked(queue);
    },

    release(partition) {
      const queue = queues.get(partition);
      if (!queue) return;
      queue.busy = false;
      queue.attempts = Math.max(0, queue.attempts - 1);
      forgetIfRevoked(queue);
    },

    owns(partition) {
      const queue = queues.get(partition);
      return queue !== undefined && !queue.revoked;
    },

    assigned: () => [...order],

    depth() {
      const result = new Map<number, number>();
      for (const queue of queues.values()) {
        if (!queue.revoked) result.set(queue.partition, length(queue));
      }
      return result;
    },
  };
}
