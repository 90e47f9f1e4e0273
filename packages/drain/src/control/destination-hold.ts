import type { OutcomeHandler } from '../delivery/outcome.ts';

/**
 * Passes every outcome on, and first tells `hold` when the destination asked to wait
 * (Retry-After): one worker's 429 then holds the whole group, not only the record's partition.
 */
export function holdOnRetryAfter(
  handler: OutcomeHandler,
  hold: (retryAfterMs: number, status: number | undefined) => void,
): OutcomeHandler {
  return {
    handle(of, outcome, started) {
      if (
        outcome.kind === 'retry' &&
        outcome.retryAfterMs !== undefined &&
        outcome.retryAfterMs > 0
      ) {
        hold(outcome.retryAfterMs, outcome.status);
      }
      return handler.handle(of, outcome, started);
    },
  };
}
