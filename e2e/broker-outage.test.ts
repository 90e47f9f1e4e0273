import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort, type RunningBroker, startBroker } from '../scripts/kafka/broker.ts';
import { uniqueName } from '../test-support/kafka.ts';
import { acceptedIds } from './support/client.ts';
import { waitForDeliveries } from './support/deliveries.ts';
import { startDestination } from './support/destination.ts';
import { answerCounts, startLoad } from './support/load.ts';
import { killAllScripts } from './support/processes.ts';
import { startService } from './support/services.ts';
import { sleep, waitUntil } from './support/wait.ts';

let broker: RunningBroker | undefined;
let dir: string | undefined;

afterAll(async () => {
  await killAllScripts();
  await broker?.stop();
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('the broker stopped and restarted while requests keep coming', () => {
  it('answers 202 or 503, delivers every 202, and ingest and drain recover on their own', async () => {
    // Its own broker: stopping the run's shared one would break every other test.
    dir = await mkdtemp(join(tmpdir(), 'kafka-throttle-e2e-outage-'));
    const options = { dir, port: await freePort(), controllerPort: await freePort() };
    broker = await startBroker(options);

    const destination = await startDestination();
    const env = {
      KAFKA_BROKERS: broker.bootstrap,
      KAFKA_TOPIC: uniqueName('e2e-outage'),
      KAFKA_PARTITIONS: '2',
      DRAIN_GROUP: uniqueName('e2e-outage-group'),
      RATE_MESSAGES: '20',
      RATE_PERIOD: '500ms',
      INGEST_ACK_TIMEOUT: '2s',
      SINK: 'http',
      SINK_URL: destination.url,
    };
    const ingest = await startService('ingest', env);
    const drain = await startService('drain', env);
    const url = `http://127.0.0.1:${ingest.port}/`;

    const load = startLoad(() => url, { clients: 2, pauseMs: 100, timeoutMs: 30_000 });
    await waitUntil('20 requests accepted before the outage', () => load.accepted() >= 20, 60_000);

    await broker.stop();
    const answersAtStop = load.answers.length;
    await sleep(6000);
    const during = answerCounts(load.answers.slice(answersAtStop));

    broker = await startBroker(options);
    const acceptedAtRestart = load.accepted();
    await waitUntil(
      '20 more requests accepted after the restart',
      () => load.accepted() >= acceptedAtRestart + 20,
      120_000,
    );
    await load.stop();

    const counts = answerCounts(load.answers);
    const accepted = acceptedIds(load.answers);
    await waitForDeliveries(
      `all ${accepted.length} accepted requests delivered`,
      destination,
      () => accepted.every((id) => destination.ids().has(id)),
      [ingest, drain],
      120_000,
    );
    console.log(
      `broker outage: answers ${JSON.stringify(counts)} (during the outage ${JSON.stringify(during)}); ${accepted.length} accepted, all delivered; ${destination.duplicates()} duplicates`,
    );
    expect(Object.keys(counts).sort()).toEqual(
      Object.keys(counts)
        .filter((k) => k === '202' || k === '503')
        .sort(),
    );
    expect(during['503'] ?? 0).toBeGreaterThan(0);
    expect(ingest.exit).toBeUndefined();
    expect(drain.exit).toBeUndefined();

    expect((await drain.stop()).code).toBe(0);
    expect((await ingest.stop()).code).toBe(0);
    await destination.close();
  }, 300_000);
});
