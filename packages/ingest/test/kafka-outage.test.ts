import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort, type RunningBroker, startBroker } from '../../../scripts/kafka/broker.ts';
import { uniqueName } from '../../../test-support/kafka.ts';
import {
  type Answer,
  isReady,
  postRecord,
  type RunningIngest,
  startIngest,
  untilReady,
  waitFor,
} from './support/service-harness.ts';
import { readTopic } from './support/topic-records.ts';

/**
 * Kafka away at start-up, stopped under load, and back: this file runs a broker of its own
 * (the run's shared broker must stay up for the other test files).
 */
const ACK_TIMEOUT_MS = 2000;

describe('ingest while Kafka comes and goes', () => {
  let dir: string;
  let port: number;
  let controllerPort: number;
  let broker: RunningBroker | undefined;
  let ingest: RunningIngest;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'ingest-outage-'));
    port = await freePort();
    controllerPort = await freePort();
    ingest = await startIngest({
      KAFKA_BROKERS: `127.0.0.1:${port}`,
      KAFKA_TOPIC: uniqueName('outage'),
      KAFKA_PARTITIONS: '3',
      INGEST_ACK_TIMEOUT: `${ACK_TIMEOUT_MS}ms`,
    });
  });

  afterAll(async () => {
    await ingest?.service.stop();
    await broker?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps running without Kafka at start, then becomes ready when Kafka appears', async () => {
    expect((await fetch(`${ingest.url}/healthz`)).status).toBe(200);
    const notReady = await fetch(`${ingest.url}/readyz`);
    expect(notReady.status).toBe(503);
    expect(await notReady.json()).toMatchObject({ status: 'not_ready' });
    const refused = await postRecord(ingest.url, 'before-kafka', '{"early":true}');
    expect(refused.status).toBe(503);
    expect(refused.json.error?.code).toBe('kafka_unavailable');
    expect(Number(refused.retryAfter)).toBeGreaterThan(0);

    broker = await startBroker({ dir, port, controllerPort });
    await untilReady(ingest.url, 90_000, 'readyz 200 once Kafka is up');
    const accepted = await postRecord(ingest.url, 'after-kafka', '{"early":false}');
    expect(accepted.status).toBe(202);
  });

  it('answers 503 while the broker is down, 202 again once it is back, and every 202 is in Kafka', async () => {
    const answers: Answer[] = [];
    let longestMs = 0;
    let sequence = 0;
    let running = true;
    // Eight clients posting back to back through the whole outage. A request that hung would
    // fail the test through its fetch timeout, far beyond the ack timeout.
    const clients = Array.from({ length: 8 }, async (_, client) => {
      while (running) {
        const id = `c${client}-${sequence++}`;
        const started = Date.now();
        answers.push(
          await postRecord(ingest.url, id, JSON.stringify({ id }), {}, ACK_TIMEOUT_MS + 20_000),
        );
        longestMs = Math.max(longestMs, Date.now() - started);
      }
    });
    const count = (status: number): number => answers.filter((a) => a.status === status).length;

    await waitFor(() => count(202) >= 50, 60_000, '50 records accepted before the outage');
    await broker?.stop();
    const acceptedBeforeOutage = count(202);
    await waitFor(() => count(503) >= 20, 60_000, '503 answers while Kafka is down');
    await waitFor(async () => !(await isReady(ingest.url)), 60_000, 'readyz 503');

    broker = await startBroker({ dir, port, controllerPort });
    await waitFor(
      () => count(202) >= acceptedBeforeOutage + 50,
      120_000,
      '202 answers again after Kafka returned',
    );
    running = false;
    await Promise.all(clients);
    await untilReady(ingest.url, 60_000, 'readyz 200 after Kafka returned');

    for (const answer of answers) {
      expect([202, 503]).toContain(answer.status);
      if (answer.status === 503) {
        expect(answer.json.error?.code).toBe('kafka_unavailable');
        expect(Number(answer.retryAfter)).toBeGreaterThan(0);
      }
    }

    const kafka = new Kafka({
      clientId: 'outage-reader',
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
    });
    const records = await readTopic(kafka, ingest.topic);
    const stored = new Map<string, typeof records>();
    for (const record of records) {
      const id = record.headers.id ?? '';
      stored.set(id, [...(stored.get(id) ?? []), record]);
    }
    const accepted = answers.filter((a) => a.status === 202);
    for (const answer of accepted) {
      const copies = stored.get(answer.id) ?? [];
      // Nothing answered 202 is missing, duplicated or somewhere else than its 202 said.
      expect(copies, `record ${answer.id}`).toHaveLength(1);
      expect({ partition: copies[0]?.partition, offset: copies[0]?.offset }).toEqual({
        partition: answer.json.partition,
        offset: answer.json.offset,
      });
      expect(copies[0]?.value).toBe(answer.body);
    }
    console.log(
      `outage: ${accepted.length} accepted, ${count(503)} refused with 503, ` +
        `${records.length} records in Kafka, slowest answer ${longestMs} ms (ack timeout ${ACK_TIMEOUT_MS} ms)`,
    );
    await sleep(0);
  });

  it('answers 503 at the ack timeout while the broker hangs, and 202 again once it wakes up', async () => {
    const pid = broker?.pid as number;
    const hung: Answer[] = [];
    process.kill(pid, 'SIGSTOP');
    try {
      // A frozen broker accepts connections but answers nothing: only the ack timeout helps.
      const started = Date.now();
      hung.push(
        ...(await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            postRecord(ingest.url, `hung-${i}`, `{"hung":${i}}`, {}, ACK_TIMEOUT_MS + 20_000),
          ),
        )),
      );
      console.log(`hung broker: 10 answers in ${Date.now() - started} ms`);
      await waitFor(async () => !(await isReady(ingest.url)), 60_000, 'readyz 503');
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    for (const answer of hung) {
      expect(answer.status).toBe(503);
      expect(answer.json.error?.code).toBe('kafka_unavailable');
    }

    let after: Answer | undefined;
    await waitFor(
      async () => {
        after = await postRecord(ingest.url, uniqueName('woken'), '{"woken":true}');
        return after.status === 202;
      },
      120_000,
      '202 after the broker woke up',
    );
    await untilReady(ingest.url, 60_000, 'readyz 200');
    const kafka = new Kafka({
      clientId: 'hang-reader',
      brokers: [`127.0.0.1:${port}`],
      logLevel: logLevel.NOTHING,
    });
    const records = await readTopic(kafka, ingest.topic);
    const stored = records.filter((r) => r.headers.id === after?.id);
    expect(stored.map((r) => ({ partition: r.partition, offset: r.offset }))).toEqual([
      { partition: after?.json.partition, offset: after?.json.offset },
    ]);
  });
});
