import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { testBrokers, testKafkaWithAdmin, uniqueName } from '../../../test-support/kafka.ts';
import { ensureTopics, fromKafkaMessage, toKafkaMessage } from '../src/index.ts';

const { kafka, admin } = testKafkaWithAdmin('common-test');

describe('ensureTopics against a real broker', () => {
  it('creates missing topics with the configured partitions and reports what it created', async () => {
    const topic = uniqueName('ensure');
    const created = await ensureTopics(admin, [
      { topic, numPartitions: 4, replicationFactor: 1 },
      { topic: `${topic}.dlq`, numPartitions: 2, replicationFactor: 1 },
    ]);
    expect(created.sort()).toEqual([topic, `${topic}.dlq`].sort());
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic, `${topic}.dlq`] });
    const partitions = Object.fromEntries(topics.map((t) => [t.name, t.partitions.length]));
    expect(partitions).toEqual({ [topic]: 4, [`${topic}.dlq`]: 2 });
  });

  it('is idempotent: a second call creates nothing and keeps the partition count', async () => {
    const topic = uniqueName('idem');
    await ensureTopics(admin, [{ topic, numPartitions: 3, replicationFactor: 1 }]);
    const again = await ensureTopics(admin, [{ topic, numPartitions: 5, replicationFactor: 1 }]);
    expect(again).toEqual([]);
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    expect(topics[0]?.partitions).toHaveLength(3);
  });

  it('lets several clients race to create the same topic, and all of them succeed', async () => {
    const topic = uniqueName('race');
    const admins = Array.from({ length: 4 }, () =>
      new Kafka({
        clientId: uniqueName('racer'),
        brokers: testBrokers(),
        logLevel: logLevel.NOTHING,
      }).admin(),
    );
    await Promise.all(admins.map((a) => a.connect()));
    try {
      const results = await Promise.all(
        admins.map((a) => ensureTopics(a, [{ topic, numPartitions: 6, replicationFactor: 1 }])),
      );
      expect(results.flat()).toEqual([topic]);
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      expect(topics[0]?.partitions).toHaveLength(6);
    } finally {
      await Promise.all(admins.map((a) => a.disconnect()));
    }
  });
});

describe('the envelope through a real broker', () => {
  it('reads back the value, key and headers it was written with', async () => {
    const topic = uniqueName('envelope');
    await ensureTopics(admin, [{ topic, numPartitions: 1, replicationFactor: 1 }]);
    const envelope = {
      id: 'f0e1d2c3-0000-4000-8000-000000000001',
      body: Buffer.from('{"number":1,"text":"héllo"}'),
      key: 'customer-7',
      contentType: 'application/json; charset=utf-8',
      receivedAt: 1_764_000_000_123,
    };
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    await producer.send({ topic, acks: -1, messages: [toKafkaMessage(envelope)] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: uniqueName('envelope-group') });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const read = await new Promise<ReturnType<typeof fromKafkaMessage>>((resolve) => {
      void consumer.run({
        eachMessage: async ({ message, partition }) => {
          resolve(fromKafkaMessage(message, `${topic}-${partition}-${message.offset}`));
        },
      });
    });
    await consumer.disconnect();
    expect(read).toEqual(envelope);
  });

  it('gives a record written without our headers an id from where it sits', () => {
    const read = fromKafkaMessage(
      {
        key: null,
        value: Buffer.from('[]'),
        timestamp: '1700000000000',
        attributes: 0,
        offset: '7',
        headers: {},
      },
      'topic-0-7',
    );
    expect(read).toEqual({
      id: 'topic-0-7',
      body: Buffer.from('[]'),
      key: null,
      contentType: 'application/json',
      receivedAt: 1_700_000_000_000,
    });
  });
});
