import { describe, expect, it } from 'vitest';
import { drainTestKafka } from './support/backlog.ts';
import { preciseNow, type Reply, startDestination } from './support/destination.ts';
import { inProcessWorker, whileDraining } from './support/in-process.ts';
import { recordCount } from './support/topics.ts';

const { admin, backlog } = drainTestKafka('drain-retry-after-test');

describe('429 with Retry-After', () => {
  it('holds every partition of the worker until the time the destination named', async () => {
    const { env: names, dlq } = await backlog('retry-after', {
      count: 60,
      partitions: 6,
      prefix: 'r',
    });
    let throttledAt: number | undefined;
    const destination = await startDestination((_arrival, arrivals): Reply => {
      if (arrivals.length === 20) {
        throttledAt = preciseNow();
        return { status: 429, headers: { 'retry-after': '2' } };
      }
      return { status: 200 };
    });
    const { worker, logs } = inProcessWorker({
      ...names,
      ...destination.sinkEnv,
      RATE_MESSAGES: '20',
      RATE_PERIOD: '1s',
    });
    await whileDraining(worker, destination, async () => {
      await destination.until(
        (a) => new Set(a.filter((x) => x.status === 200).map((x) => x.id)).size === 60,
        60_000,
      );
    });
    const at = throttledAt ?? 0;
    const held = logs.filter((l) => l.msg.startsWith('worker held'));
    expect(held).toHaveLength(1);
    const heldAt = Date.parse(String(held[0]?.time));
    // When each attempt left the worker, from its own log (one line per attempt sent).
    const startedAt = new Map(
      logs
        .filter((l) => l.msg === 'attempt')
        .map((l) => [`${l.id}#${l.attempt}`, Number(l.startedAt)]),
    );
    // Requests already on their way when the worker heard the 429 may arrive after it; none
    // started after that may arrive before the time the destination named.
    const inHold = destination.arrivals.filter((a) => a.at > at && a.at < at + 2000);
    const during = inHold.filter(
      (a) => (startedAt.get(`${a.id}#${a.attempt}`) ?? Number.POSITIVE_INFINITY) >= heldAt,
    );
    const after = destination.arrivals.filter((a) => a.at >= at + 2000).sort((a, b) => a.at - b.at);
    const partitionsAfter = new Set(after.map((a) => Number(a.id.split('-')[1]) % 6));
    console.log(
      `429 Retry-After 2: ${during.length} attempts started in the hold arrived in it (${inHold.length} sent before it), first after it ${((after[0]?.at ?? 0) - at).toFixed(1)} ms after the 429, ${partitionsAfter.size} partitions after`,
    );
    expect(during).toEqual([]);
    // Every partition waited, not only the throttled record's.
    expect(partitionsAfter.size).toBe(6);
    expect(await recordCount(admin, dlq)).toBe(0);
  }, 120_000);
});
