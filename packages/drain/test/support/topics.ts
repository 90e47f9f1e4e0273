import { ensureTopics } from '@kafka-throttle/common';
import type { Admin } from 'kafkajs';

/** A request topic and its dead-letter topic, both with `partitions` partitions. */
export async function createTopicPair(
  admin: Admin,
  topic: string,
  partitions: number,
): Promise<{ topic: string; dlq: string }> {
  const dlq = `${topic}.dlq`;
  await ensureTopics(admin, [
    { topic, numPartitions: partitions, replicationFactor: 1 },
    { topic: dlq, numPartitions: 1, replicationFactor: 1 },
  ]);
  return { topic, dlq };
}

/** How many records a topic holds (it is never compacted or trimmed in tests). */
export async function recordCount(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}
