import { type BackoffOptions, backoffDelay, type DeadLetterReason } from '@kafka-throttle/common';
import type { SinkOutcome } from '../sinks/sink.ts';

export interface RetryPolicyOptions {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
  /** [0, 1); Math.random unless a test needs repeatable jitter. */
  random?: () => number;
}

export type { DeadLetterReason };

/** What to do with a record after one attempt. */
export type RetryDecision =
  | { action: 'done' }
  | { action: 'retry'; delayMs: number }
  | { action: 'dead-letter'; reason: DeadLetterReason };

export interface RetryPolicy {
  /** `attempts` is how many attempts this record has had, the one just made included. */
  decide(outcome: SinkOutcome, attempts: number): RetryDecision;
  /** Exponential backoff with full jitter: uniform in [0, min(max, base × 2^(attempts−1))]. */
  backoff(attempts: number): number;
}

// Returned for every delivered attempt: one shared object instead of one per delivery.
const DONE: RetryDecision = Object.freeze({ action: 'done' });

export function createRetryPolicy(options: RetryPolicyOptions): RetryPolicy {
  const schedule: BackoffOptions = {
    initialMs: options.backoffBaseMs,
    maxMs: options.backoffMaxMs,
    ...(options.random ? { random: options.random } : {}),
  };
  const backoff = (attempts: number): number => backoffDelay(schedule, attempts);

  function decide(outcome: SinkOutcome, attempts: number): RetryDecision {
    switch (outcome.kind) {
      case 'delivered':
        return DONE;
      case 'reject':
        return { action: 'dead-letter', reason: outcome.status === undefined ? 'error' : 'status' };
      case 'retry':
        if (attempts >= options.maxAttempts) {
          return { action: 'dead-letter', reason: 'attempts-exhausted' };
        }
        // The destination's Retry-After is a floor: jitter may only add to it.
        return { action: 'retry', delayMs: Math.max(backoff(attempts), outcome.retryAfterMs ?? 0) };
    }
  }

  return { decide, backoff };
}
