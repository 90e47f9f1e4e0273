import { describe, expect, it } from 'vitest';
import { drainTestKafka } from './support/backlog.ts';
import { type Reply, startDestination } from './support/destination.ts';
import { inProcessWorker, whileDraining } from './support/in-process.ts';
import { recordCount } from './support/topics.ts';

const { admin, backlog } = drainTestKafka('drain-poison-test');

describe('a poison message', () => {
  it('is dead-lettered after sink.maxAttempts while its neighbours flow; the breaker stays closed', async () => {
    const { env: names, dlq } = await backlog('poison', {
      count: 36,
      partitions: 6,
      prefix: 'p',
    });
    const destination = await startDestination(
      (arrival): Reply => (arrival.id === 'p-7' ? { status: 500, body: 'boom' } : { status: 200 }),
    );
    const { worker, logs } = inProcessWorker({
      ...names,
      ...destination.sinkEnv,
      RATE_MESSAGES: '20',
      RATE_PERIOD: '1s',
    });
    const metrics = await whileDraining(worker, destination, async () => {
      await destination.until((a) => a.filter((x) => x.status === 200).length === 35, 60_000);
      const deadAt = Date.now() + 30_000;
      while ((await recordCount(admin, dlq)) < 1 && Date.now() < deadAt) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      return await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text();
    });
    const poisonAttempts = destination.arrivals.filter((a) => a.id === 'p-7');
    expect(poisonAttempts.map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5]);
    expect(await recordCount(admin, dlq)).toBe(1);
    const dead = logs.filter((l) => l.msg === 'dead-lettered');
    expect(dead.map((l) => [l.id, l.reason, l.attempts])).toEqual([
      ['p-7', 'attempts-exhausted', 5],
    ]);
    // Its neighbours on the same partition (p-1, p-13, p-19…) went on once it was settled.
    const others = new Set(destination.arrivals.filter((a) => a.status === 200).map((a) => a.id));
    expect(others.size).toBe(35);
    expect(logs.filter((l) => l.msg.startsWith('destination breaker open'))).toEqual([]);
    expect(metrics).not.toContain('drain_breaker_transitions_total{to="open"}');
    console.log(
      `poison: ${poisonAttempts.length} attempts then dead-lettered; ${others.size} neighbours delivered`,
    );
  }, 120_000);
});
