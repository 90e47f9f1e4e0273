import { ensureTopics } from '@kafka-throttle/common';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testBrokers, uniqueName } from '../../../test-support/kafka.ts';
import { maxInWindow } from '../../../test-support/window-check.ts';
import { produceBacklog } from './support/backlog.ts';
import { startDestination } from './support/destination.ts';
import { attemptStarts, spawnWorker, workerEnv } from './support/worker-process.ts';

const kafka = new Kafka({
  clientId: 'drain-crash-test',
  brokers: testBrokers(),
  logLevel: logLevel.NOTHING,
});
const admin = kafka.admin();
beforeAll(() => admin.connect());
afterAll(() => admin.disconnect());

const PARTITIONS = 3;
const COUNT = 150;
/** Longer than any offset commit round trip here (a few ms; tens under load). */
const COMMIT_WINDOW_MS = 500;
/** Longer than a request in flight at the kill takes to arrive. */
const IN_FLIGHT_MS = 1000;

describe('a worker killed with SIGKILL mid-stream', () => {
  it('loses nothing: its successor delivers every record, redelivering only what was not committed yet', async () => {
    const topic = uniqueName('crash');
    const group = uniqueName('crash-group');
    await ensureTopics(admin, [
      { topic, numPartitions: PARTITIONS, replicationFactor: 1 },
      { topic: `${topic}.dlq`, numPartitions: 1, replicationFactor: 1 },
    ]);
    const produced = await produceBacklog(kafka, topic, { count: COUNT, partitions: PARTITIONS });
    const destination = await startDestination();
    const env = workerEnv({
      KAFKA_BROKERS: testBrokers().join(','),
      KAFKA_TOPIC: topic,
      DRAIN_GROUP: group,
      RATE_MESSAGES: '30',
      RATE_PERIOD: '1s',
      SINK: 'http',
      SINK_URL: destination.url,
      LOG_LEVEL: 'debug',
    });
    const first = spawnWorker('first', env);
    let second: ReturnType<typeof spawnWorker> | undefined;
    let killedAt = 0;
    try {
      await destination.until((a) => a.length >= 40, 60_000);
      killedAt = performance.timeOrigin + performance.now();
      first.signal('SIGKILL');
      await first.exited;
      second = spawnWorker('second', env);
      // The group waits for the dead member's session to expire (10 s) before it rebalances.
      await destination.until((a) => new Set(a.map((x) => x.id)).size >= COUNT, 90_000);
      second.terminate();
      expect(await second.exited).toBe(0);
    } finally {
      first.signal('SIGKILL');
      second?.signal('SIGKILL');
      await destination.close();
    }

    // Nothing lost.
    expect(destination.uniqueIds()).toEqual(new Set(produced.map((p) => p.id)));

    // Duplicates: records the first worker sent whose offsets it had not committed when it died.
    // It attempts at most one record per partition at a time and commits each delivery within
    // one commit round trip. So every record that arrived twice must have arrived first within
    // COMMIT_WINDOW_MS before the kill (delivered, commit not yet through), or just after it
    // (in flight when killed; the successor only starts ~10 s later, once the dead member's
    // session expired), and there can be no more of them than such records.
    const firstArrival = new Map<string, number>();
    const counts = new Map<string, number>();
    for (const a of destination.arrivals) {
      if (!firstArrival.has(a.id)) firstArrival.set(a.id, a.at);
      counts.set(a.id, (counts.get(a.id) ?? 0) + 1);
    }
    const duplicates = destination.arrivals.length - counts.size;
    const twice = [...counts].filter(([, n]) => n > 1).map(([id]) => id);
    const uncommitted = [...firstArrival]
      .filter(([, at]) => at > killedAt - COMMIT_WINDOW_MS && at < killedAt + IN_FLIGHT_MS)
      .map(([id]) => id);
    const arrivedBefore = destination.arrivals.filter((a) => a.at <= killedAt).length;
    console.log(
      `crash test: ${arrivedBefore} arrived before the kill, ${duplicates} duplicates (${twice.join(' ')}), bound ${uncommitted.length}`,
    );
    for (const id of twice) expect(uncommitted).toContain(id);
    expect(duplicates).toBeLessThanOrEqual(uncommitted.length);
    expect(Math.max(...counts.values())).toBe(2);

    // The rate held across the crash and the take-over.
    const starts = [...attemptStarts(first.lines), ...attemptStarts(second?.lines ?? [])].sort(
      (a, b) => a - b,
    );
    expect(maxInWindow(starts, 1000)).toBeLessThanOrEqual(30);

    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    expect(offsets?.partitions.map((p) => p.offset)).toEqual(
      Array(PARTITIONS).fill(String(COUNT / PARTITIONS)),
    );
  });
});
