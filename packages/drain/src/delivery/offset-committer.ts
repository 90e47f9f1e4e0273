import { type BackoffOptions, backoffDelay, type Clock, type Logger } from '@kafka-throttle/common';

export interface PartitionOffset {
  partition: number;
  /** The next offset to consume: one past the last record delivered or dead-lettered. */
  offset: string;
}

export interface OffsetCommitterOptions {
  commit(offsets: PartitionOffset[]): Promise<void>;
  /** Only partitions this worker owns are committed. */
  owns(partition: number): boolean;
  clock: Clock;
  logger: Logger;
  /** Waits after failed commits: the first retry's, and the longest while commits keep failing. */
  retry?: Pick<BackoffOptions, 'initialMs' | 'maxMs'>;
  onCommitted?(offsets: readonly PartitionOffset[]): void;
  onFailed?(error: unknown): void;
}

export interface OffsetCommitter {
  /** The record at `offset` was delivered or dead-lettered (records before it already were). */
  done(partition: number, offset: number): void;
  /** Forgets pending offsets of partitions no longer owned; retries the rest at once. */
  reassigned(): void;
  /** Commits what is pending now and waits for it; gives up at `deadline` (clock time). */
  flush(deadline: number): Promise<boolean>;
  stop(): void;
}

/**
 * A commit that failed is retried soon (a coordinator moving is over in a moment), then less and
 * less often while Kafka stays away (at most a second, which bounds how long delivered offsets
 * wait once it is back). No jitter: there is one committer per worker, and a
 * rebalance or a flush cuts the wait short anyway.
 */
const DEFAULT_COMMIT_RETRY = { initialMs: 200, maxMs: 1000 };

/**
 * Commits offsets after delivery without one request per record: at most one commit request
 * is in flight, and the next one carries the latest offset of every partition delivered to
 * meanwhile. At 5,000 deliveries per second that is a few hundred small requests per second at
 * most, and a crash redelivers only the records delivered during the last round trip.
 */
export function createOffsetCommitter(options: OffsetCommitterOptions): OffsetCommitter {
  const retry: BackoffOptions = { ...(options.retry ?? DEFAULT_COMMIT_RETRY), jitter: 'none' };
  /** Per partition, the next offset to commit (kept as a number until it is sent). */
  const pending = new Map<number, number>();
  /** Commits that failed in a row; sets the wait before the next one. */
  let failures = 0;
  let inFlight: Promise<void> | undefined;
  let backoff: AbortController | undefined;
  let stopped = false;

  function schedule(): void {
    if (inFlight || stopped || pending.size === 0) return;
    inFlight = drain().finally(() => {
      inFlight = undefined;
      // Records delivered while the last request was out, or a retry after a failure.
      schedule();
    });
  }

  async function drain(): Promise<void> {
    // Let deliveries that end in the same turn of the event loop share one request.
    await Promise.resolve();
    const batch = [...pending]
      .filter(([partition]) => options.owns(partition))
      .map(([partition, offset]) => ({ partition, offset: String(offset) }));
    pending.clear();
    if (batch.length === 0) return;
    try {
      await options.commit(batch);
      failures = 0;
      options.onCommitted?.(batch);
    } catch (error) {
      options.onFailed?.(error);
      options.logger.warn(
        { err: error, offsets: batch },
        'offset commit failed; retrying for partitions still owned',
      );
      for (const { partition, offset } of batch) {
        if (!pending.has(partition) && options.owns(partition))
          pending.set(partition, Number(offset));
      }
      failures++;
      backoff = new AbortController();
      await options.clock.sleep(backoffDelay(retry, failures), backoff.signal);
      backoff = undefined;
    }
  }

  return {
    done(partition, offset) {
      pending.set(partition, offset + 1);
      schedule();
    },
    reassigned() {
      for (const partition of [...pending.keys()]) {
        if (!options.owns(partition)) pending.delete(partition);
      }
      backoff?.abort();
      schedule();
    },
    async flush(deadline) {
      backoff?.abort();
      while (options.clock.now() < deadline) {
        if (!inFlight && pending.size === 0) return true;
        schedule();
        if (!inFlight) return pending.size === 0;
        const remaining = deadline - options.clock.now();
        const timedOut = new AbortController();
        const expired = options.clock.sleep(remaining, timedOut.signal).then(() => 'timeout');
        const result = await Promise.race([inFlight.then(() => 'done'), expired]);
        timedOut.abort();
        if (result === 'timeout') return false;
        backoff?.abort();
      }
      return !inFlight && pending.size === 0;
    },
    stop() {
      stopped = true;
      backoff?.abort();
    },
  };
}
