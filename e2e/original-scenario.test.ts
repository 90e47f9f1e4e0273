import { afterEach, describe, expect, it } from 'vitest';
import { testBrokers, uniqueName } from '../test-support/kafka.ts';
import { rateWindows, timesText } from '../test-support/window-check.ts';
import { waitForDeliveries } from './support/deliveries.ts';
import { startDestination } from './support/destination.ts';
import { killAllScripts, runScript } from './support/processes.ts';
import { startService } from './support/services.ts';

// After each attempt, so that a timing test run once more (vitest.config.ts) starts clean.
afterEach(killAllScripts);

describe('the original scenario, end to end', () => {
  it('delivers 100 POSTs of {"number": i} all, in order, at 5 per 500 ms', async () => {
    const destination = await startDestination();
    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC: uniqueName('e2e-original'),
      KAFKA_PARTITIONS: '1',
      DRAIN_GROUP: uniqueName('e2e-original-group'),
      RATE_MESSAGES: '5',
      RATE_PERIOD: '500ms',
      SINK: 'http',
      SINK_URL: destination.url,
    };
    const ingest = await startService('ingest', env);
    const drain = await startService('drain', env);

    // What `make bombard_server` did, as a user runs it now: one request after the other.
    const bombard = runScript(
      'bombard',
      'bombard',
      ['--count=100', '--concurrency=1', `--url=http://127.0.0.1:${ingest.port}/`],
      {},
    );
    const bombardExit = await bombard.exited;
    expect(bombard.lines.join('\n')).toMatch(/accepted \(2xx\)\s+100/);
    expect(bombardExit.code).toBe(0);

    await waitForDeliveries(
      '100 deliveries',
      destination,
      () => destination.ids().size >= 100,
      [ingest, drain],
      120_000,
    );
    const numbers = destination.arrivals.map(
      (a) => (JSON.parse(a.body) as { number: number }).number,
    );
    expect(numbers).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(destination.duplicates()).toBe(0);

    const { tightestMs, violations } = rateWindows(
      destination.arrivals.map((a) => a.at),
      5,
      500,
    );
    console.log(
      `original scenario: 100 delivered in order; tightest span of 6 consecutive arrivals ${tightestMs?.toFixed(1)} ms (promise: >= 500)`,
    );
    expect(violations, timesText(destination.arrivals.map((a) => a.at))).toEqual([]);

    expect((await drain.stop()).code).toBe(0);
    expect((await ingest.stop()).code).toBe(0);
    await destination.close();
  }, 180_000);
});
