import { ensureTopics, retryWithBackoff, systemClock } from '@kafka-throttle/common';
import type { Admin } from 'kafkajs';

/** A request topic and its dead-letter topic, both with `partitions` partitions. */
export async function createTopicPair(
  admin: Admin,
  topic: string,
  partitions: number,
): Promise<{ topic: string; dlq: string }> {
  const dlq = `${topic}.dlq`;
  // A busy broker may answer that it does not host a partition it has just created: ask again.
  await retryWithBackoff(
    () =>
      ensureTopics(admin, [
        { topic, numPartitions: partitions, replicationFactor: 1 },
        { topic: dlq, numPartitions: 1, replicationFactor: 1 },
      ]),
    { clock: systemClock, initialMs: 200, maxMs: 2000, maxAttempts: 10 },
  );
  return { topic, dlq };
}

/** How many records a topic holds (it is never compacted or trimmed in tests). */
export async function recordCount(admin: Admin, topic: string): Promise<number> {
  const offsets = await admin.fetchTopicOffsets(topic);
  return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
}
