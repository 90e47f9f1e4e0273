import type { Clock, Logger } from '@kafka-throttle/common';

/**
 * How `drain.shutdownTimeout` (8 s by default, inside the 10 s the design allows a stop) is
 * shared out between the steps of a graceful stop, as fractions of it counted from the stop's
 * start. main.ts exits the process at the whole budget, so every step must be over before:
 * - up to 60% (4.8 s) for the attempts under way to end by themselves: a delivered attempt that
 *   ends is one fewer duplicate after the restart, and most destinations answer in far less;
 *   one slower than that (`sink.timeout` is 10 s) would eat the whole budget, so it is cut;
 * - then the attempts still going are aborted, and get until 70% to wind down (an abort is a
 *   socket's close, milliseconds; the 10% is slack for a busy event loop);
 * - then until 80% to commit what was delivered: one commit round trip, or a few retries of it;
 * - the last 20% (1.6 s) is for leaving the group and closing the dead-letter producer, the sink
 *   and the health server, which take well under a second against a live broker.
 */
export const SHUTDOWN_BUDGET = {
  attemptsEnd: 0.6,
  abortedAttemptsEnd: 0.7,
  commitsFlushed: 0.8,
} as const;

/** The steps of a stop, in the order they run; each is one of the worker's parts. */
export interface ShutdownSteps {
  /** No new attempt starts after this resolves. */
  stopDispatching(): Promise<void>;
  /** Stops fetching, so nothing new is queued while the rest winds down. */
  pauseFetching(): void;
  /** Resolves true once no attempt is under way, false at `deadline` (clock time). */
  attemptsIdle(deadline: number): Promise<boolean>;
  /** Cuts the attempts still under way short. */
  abortAttempts(): void;
  inFlight(): number;
  /** Commits every delivered offset; false if that did not happen by `deadline`. */
  flushCommits(deadline: number): Promise<boolean>;
  stopCommitting(): void;
  /** Leaves the group and disconnects the consumer. */
  leaveGroup(): Promise<void>;
  /** Everything else that holds a connection or a port; failures here are not worth waiting on. */
  closeRest(): Promise<unknown>[];
}

/**
 * A graceful stop: stop starting attempts, let those under way end (or abort them), commit
 * what was delivered, leave the group, close the rest. Each step is bounded by its share of
 * `budgetMs` so the whole ends within it.
 */
export async function shutDown(
  steps: ShutdownSteps,
  budgetMs: number,
  clock: Clock,
  logger: Logger,
): Promise<void> {
  const began = clock.now();
  const by = (fraction: number): number => began + budgetMs * fraction;
  await steps.stopDispatching();
  steps.pauseFetching();
  if (!(await steps.attemptsIdle(by(SHUTDOWN_BUDGET.attemptsEnd)))) {
    logger.warn(
      { inFlight: steps.inFlight() },
      'attempts still under way at the shutdown deadline; aborting them',
    );
    steps.abortAttempts();
    await steps.attemptsIdle(by(SHUTDOWN_BUDGET.abortedAttemptsEnd));
  }
  if (!(await steps.flushCommits(by(SHUTDOWN_BUDGET.commitsFlushed)))) {
    logger.warn('could not commit every delivered offset before leaving the group');
  }
  steps.stopCommitting();
  await steps.leaveGroup();
  await Promise.allSettled(steps.closeRest());
  logger.info({ ms: clock.now() - began }, 'stopped');
}
