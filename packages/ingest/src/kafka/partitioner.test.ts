import type { Message, PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { createBatchPartitioner } from './partitioner.ts';

const topic = 't';
const metadata = (leaders: number[]): PartitionMetadata[] =>
  leaders.map((leader, partitionId) => ({
    partitionId,
    leader,
    replicas: [1],
    isr: [1],
    offlineReplicas: [],
    partitionErrorCode: 0,
  }));

function assign(
  partitioner: ReturnType<typeof createBatchPartitioner>,
  messages: Message[],
  partitionMetadata = metadata([1, 1, 1, 1, 1, 1]),
): number[] {
  const choose = partitioner.create();
  return messages.map((message) => choose({ topic, partitionMetadata, message }));
}

const unkeyed = (n: number): Message[] => Array.from({ length: n }, (_, i) => ({ value: `${i}` }));

/** The partition chosen for one record of each of `requests` produce requests in a row. */
function perRequest(leaders: number[], requests: number): number[] {
  const partitioner = createBatchPartitioner();
  const choose = partitioner.create();
  const partitionMetadata = metadata(leaders);
  return Array.from({ length: requests }, () => {
    partitioner.nextBatch();
    return choose({ topic, partitionMetadata, message: { value: 'x' } });
  });
}

describe('batch partitioner', () => {
  it('puts the unkeyed records of one produce request in one partition', () => {
    const partitioner = createBatchPartitioner();
    partitioner.nextBatch();
    expect(new Set(assign(partitioner, unkeyed(20))).size).toBe(1);
  });

  it('moves to the next partition with each produce request, covering all of them', () => {
    const seen = perRequest([1, 1, 1, 1, 1, 1], 6);
    expect(new Set(seen)).toEqual(new Set([0, 1, 2, 3, 4, 5]));
  });

  it('skips partitions without a leader, still spreading over the others', () => {
    const seen = perRequest([1, -1, 1], 12);
    expect(seen).not.toContain(1);
    expect(new Set(seen)).toEqual(new Set([0, 2]));
  });

  it('sends a key always to the same partition, as the Java client does', () => {
    const partitioner = createBatchPartitioner();
    const first = assign(partitioner, [{ key: 'customer-7', value: 'a' }]);
    partitioner.nextBatch();
    const second = assign(partitioner, [{ key: 'customer-7', value: 'b' }]);
    expect(second).toEqual(first);
    // What Kafka's Java client computes (toPositive(murmur2(key)) % 6), checked with
    // kafka-clients 4.1.1: customer-7 -> 1, order-1 -> 4, zoë -> 0.
    const other = createBatchPartitioner();
    expect(
      assign(other, [
        { key: 'customer-7', value: 'c' },
        { key: 'order-1', value: 'd' },
        { key: 'zoë', value: 'e' },
      ]),
    ).toEqual([1, 4, 0]);
    expect(first).toEqual([1]);
  });

  it('writes its choice into the message and keeps it on a retry', () => {
    const partitioner = createBatchPartitioner();
    partitioner.nextBatch();
    const messages = unkeyed(3);
    const first = assign(partitioner, messages);
    expect(messages.map((m) => m.partition)).toEqual(first);
    partitioner.nextBatch();
    expect(assign(partitioner, messages)).toEqual(first);
  });
});
