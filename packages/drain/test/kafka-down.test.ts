import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  freePort,
  isAlive,
  type RunningBroker,
  startBroker,
} from '../../../scripts/kafka/broker.ts';
import { produceBacklog } from './support/backlog.ts';
import { startDestination } from './support/destination.ts';
import { spawnWorker, workerEnv } from './support/worker-process.ts';

/** Polls `url` until it answers `status`; resolves with the JSON body of that answer. */
async function untilStatus(
  url: string,
  status: number,
  timeoutMs: number,
): Promise<{ body: unknown }> {
  const deadline = Date.now() + timeoutMs;
  let last = 0;
  while (Date.now() < deadline) {
    const response = await fetch(url);
    last = response.status;
    const body: unknown = await response.json();
    if (last === status) return { body };
    await sleep(200);
  }
  throw new Error(`${url} still answered ${last}, not ${status}, after ${timeoutMs} ms`);
}

describe('a worker started while Kafka is unreachable', () => {
  it('keeps trying, delivers once Kafka appears, is not ready while a killed broker is away, and loses nothing', async () => {
    // A port nothing listens on yet; a broker of this test's own is started on it later.
    const port = await freePort();
    const controllerPort = await freePort();
    const dir = await mkdtemp(join(tmpdir(), 'kafka-throttle-late-broker-'));
    const destination = await startDestination();
    const topic = 'late';
    const worker = spawnWorker(
      'no-kafka',
      workerEnv({
        KAFKA_BROKERS: `127.0.0.1:${port}`,
        KAFKA_TOPIC: topic,
        KAFKA_PARTITIONS: '1',
        RATE_MESSAGES: '10',
        RATE_PERIOD: '1s',
        SINK: 'http',
        SINK_URL: destination.url,
      }),
    );
    let broker: RunningBroker | undefined;
    try {
      const listening = await worker.waitForLog('drain worker listening', 60_000);
      const base = `http://127.0.0.1:${listening.fields.port}`;
      const retrying = 'could not start consuming; retrying';
      const firstRetry = await worker.waitForLog(retrying, 60_000);
      const ready = await fetch(`${base}/readyz`);
      expect(ready.status).toBe(503);
      expect(await ready.json()).toEqual({
        error: { code: 'not_ready', message: expect.stringMatching(/Kafka unreachable/) },
      });
      // It does not give up: it tries again, later, and is still serving its health checks.
      const again = await worker.waitForLog(retrying, 60_000, firstRetry.at + 1);
      expect(Number(again.fields.attempt)).toBeGreaterThan(Number(firstRetry.fields.attempt));
      expect((await fetch(`${base}/healthz`)).status).toBe(200);

      broker = await startBroker({ dir, port, controllerPort }, { readyTimeoutMs: 240_000 });
      const kafka = new Kafka({
        clientId: 'drain-late-kafka-test',
        brokers: [broker.bootstrap],
        logLevel: logLevel.NOTHING,
      });
      await worker.waitForLog('partitions assigned', 120_000);
      const produced = await produceBacklog(kafka, topic, { count: 3, partitions: 1 });
      await destination.until((a) => a.length >= produced.length, 60_000);
      expect(destination.arrivals.map((a) => a.id)).toEqual(produced.map((p) => p.id));
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      const retriesBefore = worker.lines.filter((l) => l.msg === retrying).length;

      // An outage while it runs: the broker killed with SIGKILL, no clean shutdown.
      const killedAt = Date.now();
      process.kill(broker.pid, 'SIGKILL');
      while (isAlive(broker.pid)) await sleep(50);
      const notReady = await untilStatus(`${base}/readyz`, 503, 120_000);
      expect(notReady.body).toMatchObject({ error: { code: 'not_ready' } });
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const noticedMs = Date.now() - killedAt;
      broker = await startBroker({ dir, port, controllerPort }, { readyTimeoutMs: 240_000 });
      await untilStatus(`${base}/readyz`, 200, 120_000);
      const more = await produceBacklog(kafka, topic, { count: 3, partitions: 1, start: 3 });
      await destination.until((a) => a.length >= produced.length + more.length, 120_000);
      // Nothing lost and nothing out of order on the one partition, across the kill.
      expect(destination.arrivals.map((a) => a.id)).toEqual(
        [...produced, ...more].map((p) => p.id),
      );
      console.log(
        `kafka-down test: ${retriesBefore} retries logged before Kafka appeared; not ready ${noticedMs} ms after the broker was killed`,
      );
      worker.terminate();
      expect(await worker.exited).toBe(0);
    } finally {
      worker.signal('SIGKILL');
      await broker?.stop();
      await destination.close();
      await rm(dir, { recursive: true, force: true });
    }
  }, 600_000);
});
