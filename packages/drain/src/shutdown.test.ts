import { type Clock, createLogger } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import { SHUTDOWN_BUDGET, type ShutdownSteps, shutDown } from './shutdown.ts';

const logger = createLogger({ level: 'silent', name: 'test' });
const BEGAN = 50_000;
const BUDGET = 8000;

/** Steps that record what was asked of them, and when; attempts end in time or never. */
function steps(options: { attemptsEndInTime: boolean; closeFails?: boolean }) {
  const calls: string[] = [];
  let aborted = false;
  const fake: ShutdownSteps = {
    stopDispatching: async () => {
      calls.push('stop dispatching');
    },
    pauseFetching: () => calls.push('pause fetching'),
    attemptsIdle: async (deadline) => {
      calls.push(`wait for attempts until +${deadline - BEGAN}`);
      return options.attemptsEndInTime || aborted;
    },
    abortAttempts: () => {
      aborted = true;
      calls.push('abort attempts');
    },
    inFlight: () => (aborted || options.attemptsEndInTime ? 0 : 2),
    flushCommits: async (deadline) => {
      calls.push(`flush commits until +${deadline - BEGAN}`);
      return true;
    },
    stopCommitting: () => calls.push('stop committing'),
    leaveGroup: async () => {
      calls.push('leave group');
    },
    closeRest: () => {
      calls.push('close the rest');
      return [options.closeFails ? Promise.reject(new Error('already closed')) : Promise.resolve()];
    },
  };
  return { fake, calls };
}

const clock: Clock = { now: () => BEGAN, sleep: async () => {} };

describe('shutDown', () => {
  it('stops starting attempts, waits for those under way, commits, then leaves the group', async () => {
    const { fake, calls } = steps({ attemptsEndInTime: true });
    await shutDown(fake, BUDGET, clock, logger);
    expect(calls).toEqual([
      'stop dispatching',
      'pause fetching',
      `wait for attempts until +${BUDGET * SHUTDOWN_BUDGET.attemptsEnd}`,
      `flush commits until +${BUDGET * SHUTDOWN_BUDGET.commitsFlushed}`,
      'stop committing',
      'leave group',
      'close the rest',
    ]);
  });

  it('aborts attempts that outlast their share, and still commits and leaves within the budget', async () => {
    const { fake, calls } = steps({ attemptsEndInTime: false, closeFails: true });
    await shutDown(fake, BUDGET, clock, logger);
    expect(calls).toEqual([
      'stop dispatching',
      'pause fetching',
      'wait for attempts until +4800',
      'abort attempts',
      'wait for attempts until +5600',
      'flush commits until +6400',
      'stop committing',
      'leave group',
      'close the rest',
    ]);
  });
});
