import { describe, expect, it } from 'vitest';
import { drainTestKafka, type TestTopic } from './support/backlog.ts';
import { type Arrival, startDestination } from './support/destination.ts';
import { inProcessWorker, type StartedWorker } from './support/in-process.ts';
import { recordCount } from './support/topics.ts';

const { admin, backlog } = drainTestKafka('group-hold-test');

/** Three in-process workers of one group over `names`' 6 partitions, at `perSecond`. */
function threeWorkers(names: TestTopic, perSecond: number, url: string): StartedWorker[] {
  return ['a', 'b', 'c'].map(() =>
    inProcessWorker({
      ...names.env,
      RATE_MESSAGES: String(perSecond),
      RATE_PERIOD: '1s',
      SINK: 'http',
      SINK_URL: url,
    }),
  );
}

const HOLD_MS = 3000;
const OUTAGE_MS = 6000;
/**
 * A log line's time is the wall clock's (whole milliseconds) and an attempt's start the pacing
 * clock's (monotonic, set from the wall clock when the process started): they may be a few
 * milliseconds apart, so starts are looked for from this long after a hold's line.
 */
const CLOCKS_APART_MS = 20;

/** (applied at, until) of every group hold a worker applied, from its log. */
function holdsApplied(worker: StartedWorker): { at: number; until: number }[] {
  return worker.logs.flatMap((l) =>
    l.msg === 'control state applied' && String(l.change).includes('hold') && l.holdUntil
      ? [{ at: Date.parse(String(l.time)), until: Date.parse(String(l.holdUntil)) }]
      : [],
  );
}

describe('a destination that answers 429 with Retry-After to one request', () => {
  it('holds every worker of the group until the time it asked for', async () => {
    const names = await backlog('hold', { count: 400, partitions: 6 });
    let refused: Arrival | undefined;
    const destination = await startDestination((arrival, arrivals) => {
      if (refused === undefined && arrivals.length >= 40) {
        refused = arrival;
        return { status: 429, headers: { 'retry-after': String(HOLD_MS / 1000) } };
      }
      return { status: 200 };
    });
    const workers = threeWorkers(names, 20, destination.url);
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

describe('a destination that is down for every request', () => {
  it("holds the group on one worker's open breaker: between probes no worker starts anything", async () => {
    const names = await backlog('breaker-hold', { count: 48, partitions: 6 });
    let downUntil = Number.POSITIVE_INFINITY;
    const destination = await startDestination((arrival) => {
      if (downUntil === Number.POSITIVE_INFINITY) downUntil = arrival.at + OUTAGE_MS;
      return arrival.at < downUntil ? { status: 503 } : { status: 200 };
    });
    const workers = threeWorkers(names, 12, destination.url);
    try {
      await Promise.all(workers.map((w) => w.worker.start()));
      await destination.until(
        (arrivals) => arrivals.filter((a) => a.status === 200).length >= 48,
        90_000,
      );
      const opened = workers.filter((w) =>
        w.logs.some((l) => String(l.msg).startsWith('destination breaker open')),
      );
      expect(opened.length).toBeGreaterThan(0);
      // Each worker applied holds while the destination was down, and within each one it
      // started nothing: the probe that ends a hold goes at its end, not before.
      let holdsSeen = 0;
      workers.forEach((w, i) => {
        const holds = holdsApplied(w).filter((h) => h.at < downUntil);
        expect(holds.length, `worker ${i} applied a hold`).toBeGreaterThan(0);
        for (const hold of holds) {
          holdsSeen += 1;
          const during = w
            .attemptStarts()
            .filter((t) => t > hold.at + CLOCKS_APART_MS && t < hold.until);
          expect(during, `worker ${i} during the hold until ${hold.until}`).toEqual([]);
        }
      });
      const failed = destination.arrivals.filter((a) => a.status === 503).length;
      console.log(
        `breaker hold: ${opened.length} of 3 breakers opened, ${failed} failed attempts in a ${OUTAGE_MS} ms outage, ${holdsSeen} holds applied by the workers`,
      );
      expect(await recordCount(admin, names.dlq)).toBe(0);
    } finally {
      await Promise.all(workers.map((w) => w.worker.stop()));
      await destination.close();
    }
  }, 120_000);
});
