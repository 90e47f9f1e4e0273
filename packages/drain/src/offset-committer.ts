import type { Clock, Logger } from '@kafka-throttle/common';

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
  /** Pause after a failed commit before the next try. */
  retryDelayMs?: number;
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
  committed(): ReadonlyMap<number, string>;
  pending(): number;
  stop(): void;
}

/**
 * Commits offsets after delivery without one request per record: at most one commit request
 * is in flight, and the next one carries the latest offset of every partition delivered to
 * meanwhile. At 5,000 deliveries per second that is a few hundred small requests per second at
 * most, and a crash redelivers only the records delivered during the last round trip.
 */
export function createOffsetCommitter(options: OffsetCommitterOptions): OffsetCommitter {
  const retryDelayMs = options.retryDelayMs ?? 200;
  /** Per partition, the next offset to commit (kept as a number until it is sent). */
  const pending = new Map<number, number>();
  const committed = new Map<number, string>();
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
      for (const { partition, offset } of batch) committed.set(partition, offset);
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
      backoff = new AbortController();
      await options.clock.sleep(retryDelayMs, backoff.signal);
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
      for (const partition of [...committed.keys()]) {
        if (!options.owns(partition)) committed.delete(partition);
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
    committed: () => committed,
    pending: () => pending.size,
    stop() {
      stopped = true;
      backoff?.abort();
    },
  };
}
