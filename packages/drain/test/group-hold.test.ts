import { configuredTopics, ensureTopics, loadConfig } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import { testKafkaWithAdmin, uniqueName } from '../../../test-support/kafka.ts';
import { produceBacklog } from './support/backlog.ts';
import { type Arrival, startDestination } from './support/destination.ts';
import { inProcessWorker, type StartedWorker } from './support/in-process.ts';

const { kafka, admin } = testKafkaWithAdmin('group-hold-test');

const HOLD_MS = 3000;

describe('a destination that answers 429 with Retry-After to one request', () => {
  it('holds every worker of the group until the time it asked for', async () => {
    const topic = uniqueName('hold');
    const env = {
      KAFKA_TOPIC: topic,
      KAFKA_PARTITIONS: '6',
      DRAIN_GROUP: uniqueName('hold-group'),
      RATE_MESSAGES: '20',
      RATE_PERIOD: '1s',
    };
    await ensureTopics(admin, configuredTopics(loadConfig({ env })));
    await produceBacklog(kafka, topic, { count: 400, partitions: 6 });
    let refused: Arrival | undefined;
    const destination = await startDestination((arrival, arrivals) => {
      if (refused === undefined && arrivals.length >= 40) {
        refused = arrival;
        return { status: 429, headers: { 'retry-after': String(HOLD_MS / 1000) } };
      }
      return { status: 200 };
    });
    const workers: StartedWorker[] = ['a', 'b', 'c'].map(() =>
      inProcessWorker({ ...env, SINK: 'http', SINK_URL: destination.url }),
    );
    try {
      await Promise.all(workers.map((w) => w.worker.start()));
      await destination.until(() => refused !== undefined, 90_000);
      const answeredAt = refused!.repliedAt;
      await destination.until(
        (arrivals) => arrivals.some((a) => a.at > answeredAt + HOLD_MS + 500),
        30_000,
      );

      // When each worker applied the hold, after the 429 was answered.
      const appliedAt = workers.map((w) => {
        const line = w.logs.find(
          (l) => l.msg === 'control state applied' && String(l.change).includes('hold'),
        );
        return line ? Date.parse(String(line.time)) : Number.NaN;
      });
      const propagation = appliedAt.map((t) => t - answeredAt);
      console.log(
        `group hold applied ${propagation.map((p) => `${p} ms`).join(', ')} after the 429`,
      );
      for (const ms of propagation) expect(ms).toBeLessThan(1000);

      // No worker started an attempt from the moment it applied the hold until the hold ended.
      workers.forEach((w, i) => {
        const during = w
          .attemptStarts()
          .filter((t) => t >= (appliedAt[i] as number) + 1 && t < answeredAt + HOLD_MS);
        expect(during, `worker ${i}`).toEqual([]);
      });
      const latest = Math.max(...appliedAt);
      const arrivedDuring = destination
        .times()
        .filter((t) => t > latest + 100 && t < answeredAt + HOLD_MS);
      expect(arrivedDuring).toEqual([]);
      const startsDuring = workers
        .flatMap((w) => w.attemptStarts())
        .filter((t) => t > answeredAt && t < answeredAt + HOLD_MS);
      console.log(`attempts started in the ${HOLD_MS} ms after the 429: ${startsDuring.length}`);
    } finally {
      await Promise.all(workers.map((w) => w.worker.stop()));
      await destination.close();
    }
  });
});
