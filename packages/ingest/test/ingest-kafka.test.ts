import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafka, uniqueName } from '../../../test-support/kafka.ts';
import {
  postRecord,
  type RunningIngest,
  startReadyIngest,
  waitFor,
} from './support/service-harness.ts';
import { readTopic } from './support/topic-records.ts';

const kafka = testKafka('ingest-kafka-test');

describe('ingest against a real broker', () => {
  let ingest: RunningIngest;

  beforeAll(async () => {
    ingest = await startReadyIngest({ KAFKA_TOPIC: uniqueName('ingest'), KAFKA_PARTITIONS: '3' });
  });
  afterAll(() => ingest?.service.stop());

  it('creates the request topic and its dead-letter topic', async () => {
    const admin = kafka.admin();
    await admin.connect();
    try {
      const { topics } = await admin.fetchTopicMetadata({
        topics: [ingest.topic, `${ingest.topic}.dlq`],
      });
      expect(topics.map((t) => t.partitions.length)).toEqual([3, 3]);
    } finally {
      await admin.disconnect();
    }
  });

  it('stores a POST as a record whose value, key, headers and place match the 202', async () => {
    const before = Date.now();
    const answer = await postRecord(ingest.url, 'read-back-1', '{"order":1,"name":"Zoë"}', {
      'x-throttle-key': 'customer-42',
    });
    expect(answer.status).toBe(202);
    expect(answer.json).toMatchObject({ status: 'accepted', id: 'read-back-1' });

    const records = await readTopic(kafka, ingest.topic);
    const record = records.find((r) => r.headers.id === 'read-back-1');
    expect(record).toBeDefined();
    expect(record?.partition).toBe(answer.json.partition);
    expect(record?.offset).toBe(answer.json.offset);
    expect(record?.value).toBe('{"order":1,"name":"Zoë"}');
    expect(record?.key).toBe('customer-42');
    expect(record?.headers['content-type']).toBe('application/json');
    const receivedAt = Number(record?.headers['received-at']);
    expect(receivedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(receivedAt).toBeLessThanOrEqual(Date.now());
  });

  it('sends every request with the same key to the same partition', async () => {
    const answers = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        postRecord(ingest.url, uniqueName('keyed'), `{"i":${i}}`, { 'x-throttle-key': 'same' }),
      ),
    );
    expect(answers.every((a) => a.status === 202)).toBe(true);
    expect(new Set(answers.map((a) => a.json.partition)).size).toBe(1);
  });

  it('answers 200 concurrent POSTs with 202, each stored exactly once where its 202 says', async () => {
    const answers = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        postRecord(ingest.url, `burst-${i}`, JSON.stringify({ burst: i })),
      ),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));

    const records = await readTopic(kafka, ingest.topic);
    const burst = records.filter((r) => r.headers.id?.startsWith('burst-'));
    expect(burst).toHaveLength(200);
    const byId = new Map(burst.map((r) => [r.headers.id, r]));
    expect(byId.size).toBe(200);
    for (const answer of answers) {
      const record = byId.get(answer.id);
      expect(record?.value).toBe(answer.body);
      expect({ partition: record?.partition, offset: record?.offset }).toEqual({
        partition: answer.json.partition,
        offset: answer.json.offset,
      });
    }
  });

  it('spreads records without a key over all partitions, one partition per produce request', async () => {
    const partitions: number[] = [];
    for (let i = 0; i < 6; i++) {
      const answer = await postRecord(ingest.url, uniqueName('spread'), `{"spread":${i}}`);
      expect(answer.status).toBe(202);
      partitions.push(answer.json.partition as number);
    }
    expect(new Set(partitions)).toEqual(new Set([0, 1, 2]));
  });

  it('reports readiness, batches and acks in /metrics', async () => {
    const acks = async (): Promise<number> => {
      const text = await (await fetch(`${ingest.url}/metrics`)).text();
      return Number(/^ingest_kafka_ack_duration_seconds_count (\d+)$/m.exec(text)?.[1]);
    };
    const before = await acks();
    const sent = 7;
    for (let i = 0; i < sent; i++) {
      expect((await postRecord(ingest.url, uniqueName('metric'), `{"m":${i}}`)).status).toBe(202);
    }
    expect((await acks()) - before).toBe(sent);
    const text = await (await fetch(`${ingest.url}/metrics`)).text();
    expect(text).toMatch(/^ingest_kafka_ready 1$/m);
    expect(text).toMatch(/^ingest_produce_batch_size_count [1-9]\d*$/m);
    expect(text).toMatch(/^ingest_producers_created_total 1$/m);
  });
});

describe('graceful stop against a real broker', () => {
  it('answers every request in flight with its real 202 before stopping', async () => {
    // A long linger holds the requests in the batcher, so they are surely in flight at stop.
    const ingest = await startReadyIngest({
      KAFKA_TOPIC: uniqueName('ingest-stop'),
      INGEST_LINGER: '30s',
    });
    const count = 40;
    const answers = Array.from({ length: count }, (_, i) =>
      postRecord(ingest.url, `stop-${i}`, JSON.stringify({ stop: i })),
    );
    await waitFor(
      async () => (await ingest.service.metrics.inFlight.get()).values[0]?.value === count,
      30_000,
      'all requests in flight',
    );
    await ingest.service.stop();
    const settled = await Promise.all(answers);
    expect(settled.map((a) => a.status)).toEqual(settled.map(() => 202));

    const records = await readTopic(kafka, ingest.topic);
    expect(records.map((r) => r.headers.id).sort()).toEqual(settled.map((a) => a.id).sort());
    // Stopped means stopped: the port no longer answers.
    await expect(fetch(`${ingest.url}/healthz`)).rejects.toThrow();
  });
});
