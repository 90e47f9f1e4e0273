import { afterAll, describe, expect, it } from 'vitest';
import { testBrokers, uniqueName } from '../test-support/kafka.ts';
import { acceptedIds } from './support/client.ts';
import { waitForDeliveries } from './support/deliveries.ts';
import { startDestination } from './support/destination.ts';
import { answerCounts, postBacklog } from './support/load.ts';
import { killAllScripts } from './support/processes.ts';
import { startService } from './support/services.ts';

afterAll(killAllScripts);

const REQUESTS = 150;
const KILLS = 3;

describe('a drain worker killed with SIGKILL during a backlog', () => {
  it('delivers every request that got a 202, counting the duplicates', async () => {
    const destination = await startDestination();
    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC: uniqueName('e2e-drain-crash'),
      KAFKA_PARTITIONS: '3',
      DRAIN_GROUP: uniqueName('e2e-drain-crash-group'),
      RATE_MESSAGES: '20',
      RATE_PERIOD: '500ms',
      SINK: 'http',
      SINK_URL: destination.url,
    };
    const ingest = await startService('ingest', env);
    const url = `http://127.0.0.1:${ingest.port}/`;

    // The backlog: every request is in Kafka before the first worker starts.
    const answers = await postBacklog(url, REQUESTS);
    const accepted = acceptedIds(answers);
    expect(accepted.length, JSON.stringify(answerCounts(answers))).toBe(REQUESTS);

    let drain = await startService('drain', env, 'drain-1');
    const seen = [ingest, drain];
    for (let kill = 1; kill <= KILLS; kill++) {
      const before = destination.arrivals.length;
      await waitForDeliveries(
        `15 more deliveries before kill ${kill}`,
        destination,
        () => destination.arrivals.length >= before + 15,
        seen,
        90_000,
      );
      const exit = await drain.kill();
      expect(exit.signal ?? exit.code).not.toBe(0);
      drain = await startService('drain', env, `drain-${kill + 1}`);
      seen.push(drain);
    }

    await waitForDeliveries(
      `all ${REQUESTS} accepted requests delivered`,
      destination,
      () => accepted.every((id) => destination.ids().has(id)),
      seen,
      180_000,
    );
    const duplicates = destination.duplicates();
    console.log(
      `drain SIGKILL x${KILLS}: ${accepted.length} accepted, ${destination.ids().size} distinct delivered, ${destination.arrivals.length} deliveries, ${duplicates} duplicates`,
    );
    expect(new Set(accepted)).toEqual(destination.ids());

    expect((await drain.stop()).code).toBe(0);
    expect((await ingest.stop()).code).toBe(0);
    await destination.close();
  }, 300_000);
});
