import { afterEach, describe, expect, it } from 'vitest';
import { testKafka, uniqueName } from '../../../test-support/kafka.ts';
import { postRecord, type RunningIngest, startReadyIngest } from './support/service-harness.ts';
import { readTopic } from './support/topic-records.ts';

const kafka = testKafka('ingest-size-test');
const running: RunningIngest[] = [];

afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.service.stop()));
});

async function ready(env: Record<string, string>): Promise<RunningIngest> {
  const ingest = await startReadyIngest(env);
  running.push(ingest);
  return ingest;
}

async function producersCreated(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  return Number(/^ingest_producers_created_total (\d+)$/m.exec(text)?.[1]);
}

const bodyOf = (bytes: number): string => JSON.stringify({ pad: 'x'.repeat(bytes - 10) });

describe('a body limit above what Kafka takes', () => {
  it("answers 413, never 503, for a record over the broker's message.max.bytes, keeping its producer", async () => {
    // The broker's default message.max.bytes is 1048588.
    const ingest = await ready({
      KAFKA_TOPIC: uniqueName('size'),
      INGEST_MAX_BODY_BYTES: '3000000',
    });
    const created = await producersCreated(ingest.url);
    const big = await postRecord(ingest.url, 'too-big', bodyOf(1_500_000));
    expect(big.status).toBe(413);
    expect(big.json.error?.code).toBe('body_too_large');
    expect(big.retryAfter).toBeNull();
    const fine = await postRecord(ingest.url, 'fits', bodyOf(900_000));
    expect(fine.status).toBe(202);
    expect(await producersCreated(ingest.url)).toBe(created);
    const stored = await readTopic(kafka, ingest.topic);
    expect(stored.map((r) => r.headers.id)).toEqual(['fits']);
  });

  it("follows the topic's own max.message.bytes", async () => {
    const topic = uniqueName('small-topic');
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({
        topics: [
          {
            topic,
            numPartitions: 1,
            configEntries: [{ name: 'max.message.bytes', value: '100000' }],
          },
        ],
      });
    } finally {
      await admin.disconnect();
    }
    const ingest = await ready({ KAFKA_TOPIC: topic });
    const big = await postRecord(ingest.url, 'over-topic-limit', bodyOf(150_000));
    expect(big.status).toBe(413);
    expect(big.json.error?.code).toBe('body_too_large');
    // Many records that each fit, sent together, are split into requests that fit.
    const answers = await Promise.all(
      Array.from({ length: 8 }, (_, i) => postRecord(ingest.url, `part-${i}`, bodyOf(40_000))),
    );
    expect(answers.map((a) => a.status)).toEqual(answers.map(() => 202));
  });
});
