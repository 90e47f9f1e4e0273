import type { Clock } from '@kafka-throttle/common';
import type { RateLimiter } from '../pacing/rate-limiter.ts';
import type { NextPick, PartitionQueues } from './partition-queues.ts';

export type ReadyPick = Extract<NextPick, { kind: 'ready' }>;

/** An attempt ready to go out the moment it has a permit. */
export interface Sendable {
  partition: number;
  /** Sends at once; what follows (the outcome) is the worker's business. */
  send(): void;
  /** Gives it up unsent; its partition may be picked again. */
  cancel(): void;
  /** Calls `listener` with this attempt if it cannot be sent any more (its connection closed). */
  onLost(listener: (lost: Sendable) => void): void;
}

/**
 * Readies an attempt of the picked record without sending it, at once or later (a promise).
 * Undefined when the attempt ended before anything was sent (its owner has dealt with it).
 * Must not throw or reject.
 */
export type PrepareAttempt = (
  pick: ReadyPick,
  attempt: number,
) => Sendable | undefined | Promise<Sendable | undefined>;

export interface DispatcherOptions {
  queues: PartitionQueues;
  limiter: Pick<RateLimiter, 'tryAcquire'>;
  clock: Clock;
  /**
   * How long before its permit an attempt is readied. An attempt readied earlier (because the
   * limiter's answer was unknown) is given up when the permit turns out to be further away, so
   * a slow rate does not keep a connection to the destination busy doing nothing.
   */
  leadMs?: number;
}

export interface Dispatcher {
  /**
   * Runs until stop(), readying attempts with `prepare`; resolves then. Given here rather than
   * at creation because preparing attempts needs the dispatcher (an attempt that ends wakes it).
   */
  run(prepare: PrepareAttempt): Promise<void>;
  /** A record arrived or an attempt ended: a partition may have become ready. */
  workArrived(): void;
  /** The assignment (and so the share) changed: the permit we wait for may come sooner. */
  pacingChanged(): void;
  /** Nothing is sent after this resolves; a readied attempt is given up. */
  stop(): Promise<void>;
}

// setTimeout cannot wait longer than this; a longer wait is simply renewed.
const LONGEST_SLEEP_MS = 2 ** 31 - 1;
// An abort reason of our own: the default one is a DOMException, costly to build at this rate.
const WOKEN = Symbol('woken');
/**
 * Default `leadMs`: long enough for a sink to connect to a distant destination before its
 * permit, short enough that an idle connection is not held open for long at slow rates.
 */
const DEFAULT_LEAD_MS = 1000;

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
  const leadMs = options.leadMs ?? DEFAULT_LEAD_MS;
  let stopped = false;
  let waiting: { reason: 'work' | 'permit'; wake: () => void } | undefined;
  let running: Promise<void> | undefined;
  let ready: Sendable | undefined;
  let preparing: Promise<void> | undefined;
  /** Whether `ready` has our lost-listener yet. */
  let watched = false;
  /** No attempt is readied before this (the next permit is known to be further away). */
  let prepareFrom = Number.NEGATIVE_INFINITY;

  async function waitUntil(at: number, reason: 'work' | 'permit'): Promise<void> {
    if (!Number.isFinite(at)) {
      // Nothing timed to wait for: only a wake-up ends this, so no timer is needed (this is
      // the common wait at high rates, between an attempt's end and the next).
      await new Promise<void>((resolve) => {
        waiting = { reason, wake: resolve };
      });
      return;
    }
    const timer = new AbortController();
    const wake = (): void => timer.abort(WOKEN);
    waiting = { reason, wake };
    try {
      const ms = at - clock.now();
      await clock.sleep(Math.min(LONGEST_SLEEP_MS, Math.max(0, ms)), timer.signal);
    } finally {
      if (waiting?.wake === wake) waiting = undefined;
    }
  }

  function wake(reason?: 'work' | 'permit'): void {
    if (waiting && (reason === undefined || waiting.reason === reason)) {
      const { wake: resolve } = waiting;
      waiting = undefined;
      resolve();
    }
  }

  function giveUp(): void {
    const given = ready;
    ready = undefined;
    given?.cancel();
  }

  /** Readies the pick; a promise only if the sink needs time (a sink writing to a stream does not). */
  function prepareOne(pick: ReadyPick, prepare: PrepareAttempt): Promise<void> | undefined {
    const result = prepare(pick, queues.begin(pick.partition));
    if (!(result instanceof Promise)) {
      accept(result);
      return undefined;
    }
    return result.then((sendable) => {
      preparing = undefined;
      accept(sendable);
    });
  }

  function accept(sendable: Sendable | undefined): void {
    if (sendable && stopped) sendable.cancel();
    else if (sendable) {
      ready = sendable;
      watched = false;
    }
  }

  /** Its connection may close while it waits for a permit: then ready another one. */
  function lost(sendable: Sendable): void {
    if (ready !== sendable) return;
    ready = undefined;
    sendable.cancel();
    wake();
  }

  async function loop(prepare: PrepareAttempt): Promise<void> {
    while (!stopped) {
      const now = clock.now();
      if (ready && !queues.owns(ready.partition)) giveUp();
      if (!ready) {
        if (preparing) {
          // Readying ends soon either way (connected, failed or timed out); no timer needed.
          await preparing;
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
        preparing = prepareOne(pick, prepare);
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
      // Watched only when it has to wait: at high rates the permit is there at once.
      if (!watched) {
        watched = true;
        ready.onLost(lost);
      }
      await waitUntil(permit.nextAt, 'permit');
    }
    giveUp();
  }

  return {
    run(prepare) {
      running ??= loop(prepare);
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
