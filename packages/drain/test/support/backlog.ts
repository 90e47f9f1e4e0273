import { toKafkaMessage } from '@kafka-throttle/common';
import type { Admin, Kafka } from 'kafkajs';
import { testKafkaWithAdmin, uniqueName } from '../../../../test-support/kafka.ts';
import { createTopicPair } from './topics.ts';

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

/** A request topic of a test's own, its dead-letter topic and a consumer group for it. */
export interface TestTopic {
  topic: string;
  dlq: string;
  group: string;
  produced: Produced[];
  /** The settings that point a worker at these names. */
  env: { KAFKA_TOPIC: string; DLQ_TOPIC: string; DRAIN_GROUP: string };
}

/**
 * A request topic of its own (named after `name`) with its dead-letter topic, holding a backlog
 * written by `produceBacklog`, and a group name for the workers that drain it.
 */
export async function topicWithBacklog(
  kafka: Kafka,
  admin: Admin,
  name: string,
  options: { count: number; partitions: number; prefix?: string },
): Promise<TestTopic> {
  const { topic, dlq } = await createTopicPair(admin, uniqueName(name), options.partitions);
  const produced = await produceBacklog(kafka, topic, options);
  const group = uniqueName(`${name}-group`);
  return {
    topic,
    dlq,
    group,
    produced,
    env: { KAFKA_TOPIC: topic, DLQ_TOPIC: dlq, DRAIN_GROUP: group },
  };
}

/**
 * The run's broker for a drain test file: a client, its admin (connected for the file's tests)
 * and `backlog`, a fresh topic with records in it. Call it at the top level of the file.
 */
export function drainTestKafka(clientId: string): {
  kafka: Kafka;
  admin: Admin;
  backlog(
    name: string,
    options: { count: number; partitions: number; prefix?: string },
  ): Promise<TestTopic>;
} {
  const { kafka, admin } = testKafkaWithAdmin(clientId);
  return {
    kafka,
    admin,
    backlog: (name, options) => topicWithBacklog(kafka, admin, name, options),
  };
}
