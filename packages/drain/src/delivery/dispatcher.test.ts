import type { Clock } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../../test-support/manual-clock.ts';
import { queuedRecord, roomyQueues } from '../../test/support/queued-records.ts';
import type { Permit, RateLimiter } from '../pacing/rate-limiter.ts';
import { createDispatcher, type ReadyPick, type Sendable } from './dispatcher.ts';

/** Grants one permit every `spacing` ms, from `from` on: the simplest pacing there is. */
function everyMs(clock: Clock, spacing: number, from: number) {
  let next = from;
  let asked = 0;
  const limiter: Pick<RateLimiter, 'tryAcquire'> = {
    tryAcquire(): Permit {
      asked++;
      if (clock.now() < next) return { granted: false, nextAt: next };
      next = clock.now() + spacing;
      return { granted: true };
    },
  };
  return { limiter, asked: () => asked };
}

function sendable(partition: number, send: () => void, cancelled?: () => void): Sendable {
  return { partition, send, cancel: () => cancelled?.(), onLost() {} };
}

/**
 * A dispatcher on a manual clock starting at `start`, over partitions 0..n-1 holding the offsets
 * in `backlog[p]`, paced one permit every `spacing` ms from `from` on.
 */
function setup(options: {
  start: number;
  backlog: number[][];
  spacing: number;
  from: number;
  leadMs?: number;
}) {
  const clock = createManualClock(options.start);
  const queues = roomyQueues();
  queues.assign(options.backlog.map((_, partition) => partition));
  options.backlog.forEach((offsets, partition) => {
    if (offsets.length > 0)
      queues.push(
        partition,
        offsets.map((o) => queuedRecord(o)),
      );
  });
  const { limiter, asked } = everyMs(clock, options.spacing, options.from);
  const dispatcher = createDispatcher({ queues, limiter, clock, leadMs: options.leadMs });
  /** Moves the clock to `t`, waking every sleeper due by then in time order. */
  const advance = (t: number): Promise<void> => clock.advance(t - clock.now());
  return { clock, advance, queues, asked, dispatcher };
}

describe('createDispatcher', () => {
  it('starts one attempt per permit, at the time the limiter names, partitions in turn', async () => {
    const { clock, advance, queues, dispatcher } = setup({
      start: 10_000,
      backlog: [
        [0, 1],
        [0, 1],
      ],
      spacing: 100,
      from: 10_050,
    });
    const started: string[] = [];
    const running = dispatcher.run(async (pick: ReadyPick, attempt: number) =>
      sendable(pick.partition, () => {
        started.push(`${clock.now()} p${pick.partition}/${pick.record.offset} #${attempt}`);
        // The sink answers at once; the record is delivered.
        queueMicrotask(() => {
          queues.complete(pick.partition);
          dispatcher.workArrived();
        });
      }),
    );
    await advance(10_400);
    expect(started).toEqual(['10050 p0/0 #1', '10150 p1/0 #1', '10250 p0/1 #1', '10350 p1/1 #1']);
    await dispatcher.stop();
    await running;
  });

  it('never asks for a permit it cannot use at once, and wakes when work arrives', async () => {
    const { clock, advance, queues, asked, dispatcher } = setup({
      start: 0,
      backlog: [[]],
      spacing: 10,
      from: 0,
    });
    const started: number[] = [];
    void dispatcher.run(async (pick) => sendable(pick.partition, () => started.push(clock.now())));
    await advance(500);
    expect(asked()).toBe(0);
    queues.push(0, [queuedRecord(0), queuedRecord(1)]);
    dispatcher.workArrived();
    await advance(600);
    // Offset 1 waits for offset 0's attempt, which never ends here: one permit only.
    expect(started).toEqual([500]);
    expect(asked()).toBe(1);
    await dispatcher.stop();
  });

  it('starts nothing after stop', async () => {
    const { clock, advance, dispatcher } = setup({
      start: 0,
      backlog: [[0]],
      spacing: 10,
      from: 1000,
    });
    const started: number[] = [];
    void dispatcher.run(async (pick) => sendable(pick.partition, () => started.push(clock.now())));
    await advance(500);
    await dispatcher.stop();
    await advance(2000);
    expect(started).toEqual([]);
  });

  it('gives a readied attempt up when its permit is more than the lead time away, and readies it again in time', async () => {
    const { clock, advance, queues, dispatcher } = setup({
      start: 0,
      backlog: [[0]],
      spacing: 10,
      from: 5000,
      leadMs: 1000,
    });
    const events: string[] = [];
    void dispatcher.run(async (pick, attempt) => {
      events.push(`${clock.now()} prepare #${attempt}`);
      return sendable(
        pick.partition,
        () => events.push(`${clock.now()} send`),
        () => {
          events.push(`${clock.now()} cancel`);
          queues.release(pick.partition);
        },
      );
    });
    await advance(6000);
    expect(events).toEqual(['0 prepare #1', '0 cancel', '4000 prepare #1', '5000 send']);
    await dispatcher.stop();
  });

  it('takes a readied attempt at once when the sink needs no time to ready it', async () => {
    // The sink below returns no promise: ready on the spot, as the log sink is.
    const { advance, dispatcher } = setup({ start: 0, backlog: [[0], [0]], spacing: 0, from: 0 });
    const started: string[] = [];
    void dispatcher.run((pick) =>
      sendable(pick.partition, () => started.push(`p${pick.partition}`)),
    );
    await advance(1);
    expect(started).toEqual(['p0', 'p1']);
    await dispatcher.stop();
  });
});
