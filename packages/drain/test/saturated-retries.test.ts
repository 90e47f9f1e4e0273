import { describe, expect, it } from 'vitest';
import { maxInWindow, timesText } from '../../../test-support/window-check.ts';
import { drainTestKafka } from './support/backlog.ts';
import { startDestination } from './support/destination.ts';
import { attemptStarts, pacedWorkerEnv, spawnWorker } from './support/worker-process.ts';

const { backlog } = drainTestKafka('drain-saturated-retries-test');

const N = 20;
const PERIOD = 1000;
const COUNT = 120;
const PARTITIONS = 4;

describe('retries while the rate is saturated', () => {
  it('count toward the rate: at most N attempts per period arrive, retries included', async () => {
    const { env: names, produced } = await backlog('saturated', {
      count: COUNT,
      partitions: PARTITIONS,
    });
    // About half the attempts fail, at random per attempt: message failures, which the worker
    // retries (each retry takes a permit), not a destination outage.
    const destination = await startDestination(() => ({ status: Math.random() < 0.5 ? 503 : 200 }));
    const worker = spawnWorker('saturated', pacedWorkerEnv(names, destination.sinkEnv, N, PERIOD));
    try {
      const settled = (a: typeof destination.arrivals) => {
        const done = new Set(a.filter((x) => x.status === 200).map((x) => x.id));
        return done.size >= COUNT * 0.9;
      };
      await destination.until(settled, 120_000);
      worker.terminate();
      expect(await worker.exited).toBe(0);
    } finally {
      worker.signal('SIGKILL');
      await destination.close();
    }

    const arrivals = destination.times();
    const retries = destination.arrivals.filter((a) => a.attempt > 1).length;
    const failed = destination.arrivals.filter((a) => a.status !== 200).length;
    const starts = attemptStarts(worker.lines);
    const busiest = maxInWindow(arrivals, PERIOD);
    console.log(
      `saturated retries test: ${arrivals.length} attempts (${retries} retries, ${failed} failed); busiest period ${busiest} arrivals, ${maxInWindow(starts, PERIOD)} logged starts`,
    );
    // The run was saturated with retries: the windows checked are full.
    expect(retries).toBeGreaterThanOrEqual(COUNT / 4);
    expect(busiest).toBeGreaterThanOrEqual(0.8 * N);
    expect(starts.length).toBe(destination.arrivals.length);
    expect(maxInWindow(starts, PERIOD)).toBeLessThanOrEqual(N);
    expect(maxInWindow(arrivals, PERIOD), timesText(arrivals)).toBeLessThanOrEqual(N);
    // Every record is either taken or still being worked on; nothing unknown arrived.
    const ids = new Set(produced.map((p) => p.id));
    expect([...destination.uniqueIds()].every((id) => ids.has(id))).toBe(true);
  }, 240_000);
});
