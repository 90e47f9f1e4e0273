import { afterEach, describe, expect, it } from 'vitest';
import { testBrokers, uniqueName } from '../test-support/kafka.ts';
import { maxInWindow, timesText } from '../test-support/window-check.ts';
import { acceptedIds } from './support/client.ts';
import { waitForDeliveries } from './support/deliveries.ts';
import { startDestination } from './support/destination.ts';
import { postBacklog } from './support/load.ts';
import { killAllScripts } from './support/processes.ts';
import { type Service, startService } from './support/services.ts';

// After each attempt, so that a timing test run once more (vitest.config.ts) starts clean.
afterEach(killAllScripts);

const N = 10;
const PERIOD = 1000;
const COUNT = 60;

/** Start times (epoch ms) of the attempts a drain logged at debug level. */
function starts(drains: readonly Service[]): number[] {
  return drains
    .flatMap((d) => d.entries.filter((e) => e.msg === 'attempt').map((e) => Number(e.startedAt)))
    .sort((a, b) => a - b);
}

describe('RATE_BURST=1 end to end', () => {
  it('two workers space the starts period / N apart, never in a burst, and no window holds more than N', async () => {
    const destination = await startDestination();
    const env = {
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC: uniqueName('e2e-burst-one'),
      KAFKA_PARTITIONS: '4',
      DRAIN_GROUP: uniqueName('e2e-burst-one-group'),
      RATE_MESSAGES: String(N),
      RATE_PERIOD: `${PERIOD}ms`,
      RATE_BURST: '1',
      SINK: 'http',
      SINK_URL: destination.url,
    };
    const ingest = await startService('ingest', env);
    const accepted = acceptedIds(await postBacklog(`http://127.0.0.1:${ingest.port}/`, COUNT));
    expect(accepted).toHaveLength(COUNT);
    // The backlog waits first, so the workers start on a full queue: a burst would show at once.
    const drains = [
      await startService('drain', { ...env, LOG_LEVEL: 'debug' }, 'drain-a'),
      await startService('drain', { ...env, LOG_LEVEL: 'debug' }, 'drain-b'),
    ];
    await waitForDeliveries(
      `all ${COUNT} delivered`,
      destination,
      () => accepted.every((id) => destination.ids().has(id)),
      [ingest, ...drains],
      120_000,
    );
    // Stopped first: a worker logs an attempt when it ends, which may come after its arrival.
    for (const drain of drains) expect((await drain.stop()).code).toBe(0);
    const started = starts(drains);
    const arrivals = destination.arrivals.map((a) => a.at).sort((a, b) => a - b);
    const spacing = PERIOD / N;
    const gaps = started.slice(1).map((t, i) => t - (started[i] as number));
    const median = [...gaps].sort((a, b) => a - b)[Math.floor(gaps.length / 2)] as number;
    console.log(
      `burst 1: ${started.length} starts by ${drains.length} workers, median gap ${median.toFixed(1)} ms (spacing ${spacing} ms), busiest period ${maxInWindow(arrivals, PERIOD)} arrivals`,
    );
    expect(started.length).toBeGreaterThanOrEqual(COUNT);
    // Even: the typical gap is the spacing itself, not a burst followed by a long wait, and no
    // three starts share half a spacing (a burst of N would put N there). Two may: a partition
    // handed to a worker pays its first use one grid period after the assignment, often late
    // in its slot and so near the next lane's, and wins its place back a little each period.
    expect(maxInWindow(started, spacing / 2), timesText(started, 'starts')).toBeLessThanOrEqual(2);
    expect(median).toBeGreaterThanOrEqual(spacing);
    expect(median).toBeLessThan(1.5 * spacing);
    // The promise at the destination, with the defaults.
    expect(maxInWindow(arrivals, PERIOD), timesText(arrivals)).toBeLessThanOrEqual(N);

    expect((await ingest.stop()).code).toBe(0);
    await destination.close();
  }, 240_000);
});
