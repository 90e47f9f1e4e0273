import type { Clock } from '@kafka-throttle/common';
import type { Outcome } from './summary.ts';

/** Sends request number `n` (from 1) and tells what happened; never throws. */
export type Send = (n: number) => Promise<Outcome>;

export interface RunOptions {
  count: number;
  concurrency: number;
  /** Cap on requests started per second; undefined = no cap. */
  rate: number | undefined;
}

export interface RunHooks {
  clock: Clock;
  /** Called after each request with everything finished so far. */
  onOutcome?: (outcome: Outcome, finished: number) => void;
  /** Aborting stops starting new requests; those in flight still finish. */
  signal?: AbortSignal;
}

export interface RunResult {
  outcomes: Outcome[];
  elapsedMs: number;
}

/**
 * When request `n` (from 1) may start, in ms after the first: evenly spaced at `rate` per second,
 * so a cap never turns into a burst at the start of each second.
 */
export function scheduledStart(n: number, rate: number | undefined): number {
  return rate === undefined ? 0 : ((n - 1) * 1000) / rate;
}

/** Runs `count` requests, at most `concurrency` at once and `rate` started per second. */
export async function runRequests(
  options: RunOptions,
  send: Send,
  hooks: RunHooks,
): Promise<RunResult> {
  const { clock, signal } = hooks;
  const outcomes: Outcome[] = [];
  const started = clock.now();
  let next = 1;

  const worker = async (): Promise<void> => {
    for (;;) {
      if (signal?.aborted || next > options.count) return;
      const n = next++;
      const wait = started + scheduledStart(n, options.rate) - clock.now();
      if (wait > 0) await clock.sleep(wait, signal);
      if (signal?.aborted) return;
      const outcome = await send(n);
      outcomes.push(outcome);
      hooks.onOutcome?.(outcome, outcomes.length);
    }
  };
  const workers = Math.max(1, Math.min(options.concurrency, options.count));
  await Promise.all(Array.from({ length: workers }, worker));
  return { outcomes, elapsedMs: clock.now() - started };
}
