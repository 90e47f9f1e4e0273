import type { Clock } from './clock.ts';

/**
 * Exponential backoff with full jitter: the n-th delay (n from 1) is uniform in
 * [0, min(maxMs, initialMs × 2^(n−1))]. Full jitter keeps many clients that failed together
 * from retrying together (the thundering herd after a broker or destination comes back).
 */
export interface BackoffOptions {
  initialMs: number;
  maxMs: number;
  /** 'full' (the default) or 'none' for the ceiling itself, when callers want a fixed schedule. */
  jitter?: 'full' | 'none';
  /** [0, 1); Math.random unless a test needs repeatable jitter. */
  random?: () => number;
}

/** The delay before retry number `attempt` (1 = the first retry). */
export function backoffDelay(options: BackoffOptions, attempt: number): number {
  const ceiling = Math.min(options.maxMs, options.initialMs * 2 ** Math.max(0, attempt - 1));
  if (options.jitter === 'none') return ceiling;
  return Math.round((options.random ?? Math.random)() * ceiling);
}

export interface RetryOptions extends BackoffOptions {
  clock: Clock;
  /** Stops the loop: the pending sleep ends at once and the last error is thrown. */
  signal?: AbortSignal;
  /** Most attempts in all (the first included); unbounded when absent. */
  maxAttempts?: number;
  /** Whether an error is worth another attempt; every error is, when absent. */
  shouldRetry?: (error: unknown, attempt: number) => boolean;
  /** Called before each wait, for a log line or a metric. */
  onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
}

/**
 * Calls `attempt` until it resolves, waiting on the injected clock between failures. The one
 * retry loop of the project: every reconnect, commit or send that retries goes through it.
 */
export async function retryWithBackoff<T>(
  attempt: (n: number) => Promise<T>,
  options: RetryOptions,
): Promise<T> {
  for (let n = 1; ; n++) {
    try {
      return await attempt(n);
    } catch (error) {
      const last =
        options.signal?.aborted === true ||
        (options.maxAttempts !== undefined && n >= options.maxAttempts) ||
        (options.shouldRetry !== undefined && !options.shouldRetry(error, n));
      if (last) throw error;
      const delayMs = backoffDelay(options, n);
      options.onRetry?.(error, n, delayMs);
      await options.clock.sleep(delayMs, options.signal);
      if (options.signal?.aborted === true) throw error;
    }
  }
}
