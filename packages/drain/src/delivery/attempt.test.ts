import { type Clock, createLogger } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import { queuedRecords, roomyQueues } from '../../test/support/queued-records.ts';
import { createBreaker } from '../destination/breaker.ts';
import { createHold } from '../destination/hold.ts';
import { createDrainMetrics } from '../http/metrics.ts';
import type { PreparedAttempt, Sink, SinkOutcome } from '../sinks/sink.ts';
import { createAttempts } from './attempt.ts';
import type { DeadLetter, DeadLetterRecord } from './dead-letter.ts';
import { createInFlight } from './in-flight.ts';
import { createOutcomeHandler } from './outcome.ts';
import { createRetryPolicy } from './retry-policy.ts';

/**
 * The attempt lifecycle and outcome handling as the worker wires them, with our own fakes for
 * what lies outside: the sink answers from a script, the committer and the dead-letter topic
 * record what they were given. No broker: these are pure logic and their contracts.
 */
interface Script {
  /** The sink's answers to the attempts sent, in order; delivered once they run out. */
  answers: SinkOutcome[];
  /** The first `prepare` throws instead of readying the attempt. */
  prepareThrows?: boolean;
  deadLetterWorks?: boolean;
  maxAttempts?: number;
}

function setup(options: Script) {
  let now = 1_000_000;
  const clock: Clock = { now: () => now, sleep: async () => {} };
  const answers = [...options.answers];
  let prepareThrows = options.prepareThrows === true;
  const events: string[] = [];
  const sink: Pick<Sink, 'prepare'> = {
    prepare(delivery) {
      if (prepareThrows) {
        prepareThrows = false;
        throw new Error('sink blew up');
      }
      const prepared: PreparedAttempt = {
        kind: 'prepared',
        send: async () => {
          events.push(`sent ${delivery.offset} #${delivery.attempt}`);
          return answers.shift() ?? { kind: 'delivered', status: 200 };
        },
        cancel: () => events.push(`cancelled ${delivery.offset}`),
        onLost() {},
      };
      return prepared;
    },
  };
  const committed: [number, number][] = [];
  const deadLettered: DeadLetterRecord[] = [];
  const deadLetter: Pick<DeadLetter, 'send'> = {
    async send(letter, keepTrying) {
      if (!keepTrying() || options.deadLetterWorks === false) return false;
      deadLettered.push(letter);
      return true;
    },
  };
  const queues = roomyQueues();
  const inFlight = createInFlight(clock);
  const metrics = createDrainMetrics({
    share: () => 0,
    assigned: () => [],
    paused: () => [],
    depth: () => new Map(),
    inFlight: () => inFlight.count(),
    lag: async () => new Map(),
    breakerOpen: () => false,
  });
  let stopping = false;
  const abort = new AbortController();
  const outcomes = createOutcomeHandler({
    topic: 't',
    dlqTopic: 't.dlq',
    policy: createRetryPolicy({
      maxAttempts: options.maxAttempts ?? 3,
      backoffBaseMs: 100,
      backoffMaxMs: 1000,
      random: () => 0.5,
    }),
    queues,
    committer: { done: (partition, offset) => committed.push([partition, offset]) },
    deadLetter,
    breaker: createBreaker({
      records: 3,
      partitions: () => queues.assigned().length,
      probe: { initialMs: 100, maxMs: 1000, jitter: 'none' },
    }),
    hold: createHold(),
    metrics,
    clock,
    logger: createLogger({ level: 'silent', name: 'test' }),
    stopping: () => stopping,
    signal: abort.signal,
  });
  let ended = 0;
  const attempts = createAttempts({
    topic: 't',
    sink,
    outcomes,
    queues,
    clock,
    inFlight,
    signal: abort.signal,
    onSent: () => events.push('permit'),
    onEnded: () => ended++,
  });
  queues.assign([0]);
  queues.push(0, queuedRecords(0, 1));

  /** What the dispatcher does: pick, begin, ready, send; then lets the outcome play out. */
  async function attemptNext(): Promise<void> {
    const pick = queues.next(now);
    if (pick.kind !== 'ready') throw new Error(`nothing ready: ${JSON.stringify(pick)}`);
    const sendable = await attempts.prepare(pick, queues.begin(pick.partition));
    sendable?.send();
    await new Promise((resolve) => setImmediate(resolve));
  }

  return {
    queues,
    inFlight,
    events,
    committed,
    deadLettered,
    attempts,
    metrics,
    ended: () => ended,
    attemptNext,
    advance: (ms: number) => {
      now += ms;
    },
    now: () => now,
    stop: () => {
      stopping = true;
    },
  };
}

describe('attempt lifecycle and outcome handling', () => {
  it('commits a delivered record and moves on to the next, one attempt in flight at a time', async () => {
    const t = setup({ answers: [] });
    await t.attemptNext();
    expect(t.committed).toEqual([[0, 0]]);
    expect(t.inFlight.count()).toBe(0);
    expect(t.ended()).toBe(1);
    await t.attemptNext();
    expect(t.committed).toEqual([
      [0, 0],
      [0, 1],
    ]);
    expect(t.events).toEqual(['permit', 'sent 0 #1', 'permit', 'sent 1 #1']);
  });

  it('holds a record that may succeed later until its retry time, honouring Retry-After', async () => {
    const t = setup({
      answers: [{ kind: 'retry', status: 429, error: '429', retryAfterMs: 2000 }],
    });
    await t.attemptNext();
    expect(t.committed).toEqual([]);
    // Not the next record: the partition keeps its order and waits for the retry.
    expect(t.queues.next(t.now())).toEqual({ kind: 'wait', until: t.now() + 2001 });
    t.advance(2001);
    await t.attemptNext();
    expect(t.events).toEqual(['permit', 'sent 0 #1', 'permit', 'sent 0 #2']);
    expect(t.committed).toEqual([[0, 0]]);
  });

  it('dead-letters a permanent rejection at once, with why, then commits it', async () => {
    const t = setup({ answers: [{ kind: 'reject', status: 422, error: 'no such customer' }] });
    await t.attemptNext();
    expect(t.deadLettered).toHaveLength(1);
    expect(t.deadLettered[0]).toMatchObject({
      sourceTopic: 't',
      sourcePartition: 0,
      cause: { reason: 'status', status: 422, error: 'no such customer', attempts: 1 },
    });
    expect(t.committed).toEqual([[0, 0]]);
    expect(await t.metrics.registry.getSingleMetricAsString('drain_dead_letters_total')).toContain(
      'reason="status"} 1',
    );
  });

  it('dead-letters a record that keeps failing after sink.maxAttempts', async () => {
    const failing: SinkOutcome = { kind: 'retry', status: 503, error: '503' };
    const t = setup({ answers: [failing, failing], maxAttempts: 2 });
    await t.attemptNext();
    expect(t.deadLettered).toEqual([]);
    t.advance(10_000);
    await t.attemptNext();
    expect(t.deadLettered[0]?.cause).toEqual({
      reason: 'attempts-exhausted',
      status: 503,
      error: '503',
      attempts: 2,
    });
    expect(t.committed).toEqual([[0, 0]]);
  });

  it('keeps a record whose dead-letter write gave up: not committed, tried again', async () => {
    const t = setup({
      answers: [{ kind: 'reject', status: 400, error: 'bad' }],
      deadLetterWorks: false,
    });
    await t.attemptNext();
    expect(t.committed).toEqual([]);
    expect(t.inFlight.count()).toBe(0);
    const pick = t.queues.next(t.now());
    expect(pick).toMatchObject({ kind: 'ready', partition: 0, record: { offset: 0 } });
  });

  it('counts a sink that throws while readying as a failed attempt that sent nothing', async () => {
    const t = setup({ answers: [], prepareThrows: true });
    await t.attemptNext();
    expect(t.events).toEqual([]);
    expect(t.committed).toEqual([]);
    expect(t.ended()).toBe(1);
    expect(t.queues.next(t.now())).toMatchObject({ kind: 'wait' });
    t.advance(1000);
    expect(t.queues.next(t.now())).toMatchObject({ kind: 'ready', attempt: 2 });
  });

  it('gives a cancelled attempt back as if it had not begun', async () => {
    const t = setup({ answers: [] });
    const pick = t.queues.next(t.now());
    if (pick.kind !== 'ready') throw new Error('expected a ready record');
    const sendable = await t.attempts.prepare(pick, t.queues.begin(0));
    expect(t.inFlight.count()).toBe(1);
    sendable?.cancel();
    expect(t.events).toEqual(['cancelled 0']);
    expect(t.inFlight.count()).toBe(0);
    expect(t.ended()).toBe(1);
    expect(t.queues.next(t.now())).toMatchObject({ kind: 'ready', attempt: 1 });
  });

  it('leaves a failed record to the next owner while stopping instead of holding it', async () => {
    const t = setup({ answers: [{ kind: 'retry', status: 500, error: '500' }] });
    t.stop();
    await t.attemptNext();
    expect(t.committed).toEqual([]);
    // Abandoned, not held: no retry time is set.
    expect(t.queues.next(t.now())).toMatchObject({ kind: 'ready', attempt: 2 });
  });
});
