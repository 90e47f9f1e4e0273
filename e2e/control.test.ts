import { afterEach, describe, expect, it } from 'vitest';
import { acceptedIds } from './support/client.ts';
import { postBacklog } from './support/load.ts';
import { killAllScripts, runScript } from './support/processes.ts';
import type { Service } from './support/services.ts';
import { startSteeredGroup } from './support/steered-group.ts';

// After each attempt, so that a timing test run once more (vitest.config.ts) starts clean.
afterEach(killAllScripts);

const PERIOD = 1000;
/** Time from a request's start at a worker to its arrival, allowed on a shared 2-core machine. */
const ARRIVAL_JITTER_MS = 100;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const now = (): number => performance.timeOrigin + performance.now();

interface Switch {
  at: number;
  from: number;
  to: number;
}

/**
 * The most a window [w, w + PERIOD) may hold, by the promise: the old limit before a switch,
 * the larger of both in windows that reach the switch or start within a period after it, the
 * new one from then on.
 */
function limitAt(w: number, first: number, switches: readonly Switch[]): number {
  let limit = first;
  for (const s of switches) {
    if (w + PERIOD <= s.at) return limit;
    if (w < s.at + PERIOD) return Math.max(s.from, s.to);
    limit = s.to;
  }
  return limit;
}

/** Windows starting at each time that hold more than the promise allows. */
function overLimit(
  times: readonly number[],
  windowMs: number,
  first: number,
  switches: readonly Switch[],
): { at: number; count: number; limit: number }[] {
  const found: { at: number; count: number; limit: number }[] = [];
  for (let i = 0; i < times.length; i++) {
    const w = times[i] as number;
    let count = 0;
    for (let j = i; j < times.length && (times[j] as number) < w + windowMs; j++) count++;
    const limit = limitAt(w, first, switches);
    if (count > limit) found.push({ at: w, count, limit });
  }
  return found;
}

function starts(workers: readonly Service[]): number[] {
  return workers
    .flatMap((w) => w.entries.filter((e) => e.msg === 'attempt').map((e) => Number(e.startedAt)))
    .sort((a, b) => a - b);
}

describe('steering three workers through pnpm ctl', () => {
  it('pauses and resumes the whole group, and changes its rate within the window rule', async () => {
    const group = await startSteeredGroup({
      name: 'e2e-control',
      partitions: 6,
      limit: 20,
      periodMs: PERIOD,
    });
    const { destination, ingest, token } = group;
    const adminPort = String(group.adminPort);
    const ctl = async (...args: string[]): Promise<{ changedAt: number; version: number }> => {
      const run = runScript(`ctl ${args[0]}`, 'ctl', [...args, '--json'], {
        ADMIN_TOKEN: token,
        ADMIN_PORT: adminPort,
      });
      const exit = await run.exited;
      expect(exit.code, run.lines.join('\n')).toBe(0);
      const answer = JSON.parse(run.lines.join('\n')) as {
        state: { changedAt: string; version: number };
      };
      return { changedAt: Date.parse(answer.state.changedAt), version: answer.state.version };
    };
    // Enough for every phase below at its rate, however long the processes take to start.
    const answers = await postBacklog(`http://127.0.0.1:${ingest.port}/`, 2000);
    expect(acceptedIds(answers)).toHaveLength(2000);

    const debug = { LOG_LEVEL: 'debug' };
    const workers: Service[] = group.workers;
    await group.startWorkers(['a', 'b', 'c'], debug);
    const arrivedAfter = async (count: number, from: number, timeoutMs = 60_000) => {
      const deadline = now() + timeoutMs;
      while (destination.arrivals.filter((a) => a.at >= from).length < count) {
        if (now() > deadline) {
          const seen = workers.map((w) =>
            w.entries
              .filter((e) => e.msg === 'control state applied' || e.level === 50 || e.level === 40)
              .map((e) => JSON.stringify([e.msg, e.change, e.paused, e.version, e.err])),
          );
          throw new Error(`fewer than ${count} arrivals since ${from}: ${JSON.stringify(seen)}`);
        }
        await sleep(100);
      }
    };
    await arrivedAfter(40, 0, 90_000);

    // Pause: every worker stops starting attempts within one period of the change.
    const paused = await ctl('pause');
    await sleep(2 * PERIOD);
    const pauseDeadline = paused.changedAt + PERIOD;
    expect(starts(workers).filter((t) => t > pauseDeadline)).toEqual([]);

    // Restart one worker and add a fourth while paused: nothing starts.
    expect((await workers[1]!.stop()).code).toBe(0);
    await group.startWorkers(['b2'], debug);
    await group.startWorkers(['d'], debug);
    for (const w of workers.slice(3)) {
      await w.waitForEntry(
        'paused state applied',
        (e) => e.msg === 'control state applied',
        60_000,
      );
      await w.waitForEntry('partitions', (e) => e.msg === 'partitions assigned', 60_000);
    }
    await sleep(3 * PERIOD);
    expect(starts(workers).filter((t) => t > pauseDeadline)).toEqual([]);
    expect(destination.arrivals.filter((a) => a.at > pauseDeadline + ARRIVAL_JITTER_MS)).toEqual(
      [],
    );

    const resumed = await ctl('resume');
    await arrivedAfter(20, resumed.changedAt);

    const slower = await ctl('rate', '5/1s');
    await sleep(5 * PERIOD);
    const faster = await ctl('rate', '40/1s');
    await sleep(6 * PERIOD);
    const end = now();
    const switches: Switch[] = [
      { at: Math.ceil((slower.changedAt + PERIOD) / PERIOD) * PERIOD, from: 20, to: 5 },
      { at: Math.ceil((faster.changedAt + PERIOD) / PERIOD) * PERIOD, from: 5, to: 40 },
    ];
    const all = starts(workers);
    const fromResume = all.filter((t) => t >= resumed.changedAt);
    const context = JSON.stringify({ switches, resumed: resumed.changedAt });
    expect(overLimit(fromResume, PERIOD, 20, switches), context).toEqual([]);
    const arrivals = destination.arrivals
      .map((a) => a.at)
      .filter((t) => t >= resumed.changedAt)
      .sort((x, y) => x - y);
    expect(overLimit(arrivals, PERIOD - ARRIVAL_JITTER_MS, 20, switches), context).toEqual([]);

    // The rates in force were used: figures for the report, and a floor against a stalled group.
    const [s1, s2] = switches as [Switch, Switch];
    const slow = arrivals.filter((t) => t >= s1.at + PERIOD && t < s2.at).length;
    const slowPeriods = (s2.at - s1.at - PERIOD) / PERIOD;
    const fast = arrivals.filter((t) => t >= s2.at + PERIOD && t < end).length;
    const fastPeriods = Math.floor((end - s2.at - PERIOD) / PERIOD);
    console.log(
      `control e2e: at 5/1s ${slow} in ${slowPeriods} periods; at 40/1s ${fast} in ${fastPeriods} periods; ` +
        `pause written at ${paused.changedAt}, last start before it ${Math.max(...all.filter((t) => t <= pauseDeadline)) - paused.changedAt} ms after`,
    );
    expect(slow).toBeGreaterThanOrEqual(slowPeriods * 5 * 0.8);
    expect(fast).toBeGreaterThanOrEqual(fastPeriods * 40 * 0.8);

    await group.stop();
  }, 400_000);
});
