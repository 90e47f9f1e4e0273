import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testKafka, uniqueName } from '../../../test-support/kafka.ts';
import { systemClock } from '../src/clock.ts';
import { loadConfig } from '../src/config.ts';
import { createControlFollower } from '../src/control/control-follower.ts';
import { createCountsReporter } from '../src/control/counts-reporter.ts';
import type { WorkerReport } from '../src/control/delivery-counts.ts';
import { configuredTopics, ensureTopics } from '../src/kafka.ts';
import { createLogger } from '../src/logger.ts';

const kafka = testKafka('control-counts-test');
const admin = kafka.admin();
const logger = createLogger({ level: 'silent', name: 'control-counts-test' });

beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

async function until(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`not seen within ${timeoutMs} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('delivery counts in the control topic', () => {
  it('are summed over workers by a follower, change no state, and outlive a stopped worker', async () => {
    const topic = uniqueName('counts');
    const config = loadConfig({ env: { KAFKA_TOPIC: topic } });
    await ensureTopics(admin, configuredTopics(config));
    const follower = createControlFollower({
      kafka,
      config,
      logger,
      clock: systemClock,
      role: 'test',
    });
    let changes = 0;
    follower.onChange(() => changes++);
    const a: WorkerReport = { delivered: 0, retried: 0, deadLettered: 0 };
    const b: WorkerReport = { delivered: 0, retried: 0, deadLettered: 0 };
    const reporters = [a, b].map((counts, i) =>
      createCountsReporter({
        worker: `worker-${i}`,
        kafka,
        topic,
        read: () => ({ ...counts }),
        clock: systemClock,
        logger,
        intervalMs: 100,
      }),
    );
    await follower.start();
    try {
      for (const reporter of reporters) reporter.start();
      Object.assign(a, { delivered: 7, retried: 2, deadLettered: 1 });
      Object.assign(b, { delivered: 3, retried: 1, deadLettered: 0 });
      await until('both workers counted', () => follower.counts().delivered === 10);
      expect(follower.counts()).toEqual({ delivered: 10, retried: 3, deadLettered: 1 });
      expect(follower.openBreakers()).toEqual([]);

      // An open breaker is written even with no count changed, and named by its worker.
      b.breaker = { reason: 'HTTP 503', since: Date.now() };
      await until('the open breaker read', () => follower.openBreakers().length === 1);
      expect(follower.openBreakers()).toEqual([{ worker: 'worker-1', ...b.breaker }]);
      delete b.breaker;
      await until('the breaker closed', () => follower.openBreakers().length === 0);

      // A stop writes the last counts before its tombstone: nothing it did is lost from the sum.
      a.retried = 5;
      await reporters[0]?.stop();
      b.delivered = 4;
      await until('the other worker counted again', () => follower.counts().delivered === 11);
      expect(follower.counts()).toEqual({ delivered: 11, retried: 6, deadLettered: 1 });
      expect(follower.current().source).toBe('config');
      expect(changes).toBe(0);
    } finally {
      await reporters[1]?.stop();
      await follower.stop();
    }
  }, 60_000);
});
