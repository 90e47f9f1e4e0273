import { constants } from 'node:os';

/**
 * How a service process (`pnpm ingest`, `pnpm drain`) ends, the same for both. Orchestrators and
 * scripts branch on these, so they are a contract (listed in the README).
 */
export const EXIT_CODE = {
  /** Stopped gracefully after SIGTERM, SIGINT or SIGHUP. */
  stopped: 0,
  /** Crashed: could not start, an uncaught exception, or a graceful stop that failed. */
  crashed: 1,
  /** Invalid configuration; stderr has one line per bad key. */
  badConfig: 2,
  /** The graceful stop overran its shutdown timeout, so the process gave up waiting. */
  shutdownTimeout: 3,
} as const;

/**
 * A second stop signal ends the process at once with the shell's convention for death by that
 * signal: 128 + its number (129 SIGHUP, 130 SIGINT, 143 SIGTERM).
 */
export function signalExitCode(signal: NodeJS.Signals): number {
  return 128 + constants.signals[signal];
}
