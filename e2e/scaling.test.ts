import { afterEach, describe, expect, it } from 'vitest';
import { testBrokers, uniqueName } from '../test-support/kafka.ts';
import { rateWindows, timesText } from '../test-support/window-check.ts';
import { acceptedIds } from './support/client.ts';
import { waitForDeliveries } from './support/deliveries.ts';
import { startDestination } from './support/destination.ts';
import { answerCounts, postBacklog } from './support/load.ts';
import { killAllScripts } from './support/processes.ts';
import { type Service, startService } from './support/services.ts';

// After each attempt, so that a timing test run once more (vitest.config.ts) starts clean.
afterEach(killAllScripts);

// Enough for every step to see its 20 deliveries: at 10 per second a worker's start (a few
// seconds) lets 30 or more go by before the next step counts, and 160 once ran out early.
const REQUESTS = 300;
const RATE_MESSAGES = 10;
const RATE_PERIOD_MS = 1000;

describe('three drain workers started and stopped one by one during a backlog', () => {
  it('keeps the group-wide rate at the destination the whole time', async () => {
    const destination = await startDestination();
    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC: uniqueName('e2e-scaling'),
      KAFKA_PARTITIONS: '6',
      DRAIN_GROUP: uniqueName('e2e-scaling-group'),
      RATE_MESSAGES: String(RATE_MESSAGES),
      RATE_PERIOD: `${RATE_PERIOD_MS}ms`,
      SINK: 'http',
      SINK_URL: destination.url,
    };
    const ingest = await startService('ingest', env);
    const url = `http://127.0.0.1:${ingest.port}/`;
    const answers = await postBacklog(url, REQUESTS);
    const accepted = acceptedIds(answers);
    expect(accepted.length, JSON.stringify(answerCounts(answers))).toBe(REQUESTS);

    const workers: Service[] = [];
    const afterMore = async (count: number, what: string): Promise<void> => {
      const before = destination.arrivals.length;
      await waitForDeliveries(
        what,
        destination,
        () => destination.arrivals.length >= before + count,
        workers,
        90_000,
      );
    };
    for (const name of ['drain-a', 'drain-b', 'drain-c']) {
      workers.push(await startService('drain', env, name));
      await afterMore(20, `20 deliveries after ${name} joined`);
    }
    for (const worker of workers.slice(0, 2)) {
      expect((await worker.stop()).code).toBe(0);
      await afterMore(20, `20 deliveries after ${worker.name} left`);
    }

    await waitForDeliveries(
      `all ${REQUESTS} accepted requests delivered`,
      destination,
      () => accepted.every((id) => destination.ids().has(id)),
      workers,
      120_000,
    );
    const { tightestMs, violations } = rateWindows(
      destination.arrivals.map((a) => a.at),
      RATE_MESSAGES,
      RATE_PERIOD_MS,
    );
    console.log(
      `scaling 1 -> 3 -> 1 workers: ${destination.arrivals.length} deliveries (${destination.duplicates()} duplicates); tightest span of ${RATE_MESSAGES + 1} consecutive arrivals ${tightestMs?.toFixed(1)} ms (promise: >= ${RATE_PERIOD_MS})`,
    );
    expect(violations, timesText(destination.arrivals.map((a) => a.at))).toEqual([]);

    expect((await workers[2]!.stop()).code).toBe(0);
    expect((await ingest.stop()).code).toBe(0);
    await destination.close();
  }, 300_000);
});
