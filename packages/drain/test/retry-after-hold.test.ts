import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBrokers, uniqueName } from '../../../test-support/kafka.ts';
import { produceBacklog } from './support/backlog.ts';
import { type Reply, startDestination } from './support/destination.ts';
import { inProcessWorker } from './support/in-process.ts';
import { createTopicPair, recordCount } from './support/topics.ts';

const kafka = new Kafka({
  clientId: 'drain-retry-after-test',
  brokers: testBrokers(),
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

/**
 * Requests already on their way when the 429 was answered may still arrive just after it:
 * at 20 per second a request sent after the worker heard the 429 would arrive far later.
 */
const IN_FLIGHT_MS = 100;

describe('429 with Retry-After', () => {
  it('holds every partition of the worker until the time the destination named', async () => {
    const { topic, dlq } = await createTopicPair(admin, uniqueName('retry-after'), 6);
    await produceBacklog(kafka, topic, { count: 60, partitions: 6, prefix: 'r' });
    let throttledAt: number | undefined;
    const destination = await startDestination((_arrival, arrivals): Reply => {
      if (arrivals.length === 20) {
        throttledAt = performance.timeOrigin + performance.now();
        return { status: 429, headers: { 'retry-after': '2' } };
      }
      return { status: 200 };
    });
    const { worker, logs } = inProcessWorker({
      KAFKA_TOPIC: topic,
      DLQ_TOPIC: dlq,
      DRAIN_GROUP: uniqueName('retry-after-group'),
      RATE_MESSAGES: '20',
      RATE_PERIOD: '1s',
      SINK: 'http',
      SINK_URL: destination.url,
    });
    await worker.start();
    try {
      await destination.until(
        (a) => new Set(a.filter((x) => x.status === 200).map((x) => x.id)).size === 60,
        60_000,
      );
    } finally {
      await worker.stop();
      await destination.close();
    }
    const at = throttledAt ?? 0;
    const during = destination.arrivals.filter((a) => a.at > at + IN_FLIGHT_MS && a.at < at + 2000);
    const after = destination.arrivals.filter((a) => a.at >= at + 2000);
    const partitionsAfter = new Set(after.map((a) => Number(a.id.split('-')[1]) % 6));
    console.log(
      `429 Retry-After 2: ${during.length} arrivals during the hold, first after it ${((after[0]?.at ?? 0) - at).toFixed(1)} ms after the 429, ${partitionsAfter.size} partitions after`,
    );
    expect(during).toEqual([]);
    // Every partition waited, not only the throttled record's.
    expect(partitionsAfter.size).toBe(6);
    expect(logs.filter((l) => l.msg.startsWith('worker held'))).toHaveLength(1);
    expect(await recordCount(admin, dlq)).toBe(0);
  }, 120_000);
});
