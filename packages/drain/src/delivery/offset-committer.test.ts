import { createLogger } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import { createManualClock } from '../../../../test-support/manual-clock.ts';
import { createOffsetCommitter, type PartitionOffset } from './offset-committer.ts';

const logger = createLogger({ level: 'silent', name: 'test' });
/** Lets queued promise callbacks (the committer's own chaining) run. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A commit whose requests the test answers one by one. */
function fakeCommit() {
  const requests: { offsets: PartitionOffset[]; resolve(): void; reject(e: Error): void }[] = [];
  return {
    requests,
    commit(offsets: PartitionOffset[]): Promise<void> {
      return new Promise((resolve, reject) => {
        requests.push({ offsets, resolve: () => resolve(), reject });
      });
    },
  };
}

function setup(owned = new Set([0, 1, 2])) {
  const clock = createManualClock(1_000_000);
  const kafka = fakeCommit();
  const committed: PartitionOffset[][] = [];
  const committer = createOffsetCommitter({
    commit: kafka.commit,
    owns: (p) => owned.has(p),
    clock,
    logger,
    onCommitted: (offsets) => committed.push([...offsets]),
  });
  return { clock, kafka, committed, committer, owned };
}

describe('the offset committer', () => {
  it('commits nothing until a record is done, then the offset after it', async () => {
    const { kafka, committer } = setup();
    await settle();
    expect(kafka.requests).toHaveLength(0);
    committer.done(1, 41);
    await settle();
    expect(kafka.requests.map((r) => r.offsets)).toEqual([[{ partition: 1, offset: '42' }]]);
    committer.stop();
  });

  it('keeps one request in flight and sends the latest offset of each partition done meanwhile', async () => {
    const { kafka, committed, committer } = setup();
    committer.done(0, 0);
    await settle();
    expect(kafka.requests).toHaveLength(1);
    committer.done(0, 1);
    committer.done(0, 2);
    committer.done(2, 7);
    await settle();
    // The first request is still out: nothing more is sent.
    expect(kafka.requests).toHaveLength(1);
    kafka.requests[0]?.resolve();
    await settle();
    expect(kafka.requests).toHaveLength(2);
    expect(kafka.requests[1]?.offsets).toEqual([
      { partition: 0, offset: '3' },
      { partition: 2, offset: '8' },
    ]);
    kafka.requests[1]?.resolve();
    await settle();
    expect(committed).toEqual([
      [{ partition: 0, offset: '1' }],
      [
        { partition: 0, offset: '3' },
        { partition: 2, offset: '8' },
      ],
    ]);
    committer.stop();
  });

  it('retries a failed commit after a backoff, only for partitions it still owns', async () => {
    const { clock, kafka, committer, owned } = setup();
    committer.done(0, 4);
    committer.done(1, 9);
    await settle();
    kafka.requests[0]?.reject(new Error('coordinator moved'));
    await settle();
    // No retry before the backoff has passed.
    expect(kafka.requests).toHaveLength(1);
    owned.delete(1);
    clock.advance(200);
    await settle();
    expect(kafka.requests.map((r) => r.offsets)).toEqual([
      [
        { partition: 0, offset: '5' },
        { partition: 1, offset: '10' },
      ],
      [{ partition: 0, offset: '5' }],
    ]);
    kafka.requests[1]?.resolve();
    committer.stop();
  });

  it('does not let an older offset that failed overwrite a newer one', async () => {
    const { clock, kafka, committer } = setup();
    committer.done(0, 4);
    await settle();
    committer.done(0, 5);
    kafka.requests[0]?.reject(new Error('timeout'));
    await settle();
    clock.advance(200);
    await settle();
    expect(kafka.requests[1]?.offsets).toEqual([{ partition: 0, offset: '6' }]);
    kafka.requests[1]?.resolve();
    committer.stop();
  });

  it('forgets pending offsets of partitions handed away and retries the rest at once', async () => {
    const { kafka, committer, owned } = setup();
    committer.done(0, 1);
    committer.done(2, 3);
    await settle();
    kafka.requests[0]?.reject(new Error('rebalance in progress'));
    await settle();
    owned.delete(2);
    committer.reassigned();
    await settle();
    expect(kafka.requests[1]?.offsets).toEqual([{ partition: 0, offset: '2' }]);
    kafka.requests[1]?.resolve();
    committer.stop();
  });

  it('flushes what is pending, and reports failure when Kafka does not answer by the deadline', async () => {
    const { clock, kafka, committer } = setup();
    committer.done(1, 0);
    const flushed = committer.flush(clock.now() + 1000);
    await settle();
    kafka.requests[0]?.resolve();
    expect(await flushed).toBe(true);

    committer.done(1, 1);
    const stuck = committer.flush(clock.now() + 1000);
    await settle();
    expect(kafka.requests).toHaveLength(2);
    clock.advance(1000);
    expect(await stuck).toBe(false);
    committer.stop();
  });
});
