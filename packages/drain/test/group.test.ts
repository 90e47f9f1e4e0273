import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import {
  type BusiestWindow,
  busiestWindow,
  maxInWindow,
  timesText,
} from '../../../test-support/window-check.ts';
import { drainTestKafka } from './support/backlog.ts';
import { preciseNow } from './support/destination.ts';
import { startDestinationProcess } from './support/destination-process.ts';
import { achievedInSpan } from './support/rate.ts';
import {
  attemptStarts,
  pacedWorkerEnv,
  spawnWorker,
  type WorkerProcess,
} from './support/worker-process.ts';

const { backlog } = drainTestKafka('drain-group-test');

const N = 20;
const PERIOD = 1000;
const STEADY_MS = 4000;

describe('three worker processes joining and leaving while draining', () => {
  it('keep the group at 20 per second: never more in a period, at least 95% of it between rebalances', async () => {
    const names = (await backlog('group', { count: 1500, partitions: 6 })).env;
    const destination = await startDestinationProcess();
    const env = pacedWorkerEnv(names, destination.sinkEnv, N, PERIOD);
    const workers: WorkerProcess[] = [];
    /** When each join or leave began (test clock = destination clock), and who is in after it. */
    const events: { at: number; members: string[] }[] = [];
    const gone = new Set<string>();
    const members = (): string[] => workers.filter((w) => !gone.has(w.name)).map((w) => w.name);
    const join = async (name: string): Promise<WorkerProcess> => {
      const at = preciseNow();
      const worker = spawnWorker(name, env);
      workers.push(worker);
      events.push({ at, members: members() });
      await worker.waitForLog('partitions assigned', 60_000);
      return worker;
    };
    const leave = async (worker: WorkerProcess): Promise<void> => {
      gone.add(worker.name);
      events.push({ at: preciseNow(), members: members() });
      worker.terminate();
      expect(await worker.exited).toBe(0);
    };
    let end = 0;
    try {
      const a = await join('a');
      await destination.until((x) => x.length > 0, 30_000);
      await sleep(STEADY_MS);
      const b = await join('b');
      await sleep(STEADY_MS + PERIOD);
      const c = await join('c');
      await sleep(STEADY_MS + PERIOD);
      await leave(b);
      await sleep(STEADY_MS + PERIOD);
      await leave(c);
      await sleep(STEADY_MS + PERIOD);
      end = preciseNow();
      await leave(a);
    } finally {
      for (const worker of workers) worker.signal('SIGKILL');
      await destination.close();
    }

    // The invariant, exactly on the start times all three logged, and at the destination.
    const starts = workers.flatMap((w) => attemptStarts(w.lines)).sort((x, y) => x - y);
    // Every request that arrived was logged as an attempt (the workers stopped gracefully, so
    // none was cut off): the start-time check below looks at all of them, not at a silent log.
    const arrivals = destination.times();
    expect(arrivals.length).toBeGreaterThanOrEqual(12 * N);
    expect(starts).toHaveLength(arrivals.length);
    const busiest = busiestWindow(starts, PERIOD);
    expect(busiest.count, `starts ${describeWindow(starts, busiest, workers)}`).toBeLessThanOrEqual(
      N,
    );
    // Where the promise is counted: strict windows of one period on arrival times, defaults.
    expect(maxInWindow(arrivals, PERIOD), timesText(arrivals)).toBeLessThanOrEqual(N);

    const assignments = workers.flatMap((w) =>
      w.lines.filter((l) => l.msg === 'partitions assigned').map((l) => ({ worker: w.name, ...l })),
    );
    // A rebalance lasts from the join or leave until the last member's last new assignment
    // (before the next event), plus the period a newly assigned partition waits (its previous
    // owner may just have spent it) and half a period of slack.
    const rebalances = events
      .filter((e) => e.members.length > 0)
      .map((event, i, all) => {
        const next = all[i + 1]?.at ?? end;
        const settled = event.members.map((name) => {
          const lines = assignments.filter(
            (l) => l.worker === name && l.at >= event.at && l.at < next,
          );
          return lines.at(-1);
        });
        // Every member took part in the rebalance, and their shares add up to the rate again.
        expect(settled.every((line) => line !== undefined)).toBe(true);
        const total = settled.reduce((sum, line) => sum + Number(line?.fields.share ?? 0), 0);
        expect(
          total,
          JSON.stringify({
            event,
            lines: assignments
              .filter((l) => l.at >= event.at - 100)
              .map((l) => [l.worker, l.at - event.at, l.fields.partitions, l.fields.share]),
          }),
        ).toBeCloseTo(N, 6);
        const settledAt = Math.max(event.at, ...settled.map((line) => line?.at ?? 0));
        return { from: event.at, to: settledAt + 1.5 * PERIOD };
      });
    const first = arrivals[0] ?? 0;
    const steady: { from: number; to: number }[] = [];
    let from = first;
    for (const rebalance of rebalances.slice(1)) {
      steady.push({ from, to: rebalance.from });
      from = rebalance.to;
    }
    steady.push({ from, to: end });
    let delivered = 0;
    let expected = 0;
    for (const span of steady) {
      const periods = Math.floor((span.to - span.from) / PERIOD);
      if (periods < 1) continue;
      delivered += achievedInSpan(arrivals, N, PERIOD, span.from, span.to) * periods * N;
      expected += periods * N;
    }
    console.log(
      `group test: busiest period ${busiest.count} starts, ${maxInWindow(arrivals, PERIOD)} arrivals; achieved ${(delivered / expected).toFixed(4)} over ${expected / N} steady periods`,
    );
    expect(expected).toBeGreaterThanOrEqual(12 * N);
    expect(delivered / expected).toBeGreaterThanOrEqual(0.95);
  });
});

/** The busiest window's starts, relative to its first, and which worker made each. */
function describeWindow(starts: number[], window: BusiestWindow, workers: WorkerProcess[]): string {
  const t0 = starts[window.first] ?? 0;
  const owner = new Map<number, string>();
  for (const w of workers) {
    for (const l of w.lines.filter((x) => x.msg === 'attempt')) {
      owner.set(
        Number(l.fields.startedAt),
        `${w.name}/${l.fields.pid}:${l.fields.id}#${l.fields.attempt}:${l.fields.outcome}`,
      );
    }
  }
  return starts
    .slice(Math.max(0, window.first - 2), window.last + 3)
    .map((t) => `${(t - t0).toFixed(1)}${owner.get(t)}`)
    .join(' ');
}
