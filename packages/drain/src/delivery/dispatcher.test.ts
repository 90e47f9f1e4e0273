import type { Clock } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import type { Permit, RateLimiter } from '../pacing/rate-limiter.ts';
import { createDispatcher, type ReadyPick, type Sendable } from './dispatcher.ts';
import { createFlowControl } from './flow-control.ts';
import { createPartitionQueues, type QueuedRecord } from './partition-queues.ts';

/** Time that moves only when the test says so; sleepers wake in time order. */
function manualClock(start: number) {
  let now = start;
  const sleepers: { at: number; wake: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    sleep(ms, signal) {
      return new Promise((resolve) => {
        if (signal?.aborted) return resolve();
        const sleeper = { at: now + ms, wake: () => resolve() };
        sleepers.push(sleeper);
        signal?.addEventListener('abort', () => {
          sleepers.splice(sleepers.indexOf(sleeper), 1);
          resolve();
        });
      });
    },
  };
  async function advance(to: number): Promise<void> {
    for (;;) {
      await settle();
      sleepers.sort((a, b) => a.at - b.at);
      const next = sleepers[0];
      if (!next || next.at > to) break;
      sleepers.shift();
      now = Math.max(now, next.at);
      next.wake();
    }
    now = to;
    await settle();
  }
  return { clock, advance };
}

const settle = async (): Promise<void> => {
  for (let i = 0; i < 20; i++) await Promise.resolve();
};

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

function record(offset: number): QueuedRecord {
  return {
    offset,
    message: { offset: String(offset) } as QueuedRecord['message'],
    envelope: { id: `${offset}`, body: Buffer.alloc(0), key: null, contentType: '', receivedAt: 0 },
    bytes: 1,
  };
}

describe('createDispatcher', () => {
  it('starts one attempt per permit, at the time the limiter names, partitions in turn', async () => {
    const { clock, advance } = manualClock(10_000);
    const queues = createPartitionQueues({
      flow: createFlowControl({
        highWater: 100,
        lowWater: 10,
        maxBytes: 1e9,
        onPause() {},
        onResume() {},
      }),
    });
    queues.assign([0, 1]);
    queues.push(0, [record(0), record(1)]);
    queues.push(1, [record(0), record(1)]);
    const { limiter } = everyMs(clock, 100, 10_050);
    const started: string[] = [];
    const dispatcher = createDispatcher({
      queues,
      limiter,
      clock,
    });
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
    const { clock, advance } = manualClock(0);
    const queues = createPartitionQueues({
      flow: createFlowControl({
        highWater: 100,
        lowWater: 10,
        maxBytes: 1e9,
        onPause() {},
        onResume() {},
      }),
    });
    queues.assign([0]);
    const { limiter, asked } = everyMs(clock, 10, 0);
    const started: number[] = [];
    const dispatcher = createDispatcher({
      queues,
      limiter,
      clock,
    });
    void dispatcher.run(async (pick) => sendable(pick.partition, () => started.push(clock.now())));
    await advance(500);
    expect(asked()).toBe(0);
    queues.push(0, [record(0), record(1)]);
    dispatcher.workArrived();
    await advance(600);
    // Offset 1 waits for offset 0's attempt, which never ends here: one permit only.
    expect(started).toEqual([500]);
    expect(asked()).toBe(1);
    await dispatcher.stop();
  });

  it('starts nothing after stop', async () => {
    const { clock, advance } = manualClock(0);
    const queues = createPartitionQueues({
      flow: createFlowControl({
        highWater: 100,
        lowWater: 10,
        maxBytes: 1e9,
        onPause() {},
        onResume() {},
      }),
    });
    queues.assign([0]);
    queues.push(0, [record(0)]);
    const { limiter } = everyMs(clock, 10, 1000);
    const started: number[] = [];
    const dispatcher = createDispatcher({
      queues,
      limiter,
      clock,
    });
    void dispatcher.run(async (pick) => sendable(pick.partition, () => started.push(clock.now())));
    await advance(500);
    await dispatcher.stop();
    await advance(2000);
    expect(started).toEqual([]);
  });

  it('gives a readied attempt up when its permit is more than the lead time away, and readies it again in time', async () => {
    const { clock, advance } = manualClock(0);
    const queues = createPartitionQueues({
      flow: createFlowControl({
        highWater: 100,
        lowWater: 10,
        maxBytes: 1e9,
        onPause() {},
        onResume() {},
      }),
    });
    queues.assign([0]);
    queues.push(0, [record(0)]);
    const { limiter } = everyMs(clock, 10, 5000);
    const events: string[] = [];
    const dispatcher = createDispatcher({
      queues,
      limiter,
      clock,
      leadMs: 1000,
    });
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
    const { clock, advance } = manualClock(0);
    const queues = createPartitionQueues({
      flow: createFlowControl({
        highWater: 100,
        lowWater: 10,
        maxBytes: 1e9,
        onPause() {},
        onResume() {},
      }),
    });
    queues.assign([0, 1]);
    queues.push(0, [record(0)]);
    queues.push(1, [record(0)]);
    const { limiter } = everyMs(clock, 0, 0);
    const started: string[] = [];
    const dispatcher = createDispatcher({
      queues,
      limiter,
      clock,
      // No promise: ready on the spot, as the log sink is.
    });
    void dispatcher.run((pick) =>
      sendable(pick.partition, () => started.push(`p${pick.partition}`)),
    );
    await advance(1);
    expect(started).toEqual(['p0', 'p1']);
    await dispatcher.stop();
  });
});
