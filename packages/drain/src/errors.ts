import { ThrottleError } from '@kafka-throttle/common';

/**
 * Every error code drain raises. None reaches a client (drain answers no requests but its
 * health routes); the codes are for logs and for callers that branch on them.
 * - `no_consumer`: a commit was asked for while no consumer is connected (between a crash and
 *   its replacement, or after stop); the committer retries it for partitions still owned.
 * - `unknown_partition`: an attempt was begun on a partition that has no queue (a bug).
 * - `partition_revoked`: work on a record was given up because its partition moved to another
 *   worker, which takes the record over from the committed offset.
 * - `invalid_config`: a configuration built by hand (not by loadConfig) that a part cannot use.
 * - `invalid_rate`: a rate the limiter cannot pace (the configuration validates it first).
 * - `invalid_assignment`: partitions the topic does not have (a bug).
 * - `lane_heap_full`: more lanes pushed than the limiter has (a bug).
 * - `attempt_timeout`: an HTTP attempt was cut off at `sink.timeout`.
 * - `stopping`: an HTTP attempt was cut off because the worker is stopping.
 */
export type DrainErrorCode =
  | 'no_consumer'
  | 'invalid_config'
  | 'invalid_rate'
  | 'invalid_assignment'
  | 'lane_heap_full'
  | 'unknown_partition'
  | 'partition_revoked'
  | 'attempt_timeout'
  | 'stopping';

export class DrainError extends ThrottleError<DrainErrorCode> {
  override name = 'DrainError';
}

/** The message of anything thrown, for a log field or a dead-letter header. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
