import { describe, expect, it } from 'vitest';
import { maxInWindow, timesText } from '../../../test-support/window-check.ts';
import { drainTestKafka } from './support/backlog.ts';
import { startDestinationProcess } from './support/destination-process.ts';
import { achievedRate } from './support/rate.ts';
import { attemptStarts, pacedWorkerEnv, spawnWorker } from './support/worker-process.ts';

const { admin, backlog } = drainTestKafka('drain-rate-test');

describe('one worker with a backlog', () => {
  it('holds 20 per second over a 6-partition topic: never more than 20 in a period, at least 99% of it', async () => {
    const {
      topic,
      group,
      env: names,
      produced,
    } = await backlog('rate', { count: 300, partitions: 6 });
    const destination = await startDestinationProcess();
    // `pnpm drain` in its own process, as it runs in production: its event loop is not the
    // destination's.
    const worker = spawnWorker('worker', pacedWorkerEnv(names, destination.sinkEnv, 20, 1000));
    try {
      await destination.until((a) => new Set(a.map((x) => x.id)).size >= produced.length, 60_000);
      worker.terminate();
      expect(await worker.exited).toBe(0);
    } finally {
      worker.signal('SIGKILL');
      await destination.close();
    }

    // Every record once, in offset order within its partition.
    const ids = destination.arrivals.map((a) => a.id);
    expect(ids).toHaveLength(300);
    expect(new Set(ids)).toEqual(new Set(produced.map((p) => p.id)));
    for (let partition = 0; partition < 6; partition++) {
      const seen = ids.filter((id) => Number(id.split('-')[1]) % 6 === partition);
      const expected = produced.filter((p) => p.partition === partition).map((p) => p.id);
      expect(seen).toEqual(expected);
    }

    // The invariant, exactly, on the attempt start times the worker recorded…
    const starts = attemptStarts(worker.lines);
    expect(starts).toHaveLength(300);
    expect(maxInWindow(starts, 1000)).toBeLessThanOrEqual(20);
    // …and where the promise is counted: at the destination, in another process, strict
    // windows of one period on arrival times, with the default guard (see README).
    const arrivals = destination.times();
    expect(maxInWindow(arrivals, 1000), timesText(arrivals)).toBeLessThanOrEqual(20);
    // Achieved: arrivals in whole periods from the first one, over 20 per period (see rate.ts).
    const achieved = achievedRate(arrivals, 20, 1000);
    console.log(
      `rate test: busiest period ${maxInWindow(starts, 1000)} starts, ${maxInWindow(arrivals, 1000)} arrivals; achieved ${achieved.toFixed(4)}`,
    );
    expect(achieved).toBeGreaterThanOrEqual(0.99);

    // Committed after delivery: the group's offsets are at the end of every partition.
    const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    expect(offsets?.partitions.map((p) => p.offset).sort()).toEqual(Array(6).fill('50'));
  });
});
