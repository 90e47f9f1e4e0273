import { describe, expect, it } from 'vitest';
import { drainTestKafka } from './support/backlog.ts';
import { startDestination } from './support/destination.ts';
import { metric } from './support/metrics-text.ts';
import { spawnWorker, workerEnv } from './support/worker-process.ts';

const { backlog } = drainTestKafka('drain-metrics-test');

/** More than a partition's queue holds (its high water mark, 60 at this rate): some wait in Kafka. */
const COUNT = 200;
const PARTITIONS = 2;

describe('the metrics the README tells operators to watch', () => {
  it('exist on a drain worker and move with what it does', async () => {
    const { env: names, produced } = await backlog('metrics', {
      count: COUNT,
      partitions: PARTITIONS,
    });
    // m-3 is refused for good (dead-lettered at once); m-5 fails once, then is taken.
    const destination = await startDestination((arrival) => {
      if (arrival.id === 'm-3') return { status: 400 };
      if (arrival.id === 'm-5' && arrival.attempt === 1) return { status: 503 };
      return { status: 200 };
    });
    const worker = spawnWorker(
      'metrics',
      workerEnv({ ...names, ...destination.sinkEnv, RATE_MESSAGES: '20', RATE_PERIOD: '1s' }),
    );
    try {
      const listening = await worker.waitForLog('drain worker listening', 60_000);
      const scrape = async () =>
        (await fetch(`http://127.0.0.1:${listening.fields.port}/metrics`)).text();
      await worker.waitForLog('partitions assigned', 60_000);
      await destination.until((a) => a.length >= 5, 60_000);
      // Mid-backlog: lag is high, and partitions whose queue is full wait paused at the consumer.
      const during = await scrape();
      let held = during;
      const deadline = Date.now() + 30_000;
      while ((metric(held, 'drain_paused_partitions') ?? 0) === 0 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        held = await scrape();
      }
      await destination.until((a) => new Set(a.map((x) => x.id)).size >= COUNT, 90_000);
      // The last commit and gauges settle just after the last delivery.
      let after = await scrape();
      const settle = Date.now() + 30_000;
      while ((metric(after, 'drain_partition_lag') ?? 1) > 0 && Date.now() < settle) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        after = await scrape();
      }

      const figures = {
        lagDuring: metric(during, 'drain_partition_lag'),
        lagAfter: metric(after, 'drain_partition_lag'),
        pausedDuring: metric(held, 'drain_paused_partitions'),
        delivered: metric(after, 'drain_deliveries_total', { outcome: 'delivered' }),
        retried: metric(after, 'drain_deliveries_total', { outcome: 'retried' }),
        deadLettered: metric(after, 'drain_deliveries_total', { outcome: 'dead_lettered' }),
        deadLetters: metric(after, 'drain_dead_letters_total'),
        share: metric(after, 'drain_share_per_period'),
        assigned: metric(after, 'drain_assigned_partitions'),
        attempts: metric(after, 'drain_attempts_total'),
        commits: metric(after, 'drain_offset_commits_total', { result: 'ok' }),
      };
      console.log(`metrics test: ${JSON.stringify(figures)}`);
      expect(figures.lagDuring).toBeGreaterThan(0);
      expect(figures.lagAfter).toBe(0);
      expect(figures.pausedDuring).toBeGreaterThan(0);
      expect(metric(held, 'drain_partition_paused')).toBeGreaterThan(0);
      expect(metric(held, 'drain_queue_depth')).toBeGreaterThan(0);
      expect(figures.delivered).toBe(COUNT - 1);
      expect(figures.retried).toBe(1);
      expect(figures.deadLettered).toBe(1);
      expect(figures.deadLetters).toBe(1);
      expect(metric(after, 'drain_dead_letters_total', { reason: 'status' })).toBe(1);
      expect(figures.share).toBeCloseTo(20, 6);
      expect(figures.assigned).toBe(PARTITIONS);
      expect(figures.attempts).toBe(destination.arrivals.length);
      expect(figures.commits).toBeGreaterThan(0);
      expect(destination.uniqueIds()).toEqual(new Set(produced.map((p) => p.id)));
      worker.terminate();
      expect(await worker.exited).toBe(0);
    } finally {
      worker.signal('SIGKILL');
      await destination.close();
    }
  }, 300_000);
});
