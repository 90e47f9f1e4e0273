import { toKafkaMessage } from '@kafka-throttle/common';
import type { Kafka } from 'kafkajs';

export interface Produced {
  id: string;
  partition: number;
}

/**
 * Writes `count` records the way ingest does (envelope headers, JSON body), spread evenly over
 * `partitions`, and returns their ids. Ids are `<prefix>-<n>` so a test can tell them apart.
 */
export async function produceBacklog(
  kafka: Kafka,
  topic: string,
  options: { count: number; partitions: number; prefix?: string; start?: number },
): Promise<Produced[]> {
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  await producer.connect();
  const produced: Produced[] = [];
  try {
    const messages = [];
    for (let i = 0; i < options.count; i++) {
      const n = (options.start ?? 0) + i;
      const id = `${options.prefix ?? 'm'}-${n}`;
      const partition = n % options.partitions;
      produced.push({ id, partition });
      messages.push({
        ...toKafkaMessage({
          id,
          body: Buffer.from(JSON.stringify({ n })),
          key: null,
          contentType: 'application/json',
          receivedAt: Date.now(),
        }),
        partition,
      });
    }
    for (let i = 0; i < messages.length; i += 500) {
      await producer.send({ topic, acks: -1, messages: messages.slice(i, i + 500) });
    }
  } finally {
    await producer.disconnect();
  }
  return produced;
}
