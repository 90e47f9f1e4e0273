import { createHash } from 'node:crypto';
import type { Clock } from '@kafka-throttle/common';
import { IngestError } from '../errors.ts';

export interface IdempotencyGuardOptions {
  clock: Clock;
  /** How long a key is remembered after its last accepted use (0: nothing is checked). */
  window: number;
  /** Most keys remembered; past it the oldest are forgotten first. */
  maxKeys: number;
}

export interface IdempotencyGuard {
  /**
   * Claims `key` for `body`. Throws `idempotency_conflict` when the key was used with another
   * body within the window. Returns what to call if the request is not accepted after all, so a
   * failed attempt does not hold the key against a corrected retry.
   */
  claim(key: string, body: Buffer): () => void;
}

interface Use {
  digest: string;
  at: number;
}

const KEEP = (): void => {};

/**
 * Refuses an `Idempotency-Key` reused with a different body: its id would reach the destination
 * twice, and a destination that drops duplicates would silently drop the second, different
 * request. The same key with the same body is a retry and passes (at-least-once).
 *
 * Kept in this process's memory only, bounded by `maxKeys` (about 200 bytes plus the key each):
 * several ingest processes, or a restart, do not share what they remember.
 */
export function createIdempotencyGuard(options: IdempotencyGuardOptions): IdempotencyGuard {
  const { clock, window, maxKeys } = options;
  // Insertion order is age order: a key used again is moved to the end.
  const uses = new Map<string, Use>();

  function forgetOld(now: number): void {
    for (const [key, use] of uses) {
      if (now - use.at < window && uses.size <= maxKeys) break;
      uses.delete(key);
    }
  }

  return {
    claim(key, body) {
      if (window <= 0) return KEEP;
      const now = clock.now();
      forgetOld(now);
      const digest = createHash('sha256').update(body).digest('base64');
      const earlier = uses.get(key);
      if (earlier !== undefined && earlier.digest !== digest) {
        throw new IngestError(
          'idempotency_conflict',
          `the Idempotency-Key was used with a different body within the last ${window} ms`,
        );
      }
      const use: Use = { digest, at: now };
      uses.delete(key);
      uses.set(key, use);
      if (uses.size > maxKeys) forgetOld(now);
      if (earlier !== undefined) return KEEP;
      return () => {
        if (uses.get(key) === use) uses.delete(key);
      };
    },
  };
}
