import { ensureTopics } from '@kafka-throttle/common';
import type { IHeaders, KafkaMessage } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { testKafkaWithAdmin, uniqueName } from '../../../test-support/kafka.ts';
import { produceBacklog } from './support/backlog.ts';
import { type Reply, startDestination } from './support/destination.ts';
import { inProcessWorker, whileDraining } from './support/in-process.ts';

const { kafka, admin } = testKafkaWithAdmin('drain-failures-test');

/** What the destination answers to each record, attempt by attempt (then 200). */
const script: Record<string, Reply[]> = {
  'f-0': [{ status: 503 }, { status: 503 }],
  'f-1': [{ status: 429, headers: { 'retry-after': '2' } }],
  'f-2': [{ status: 422, body: '{"error":"no such customer"}' }],
  'f-3': [],
  'f-4': [{ status: 500 }, { status: 500 }, { status: 500 }],
  'f-5': [],
};

async function readAll(topic: string, count: number): Promise<KafkaMessage[]> {
  const consumer = kafka.consumer({ groupId: uniqueName('dlq-reader') });
  const messages: KafkaMessage[] = [];
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`only ${messages.length} in ${topic}`)),
      30_000,
    );
    void consumer.run({
      eachMessage: async ({ message }) => {
        messages.push(message);
        if (messages.length >= count) {
          clearTimeout(timer);
          resolve();
        }
      },
    });
  });
  await consumer.disconnect();
  return messages;
}

const text = (headers: IHeaders | undefined, name: string): string | undefined =>
  headers?.[name]?.toString();

describe('a destination that fails', () => {
  it('retries 5xx and 429 (honouring Retry-After), dead-letters 422 and exhausted records, and moves on', async () => {
    const topic = uniqueName('failures');
    const dlq = `${topic}.dlq`;
    const group = uniqueName('failures-group');
    await ensureTopics(admin, [
      { topic, numPartitions: 1, replicationFactor: 1 },
      { topic: dlq, numPartitions: 1, replicationFactor: 1 },
    ]);
    await produceBacklog(kafka, topic, { count: 6, partitions: 1, prefix: 'f' });
    const destination = await startDestination((arrival) => {
      return script[arrival.id]?.[arrival.attempt - 1] ?? { status: 200 };
    });
    const { worker, attemptStarts } = inProcessWorker({
      KAFKA_TOPIC: topic,
      DLQ_TOPIC: dlq,
      DRAIN_GROUP: group,
      RATE_MESSAGES: '10',
      RATE_PERIOD: '1s',
      SINK: 'http',
      SINK_URL: destination.url,
      SINK_MAX_ATTEMPTS: '3',
      SINK_BACKOFF_BASE: '50ms',
      SINK_BACKOFF_MAX: '200ms',
    });
    const metrics = await whileDraining(worker, destination, async () => {
      await destination.until((a) => a.some((x) => x.id === 'f-5' && x.status === 200), 60_000);
      const base = `http://127.0.0.1:${worker.port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      return await (await fetch(`${base}/metrics`)).text();
    });

    const attemptsOf = (id: string) => destination.arrivals.filter((a) => a.id === id);
    // In partition order, each record only once its predecessor was settled.
    expect(destination.arrivals.map((a) => `${a.id}#${a.attempt}:${a.status}`)).toEqual([
      'f-0#1:503',
      'f-0#2:503',
      'f-0#3:200',
      'f-1#1:429',
      'f-1#2:200',
      'f-2#1:422',
      'f-3#1:200',
      'f-4#1:500',
      'f-4#2:500',
      'f-4#3:500',
      'f-5#1:200',
    ]);
    const [throttled, retried] = attemptsOf('f-1');
    expect(retried?.at).toBeGreaterThanOrEqual((throttled?.repliedAt ?? 0) + 2000);
    for (const arrival of destination.arrivals) {
      expect(arrival.headers['idempotency-key']).toBe(arrival.id);
      expect(arrival.headers['x-throttle-id']).toBe(arrival.id);
      expect(arrival.headers['content-type']).toBe('application/json');
      expect(Number(arrival.headers['x-throttle-received-at'])).toBeGreaterThan(0);
    }
    // Every attempt, retries included, was paced: each one has a start in the worker's log.
    expect(attemptStarts()).toHaveLength(11);

    const dead = await readAll(dlq, 2);
    expect(dead.map((m) => text(m.headers, 'id'))).toEqual(['f-2', 'f-4']);
    const [rejected, exhausted] = dead;
    expect(rejected?.value?.toString()).toBe('{"n":2}');
    expect(text(rejected?.headers, 'content-type')).toBe('application/json');
    expect(text(rejected?.headers, 'x-dlq-reason')).toBe('status');
    expect(text(rejected?.headers, 'x-dlq-status')).toBe('422');
    expect(text(rejected?.headers, 'x-dlq-error')).toBe('HTTP 422: {"error":"no such customer"}');
    expect(text(rejected?.headers, 'x-dlq-attempts')).toBe('1');
    expect(text(rejected?.headers, 'x-dlq-source-topic')).toBe(topic);
    expect(text(rejected?.headers, 'x-dlq-source-partition')).toBe('0');
    expect(text(rejected?.headers, 'x-dlq-source-offset')).toBe('2');
    expect(text(exhausted?.headers, 'x-dlq-reason')).toBe('attempts-exhausted');
    expect(text(exhausted?.headers, 'x-dlq-status')).toBe('500');
    expect(text(exhausted?.headers, 'x-dlq-attempts')).toBe('3');
    expect(text(exhausted?.headers, 'x-dlq-source-offset')).toBe('4');

    expect(metrics).toContain('drain_deliveries_total{outcome="delivered"} 4');
    expect(metrics).toContain('drain_deliveries_total{outcome="retried"} 5');
    expect(metrics).toContain('drain_deliveries_total{outcome="dead_lettered"} 2');
    expect(metrics).toContain('drain_attempts_total 11');
    expect(metrics).toContain('drain_assigned_partitions 1');

    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    expect(offsets?.partitions).toEqual([expect.objectContaining({ partition: 0, offset: '6' })]);
  });
});
