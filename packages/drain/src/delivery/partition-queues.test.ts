import { describe, expect, it } from 'vitest';
import { queuedRecord, queuedRecords } from '../../test/support/queued-records.ts';
import { createFlowControl } from './flow-control.ts';
import { createPartitionQueues } from './partition-queues.ts';

function setup(overrides: { highWater?: number; lowWater?: number; maxBytes?: number } = {}) {
  const events: string[] = [];
  const flow = createFlowControl({
    highWater: 4,
    lowWater: 1,
    maxBytes: 1_000_000,
    ...overrides,
    onPause: (p) => events.push(`pause ${p}`),
    onResume: (p) => events.push(`resume ${p}`),
  });
  const queues = createPartitionQueues({ flow });
  return { queues, flow, events };
}

function take(queues: ReturnType<typeof setup>['queues'], now = 0) {
  const pick = queues.next(now);
  if (pick.kind !== 'ready') return undefined;
  const attempt = queues.begin(pick.partition);
  return { partition: pick.partition, offset: pick.record.offset, attempt };
}

/** Partition 0 owned, its head (offset 0) failed once and held until 50. */
function heldHead() {
  const { queues } = setup();
  queues.assign([0]);
  queues.push(0, queuedRecords(0, 1));
  take(queues);
  queues.hold(0, 50);
  return queues;
}

describe('createPartitionQueues', () => {
  it('takes partitions in turn, one attempt at a time per partition, in offset order', () => {
    const { queues } = setup({ highWater: 100 });
    queues.assign([0, 1, 2]);
    queues.push(0, queuedRecords(10, 12));
    queues.push(2, queuedRecords(5, 6));
    expect(take(queues)).toEqual({ partition: 0, offset: 10, attempt: 1 });
    expect(take(queues)).toEqual({ partition: 2, offset: 5, attempt: 1 });
    // Both partitions with records are busy now.
    expect(queues.next(0)).toEqual({ kind: 'wait', until: Number.POSITIVE_INFINITY });
    queues.complete(2);
    queues.complete(0);
    expect(take(queues)).toEqual({ partition: 0, offset: 11, attempt: 1 });
    expect(take(queues)).toEqual({ partition: 2, offset: 6, attempt: 1 });
    // Both are busy again: nothing else may start until an attempt ends.
    expect(queues.next(0)).toEqual({ kind: 'wait', until: Number.POSITIVE_INFINITY });
  });

  it('holds a failed head until its retry time and counts its attempts', () => {
    const { queues } = setup();
    queues.assign([0, 1]);
    queues.push(0, queuedRecords(0, 1));
    queues.push(1, queuedRecords(0, 0));
    expect(take(queues, 1000)).toMatchObject({ partition: 0, offset: 0, attempt: 1 });
    queues.hold(0, 1500);
    expect(take(queues, 1000)).toMatchObject({ partition: 1, offset: 0 });
    queues.complete(1);
    // Partition 0 must not skip ahead to offset 1 while offset 0 waits.
    expect(queues.next(1200)).toEqual({ kind: 'wait', until: 1500 });
    expect(take(queues, 1500)).toEqual({ partition: 0, offset: 0, attempt: 2 });
    queues.complete(0);
    expect(take(queues, 1500)).toEqual({ partition: 0, offset: 1, attempt: 1 });
  });

  it('pauses a partition at the high-water mark and resumes it at the low-water mark', () => {
    const { queues, flow, events } = setup({ highWater: 3, lowWater: 1 });
    queues.assign([0]);
    queues.push(0, queuedRecords(0, 1));
    expect(events).toEqual([]);
    queues.push(0, queuedRecords(2, 3));
    expect(events).toEqual(['pause 0']);
    expect(flow.paused()).toEqual([0]);
    for (let i = 0; i < 3; i++) {
      take(queues);
      queues.complete(0);
    }
    expect(events).toEqual(['pause 0', 'resume 0']);
    expect(flow.paused()).toEqual([]);
  });

  it('pauses on bytes too', () => {
    const { queues, events } = setup({ highWater: 1000, maxBytes: 25 });
    queues.assign([0]);
    queues.push(0, [queuedRecord(0, 20), queuedRecord(1, 20)]);
    expect(events).toEqual(['pause 0']);
  });

  it('ignores records it already holds or has delivered (a fetch that overlaps)', () => {
    const { queues } = setup({ highWater: 100 });
    queues.assign([0]);
    expect(queues.push(0, queuedRecords(0, 2))).toBe(3);
    expect(queues.push(0, queuedRecords(1, 4))).toBe(2);
    expect(queues.depth().get(0)).toBe(5);
  });

  it('at a rebalance keeps only the head of a kept partition and takes the rest again from Kafka', () => {
    const { queues, events } = setup({ highWater: 3 });
    queues.assign([0, 1]);
    queues.push(0, queuedRecords(0, 5));
    queues.push(1, queuedRecords(0, 1));
    take(queues);
    queues.complete(0);
    expect(take(queues)).toMatchObject({ partition: 1, offset: 0 });
    expect(take(queues)).toMatchObject({ partition: 0, offset: 1 });
    // Offset 1 of partition 0 is being attempted; 2..5 are queued; partition 0 is paused.
    expect(queues.assign([0])).toBe(4 + 1);
    expect(events).toEqual(['pause 0', 'resume 0']);
    expect(queues.assigned()).toEqual([0]);
    // The refetch starts at the committed offset (0): what was done or is under way is skipped.
    expect(queues.push(0, queuedRecords(0, 3))).toBe(2);
    queues.complete(0);
    expect(take(queues)).toEqual({ partition: 0, offset: 2, attempt: 1 });
  });

  it('lets an attempt on a partition that moved away end, then forgets the partition', () => {
    const { queues } = setup({ highWater: 100 });
    queues.assign([0, 1]);
    queues.push(1, queuedRecords(7, 9));
    expect(take(queues)).toMatchObject({ partition: 1, offset: 7 });
    queues.assign([0]);
    expect(queues.owns(1)).toBe(false);
    expect(queues.push(1, queuedRecords(8, 9))).toBe(0);
    expect(queues.next(0)).toEqual({ kind: 'wait', until: Number.POSITIVE_INFINITY });
    expect(queues.complete(1)?.offset).toBe(7);
    expect(queues.depth().has(1)).toBe(false);
    // Given back later, it starts after what this worker delivered.
    queues.assign([0, 1]);
    expect(queues.push(1, queuedRecords(7, 8))).toBe(1);
  });

  it('keeps the attempt count of a held head across a rebalance that keeps its partition', () => {
    const queues = heldHead();
    queues.assign([0]);
    expect(queues.next(0)).toEqual({ kind: 'wait', until: 50 });
    expect(take(queues, 60)).toEqual({ partition: 0, offset: 0, attempt: 2 });
  });

  it('forgets at once a partition that moved away when no attempt of it is under way', () => {
    const queues = heldHead();
    queues.assign([]);
    expect(queues.depth().size).toBe(0);
    expect(queues.next(100)).toEqual({ kind: 'wait', until: Number.POSITIVE_INFINITY });
  });
});
