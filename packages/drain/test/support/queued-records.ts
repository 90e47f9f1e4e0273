import type { KafkaMessage } from 'kafkajs';
import { createFlowControl } from '../../src/delivery/flow-control.ts';
import {
  createPartitionQueues,
  type PartitionQueues,
  type QueuedRecord,
} from '../../src/delivery/partition-queues.ts';

/** A record as the Kafka source queues it: id `id-<offset>`, a `{}` JSON body of `bytes` bytes. */
export function queuedRecord(offset: number, bytes = 10): QueuedRecord {
  return {
    offset,
    message: { offset: String(offset), key: null, value: Buffer.from('{}') } as KafkaMessage,
    envelope: {
      id: `id-${offset}`,
      body: Buffer.from('{}'),
      key: null,
      contentType: 'application/json',
      receivedAt: 0,
    },
    bytes,
  };
}

/** Records with offsets `from` to `to`, both included. */
export const queuedRecords = (from: number, to: number): QueuedRecord[] =>
  Array.from({ length: to - from + 1 }, (_, i) => queuedRecord(from + i));

/**
 * Partition queues whose flow control never comes near pausing a partition: for tests of what
 * takes records off the queues, not of back-pressure.
 */
export function roomyQueues(): PartitionQueues {
  return createPartitionQueues({
    flow: createFlowControl({
      highWater: 100,
      lowWater: 10,
      maxBytes: 1e9,
      onPause() {},
      onResume() {},
    }),
  });
}
