import type { Clock } from '@kafka-throttle/common';
import type { NextPick, PartitionQueues } from './partition-queues.ts';
import type { RateLimiter } from './rate-limiter.ts';

export type ReadyPick = Extract<NextPick, { kind: 'ready' }>;

/** An attempt ready to go out the moment it has a permit. */
export interface Sendable {
  partition: number;
  /** Sends at once; what follows (the outcome) is the worker's business. */
  send(): void;
  /** Gives it up unsent; its partition may be picked again. */
  cancel(): void;
  /** Called if it cannot be sent any more (its connection closed while it waited). */
  onLost(listener: () => void): void;
}

export interface DispatcherOptions {
  queues: PartitionQueues;
  limiter: Pick<RateLimiter, 'tryAcquire'>;
  clock: Clock;
  /**
   * Readies an attempt of the picked record without sending it. Resolves undefined when the
   * attempt ended before anything was sent (the worker has dealt with it). Must not reject.
   */
  prepare(pick: ReadyPick, attempt: number): Promise<Sendable | undefined>;
  /**
   * How long before its permit an attempt is readied. An attempt readied earlier (because the
   * limiter's answer was unknown) is given up when the permit turns out to be further away, so
   * a slow rate does not keep a connection to the destination busy doing nothing.
   */
  leadMs?: number;
}

export interface Dispatcher {
  /** Runs until stop(); resolves then. */
  run(): Promise<void>;
  /** A record arrived or an attempt ended: a partition may have become ready. */
  workArrived(): void;
  /** The assignment (and so the share) changed: the permit we wait for may come sooner. */
  pacingChanged(): void;
  /** Nothing is sent after this resolves; a readied attempt is given up. */
  stop(): Promise<void>;
}

// setTimeout cannot wait longer than this; a longer wait is simply renewed.
const LONGEST_SLEEP_MS = 2 ** 31 - 1;

/**
 * Starts attempts at the pace the limiter allows. It takes the next partition in turn that has
 * a record ready, readies one attempt of it (a connected socket, nothing sent), then asks the
 * limiter for a permit and sends in the same synchronous step. A permit is therefore only ever
 * taken when it is spent at once, and the time it is counted at is the time the request leaves.
 * Between permits it sleeps on the clock until the limiter's `nextAt`, woken early by new
 * work, a rebalance or stop. It never waits inside a Kafka handler.
 */
export function createDispatcher(options: DispatcherOptions): Dispatcher {
  const { queues, limiter, clock } = options;
  const leadMs = options.leadMs ?? 1000;
  let stopped = false;
  let waiting: { reason: 'work' | 'permit'; wake: AbortController } | undefined;
  let running: Promise<void> | undefined;
  let ready: Sendable | undefined;
  let preparing = false;
  /** No attempt is readied before this (the next permit is known to be further away). */
  let prepareFrom = Number.NEGATIVE_INFINITY;

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

  function giveUp(): void {
    const given = ready;
    ready = undefined;
    given?.cancel();
  }

  function startPreparing(pick: ReadyPick): void {
    preparing = true;
    const attempt = queues.begin(pick.partition);
    void options.prepare(pick, attempt).then((sendable) => {
      preparing = false;
      if (sendable && stopped) sendable.cancel();
      else if (sendable) {
        ready = sendable;
        sendable.onLost(() => {
          if (ready !== sendable) return;
          ready = undefined;
          sendable.cancel();
          wake();
        });
      }
      wake();
    });
  }

  async function loop(): Promise<void> {
    while (!stopped) {
      const now = clock.now();
      if (ready && !queues.owns(ready.partition)) giveUp();
      if (!ready) {
        if (preparing) {
          await waitUntil(Number.POSITIVE_INFINITY, 'work');
          continue;
        }
        if (now < prepareFrom) {
          await waitUntil(prepareFrom, 'permit');
          continue;
        }
        const pick = queues.next(now);
        if (pick.kind === 'wait') {
          await waitUntil(pick.until, 'work');
          continue;
        }
        startPreparing(pick);
        continue;
      }
      const permit = limiter.tryAcquire();
      if (permit.granted) {
        const sendable = ready;
        ready = undefined;
        sendable.send();
        continue;
      }
      if (permit.nextAt - now > leadMs) {
        giveUp();
        prepareFrom = permit.nextAt - leadMs;
        continue;
      }
      await waitUntil(permit.nextAt, 'permit');
    }
    giveUp();
  }

  return {
    run() {
      running ??= loop();
      return running;
    },
    workArrived: () => wake('work'),
    pacingChanged() {
      prepareFrom = Number.NEGATIVE_INFINITY;
      wake();
    },
    async stop() {
      stopped = true;
      wake();
      await running;
    },
  };
}
