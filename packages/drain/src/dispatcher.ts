import type { Clock } from '@kafka-throttle/common';
import type { NextPick, PartitionQueues } from './partition-queues.ts';
import type { RateLimiter } from './rate-limiter.ts';

export type ReadyPick = Extract<NextPick, { kind: 'ready' }>;

export interface DispatcherOptions {
  queues: PartitionQueues;
  limiter: Pick<RateLimiter, 'tryAcquire'>;
  clock: Clock;
  /** Starts one attempt (already counted against the rate); must not throw or block. */
  launch(pick: ReadyPick, attempt: number): void;
}

export interface Dispatcher {
  /** Runs until stop(); resolves then. */
  run(): Promise<void>;
  /** A record arrived or an attempt ended: a partition may have become ready. */
  workArrived(): void;
  /** The assignment (and so the share) changed: the permit we wait for may come sooner. */
  pacingChanged(): void;
  /** No attempt is started after this resolves. */
  stop(): Promise<void>;
}

// setTimeout cannot wait longer than this; a longer wait is simply renewed.
const LONGEST_SLEEP_MS = 2 ** 31 - 1;

/**
 * Starts attempts: takes the next partition in turn that has a record ready, asks the limiter
 * for a permit and launches the attempt. A permit is only ever asked for when an attempt can
 * start at once, so none is wasted; between permits it sleeps on the clock until the limiter's
 * `nextAt`, woken early by new work, a rebalance or stop. It never waits inside a Kafka handler.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { queues, limiter, clock } = options;
  let stopped = false;
  let waiting: { reason: 'work' | 'permit'; wake: AbortController } | undefined;
  let running: Promise<void> | undefined;

  async function waitUntil(at: number, reason: 'work' | 'permit'): Promise<void> {
    const wake = new AbortController();
    waiting = { reason, wake };
    try {
      const ms = at - clock.now();
      await clock.sleep(Number.isFinite(ms) ? Math.max(0, ms) : LONGEST_SLEEP_MS, wake.signal);
    } finally {
      if (waiting?.wake === wake) waiting = undefined;
    }
  }

  function wake(reason?: 'work' | 'permit'): void {
    if (waiting && (reason === undefined || waiting.reason === reason)) waiting.wake.abort();
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      const pick = queues.next(clock.now());
      if (pick.kind === 'wait') {
        await waitUntil(pick.until, 'work');
        continue;
      }
      const permit = limiter.tryAcquire();
      if (!permit.granted) {
        await waitUntil(permit.nextAt, 'permit');
        continue;
      }
      options.launch(pick, queues.begin(pick.partition));
    }
  }

  return {
    run() {
      running ??= loop();
      return running;
    },
    workArrived: () => wake('work'),
    pacingChanged: () => wake(),
    async stop() {
      stopped = true;
      wake();
      await running;
    },
  };
}
