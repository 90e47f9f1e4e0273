import type { Envelope } from '@kafka-throttle/common';
import type { KafkaMessage } from 'kafkajs';

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
  /** A partition holding this many records (or maxBytes) is paused at the consumer… */
  highWater: number;
  /** …and resumed once it is down to this many. */
  lowWater: number;
  maxBytes: number;
  onPause(partition: number): void;
  onResume(partition: number): void;
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
  paused(): number[];
  /** Forgets every pause, for a consumer that starts over without them. */
  clearPauses(): number[];
  depth(): Map<number, number>;
  busy(): number;
}

interface Lane {
  partition: number;
  /** Records from `head` on are queued; slots before it were delivered. */
  items: (QueuedRecord | undefined)[];
  head: number;
  bytes: number;
  busy: boolean;
  attempts: number;
  holdUntil: number;
  paused: boolean;
  revoked: boolean;
  /** Only offsets above this are accepted. */
  floor: number | undefined;
}

export function createPartitionQueues(options: PartitionQueuesOptions): PartitionQueues {
  const lanes = new Map<number, Lane>();
  /** Highest offset per partition this worker delivered or dead-lettered. */
  const doneThrough = new Map<number, number>();
  let order: number[] = [];
  let cursor = 0;

  function newLane(partition: number): Lane {
    return {
      partition,
      items: [],
      head: 0,
      bytes: 0,
      busy: false,
      attempts: 0,
      holdUntil: 0,
      paused: false,
      revoked: false,
      floor: doneThrough.get(partition),
    };
  }

  const length = (lane: Lane): number => lane.items.length - lane.head;
  const headOf = (lane: Lane): QueuedRecord | undefined => lane.items[lane.head];

  function resumeIfPaused(lane: Lane): void {
    if (!lane.paused) return;
    lane.paused = false;
    options.onResume(lane.partition);
  }

  function keepOnlyHead(lane: Lane): number {
    const head = headOf(lane);
    const dropped = length(lane) - (head ? 1 : 0);
    lane.items = head ? [head] : [];
    lane.head = 0;
    lane.bytes = head?.bytes ?? 0;
    lane.floor = head ? head.offset : doneThrough.get(lane.partition);
    return dropped;
  }

  function refreshOrder(): void {
    order = [...lanes.values()]
      .filter((lane) => !lane.revoked)
      .map((lane) => lane.partition)
      .sort((a, b) => a - b);
    cursor = 0;
  }

  function forgetIfRevoked(lane: Lane): void {
    if (lane.revoked && !lane.busy) lanes.delete(lane.partition);
  }

  return {
    assign(partitions) {
      const wanted = new Set(partitions);
      let dropped = 0;
      for (const lane of lanes.values()) {
        resumeIfPaused(lane);
        if (wanted.has(lane.partition)) {
          lane.revoked = false;
          dropped += keepOnlyHead(lane);
        } else if (lane.busy) {
          lane.revoked = true;
          dropped += keepOnlyHead(lane);
        } else {
          dropped += length(lane);
          lanes.delete(lane.partition);
        }
      }
      for (const partition of wanted) {
        if (!lanes.has(partition)) lanes.set(partition, newLane(partition));
      }
      refreshOrder();
      return dropped;
    },

    push(partition, records) {
      const lane = lanes.get(partition);
      if (!lane || lane.revoked) return 0;
      let accepted = 0;
      for (const record of records) {
        if (lane.floor !== undefined && record.offset <= lane.floor) continue;
        lane.items.push(record);
        lane.bytes += record.bytes;
        lane.floor = record.offset;
        accepted++;
      }
      if (!lane.paused && (length(lane) >= options.highWater || lane.bytes >= options.maxBytes)) {
        lane.paused = true;
        options.onPause(partition);
      }
      return accepted;
    },

    next(now) {
      let until = Number.POSITIVE_INFINITY;
      for (let i = 0; i < order.length; i++) {
        const index = (cursor + i) % order.length;
        const lane = lanes.get(order[index] as number);
        if (!lane || lane.busy) continue;
        const record = headOf(lane);
        if (!record) continue;
        if (lane.holdUntil > now) {
          until = Math.min(until, lane.holdUntil);
          continue;
        }
        return { kind: 'ready', partition: lane.partition, record, attempt: lane.attempts + 1 };
      }
      return { kind: 'wait', until };
    },

    begin(partition) {
      const lane = lanes.get(partition);
      if (!lane) throw new Error(`partition ${partition} has no queue`);
      lane.busy = true;
      lane.attempts += 1;
      // The turn moves on only when a partition is actually served.
      const index = order.indexOf(partition);
      if (index >= 0) cursor = (index + 1) % order.length;
      return lane.attempts;
    },

    hold(partition, until) {
      const lane = lanes.get(partition);
      if (!lane) return;
      lane.busy = false;
      lane.holdUntil = until;
      forgetIfRevoked(lane);
    },

    complete(partition) {
      const lane = lanes.get(partition);
      if (!lane) return undefined;
      const record = headOf(lane);
      if (record) {
        lane.items[lane.head] = undefined;
        lane.head++;
        lane.bytes -= record.bytes;
        doneThrough.set(partition, record.offset);
        // Compact now and then so a long-lived queue does not keep every record it ever held.
        if (lane.head > 1024 && lane.head * 2 > lane.items.length) {
          lane.items = lane.items.slice(lane.head);
          lane.head = 0;
        }
      }
      lane.busy = false;
      lane.attempts = 0;
      lane.holdUntil = 0;
      if (lane.paused && length(lane) <= options.lowWater && lane.bytes <= options.maxBytes / 2) {
        resumeIfPaused(lane);
      }
      forgetIfRevoked(lane);
      return record;
    },

    abandon(partition) {
      const lane = lanes.get(partition);
      if (!lane) return;
      lane.busy = false;
      forgetIfRevoked(lane);
    },

    release(partition) {
      const lane = lanes.get(partition);
      if (!lane) return;
      lane.busy = false;
      lane.attempts = Math.max(0, lane.attempts - 1);
      forgetIfRevoked(lane);
    },

    owns(partition) {
      const lane = lanes.get(partition);
      return lane !== undefined && !lane.revoked;
    },

    assigned: () => [...order],

    paused: () => [...lanes.values()].filter((lane) => lane.paused).map((l) => l.partition),

    clearPauses() {
      const cleared: number[] = [];
      for (const lane of lanes.values()) {
        if (lane.paused) cleared.push(lane.partition);
        lane.paused = false;
      }
      return cleared;
    },

    depth() {
      const result = new Map<number, number>();
      for (const lane of lanes.values()) {
        if (!lane.revoked) result.set(lane.partition, length(lane));
      }
      return result;
    },

    busy: () => [...lanes.values()].filter((lane) => lane.busy).length,
  };
}
