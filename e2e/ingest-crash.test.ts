import { afterAll, describe, expect, it } from 'vitest';
import { testBrokers, uniqueName } from '../test-support/kafka.ts';
import { acceptedIds } from './support/client.ts';
import { waitForDeliveries } from './support/deliveries.ts';
import { startDestination } from './support/destination.ts';
import { answerCounts, startLoad } from './support/load.ts';
import { killAllScripts } from './support/processes.ts';
import { startService } from './support/services.ts';
import { waitUntil } from './support/wait.ts';

afterAll(killAllScripts);

describe('ingest killed with SIGKILL under load', () => {
  it('delivers every request it answered 202 before dying', async () => {
    const destination = await startDestination();
    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC: uniqueName('e2e-ingest-crash'),
      KAFKA_PARTITIONS: '3',
      DRAIN_GROUP: uniqueName('e2e-ingest-crash-group'),
      RATE_MESSAGES: '50',
      RATE_PERIOD: '500ms',
      SINK: 'http',
      SINK_URL: destination.url,
    };
    const ingest = await startService('ingest', env);
    const drain = await startService('drain', env);
    const url = `http://127.0.0.1:${ingest.port}/`;

    const load = startLoad(() => url, { clients: 8, pauseMs: 0, timeoutMs: 10_000 });
    await waitUntil('80 requests accepted under load', () => load.accepted() >= 80, 60_000);
    await ingest.kill();
    await load.stop();

    const accepted = acceptedIds(load.answers);
    const counts = answerCounts(load.answers);
    await waitForDeliveries(
      `all ${accepted.length} accepted requests delivered`,
      destination,
      () => accepted.every((id) => destination.ids().has(id)),
      [ingest, drain],
      120_000,
    );
    const acceptedSet = new Set(accepted);
    const unanswered = [...destination.ids()].filter((id) => !acceptedSet.has(id)).length;
    console.log(
      `ingest SIGKILL: answers ${JSON.stringify(counts)}; ${accepted.length} accepted, all delivered; ${destination.duplicates()} duplicates; ${unanswered} delivered that the client never saw answered`,
    );
    expect(Object.keys(counts).every((key) => key === '202' || !/^\d+$/.test(key))).toBe(true);

    expect((await drain.stop()).code).toBe(0);
    await destination.close();
  }, 180_000);
});
