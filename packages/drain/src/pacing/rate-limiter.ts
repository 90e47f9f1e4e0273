// The one invariant this limiter rests on: the group's rate is N lanes, and any two consecutive
// uses of one lane, by whichever worker, are at least period + δ apart. A window of one period
// then holds at most one use of each lane, so at most N starts across the group. Everything
// below (the one slot grid, the wait after `assign`, the slot a lane's new owner skips at an
// epoch boundary) exists only to keep that true while workers never talk to each other. The
// guard that carries it from starts to arrivals at the destination is added to the period by
// the caller (`rate.margin`).
import type { Clock } from '@kafka-throttle/common';
import { DrainError } from '../errors.ts';
import { createLaneHeap } from './lane-heap.ts';
import { createLaneMap, type LaneMap } from './lane-map.ts';
import { createSchedule } from './schedule.ts';

export interface RateLimiterOptions {
  /** N for the whole group. */
  messages: number;
  /** The period. */
  periodMs: number;
  /** 1..N: most starts back to back. */
  burst: number;
  clock: Clock;
}

/** nextAt: absolute epoch ms of the earliest time a permit may be granted (Infinity if none). */
export type Permit = { granted: true } | { granted: false; nextAt: number };

export interface RateLimiter {
  /**
   * Called at every rebalance with this worker's partitions and the topic's partition count.
   * Partitions kept from the previous call keep their pace; new ones pay only one grid period
   * (period + margin) after this call, because their previous owner may just have spent them;
   * dropped ones stop at once. Call `assign([], total)` as soon as the assignment may have been
   * lost (rebalance started, removed from the group), and never start work between losing an
   * assignment and the next call: a partition counts as kept only if no one else held it since.
   */
  assign(partitions: readonly number[], totalPartitions: number): void;
  /** Takes one start permit now (clock.now()) if allowed, otherwise says when to ask again. */
  tryAcquire(): Permit;
  /** This worker's current share, in deliveries per period (fractional), for metrics. */
  share(): number;
}

const GRANTED: Permit = Object.freeze({ granted: true });
const NOTHING_OWNED: Permit = Object.freeze({ granted: false, nextAt: Number.POSITIVE_INFINITY });

/**
 * Paces one worker's starts so the whole group keeps at most `messages` starts in any window of
 * `periodMs`, with no messages between workers: each knows only its own partitions and the total.
 *
 * The rate is N lanes on one slot grid fixed to absolute time (see pacing/schedule.ts), each
 * owned by one partition per epoch (see pacing/lane-map.ts). A permit is one use of an owned
 * lane. Every two consecutive uses of a lane, by this worker or by the next owner, are at least
 * period + δ apart:
 * - this worker's own uses of a lane are chained: the next one waits until period + δ after the
 *   last, so a late start (busy sink, late timer) only delays the lane, within its slot's use
 *   window; the grid period being λ longer than period + δ, the lane wins the delay back;
 * - a partition newly assigned pays only one grid period after `assign`, since its previous
 *   owner stopped before this call but may have started something just before;
 * - a lane that comes, at an epoch boundary, from a partition this worker did not hold all
 *   through the slot before skips its first slot here: whoever held it used it by the end of
 *   that slot at the latest, a grid period before the next one opens.
 * Uses of one slot stay inside that slot's grid period, so uses two or more slots apart are at
 * least a grid period apart; the rules above cover neighbouring slots.
 */
export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const schedule = createSchedule(options);
  const { clock } = options;
  const { messages, periodMs, gapMarginMs, slotPeriodMs, useWindowMs, grid } = schedule;

  const lastUse = new Float64Array(messages).fill(Number.NEGATIVE_INFINITY);
  const lastSlot = new Float64Array(messages).fill(Number.NEGATIVE_INFINITY);
  /** Per lane this worker may own, the earliest time it can be used, as of the last look at it. */
  const nextUse = new Float64Array(messages).fill(Number.POSITIVE_INFINITY);
  const lanesByNextUse = createLaneHeap(messages, nextUse);
  let map: LaneMap | undefined;
  let owned = new Uint8Array(0);
  let readyAt = new Float64Array(0);
  let ownedCount = 0;

  /** The earliest time >= from at which `lane` may be used, or Infinity if never. */
  function earliestUse(lane: number, from: number, lanes: LaneMap): number {
    const chained = lastUse[lane]! + periodMs + gapMarginMs;
    let slot = Math.max(grid.slotAt(lane, from), lastSlot[lane]! + 1);
    // Each pass moves to a later slot or epoch; a lane reaches an owned partition within P
    // epochs (assign keeps only lanes whose orbit meets an owned partition).
    for (let pass = 0; pass < 4 * lanes.totalPartitions + 16; pass += 1) {
      const partition = lanes.partitionOf(lane, slot);
      if (owned[partition] !== 1) {
        slot = lanes.nextEpochSlot(slot);
        continue;
      }
      const open = grid.slotStart(slot, lane);
      const earliest = Math.max(open, chained, readyAt[partition]!, from);
      if (earliest < open + useWindowMs && !handedOver(lane, slot, partition, open, lanes)) {
        return earliest;
      }
      slot = Math.max(slot + 1, grid.slotAt(lane, earliest));
    }
    return Number.POSITIVE_INFINITY;
  }

  /**
   * Whether `lane` comes to `partition` in `slot`, the first of an epoch, from a partition that
   * someone else may have used it in during the slot before (not held here since before that
   * slot opened): then `slot` is skipped.
   */
  function handedOver(lane: number, slot: number, partition: number, open: number, lanes: LaneMap) {
    if (!lanes.opensEpoch(slot)) return false;
    const before = lanes.partitionOf(lane, slot - 1);
    return before !== partition && !(owned[before] === 1 && readyAt[before]! <= open);
  }

  function use(lane: number, now: number, lanes: LaneMap): void {
    lastSlot[lane] = grid.slotAt(lane, now);
    lastUse[lane] = now;
    nextUse[lane] = earliestUse(lane, now, lanes);
  }

  function validate(partitions: readonly number[], totalPartitions: number): void {
    if (!Number.isSafeInteger(totalPartitions) || totalPartitions < 1) {
      throw new DrainError(
        'invalid_assignment',
        `totalPartitions must be a positive integer, got ${totalPartitions}`,
      );
    }
    for (const partition of partitions) {
      if (!Number.isSafeInteger(partition) || partition < 0 || partition >= totalPartitions) {
        throw new DrainError(
          'invalid_assignment',
          `partition ${partition} is not one of the topic's ${totalPartitions} partitions`,
        );
      }
    }
  }

  return {
    assign(partitions, totalPartitions) {
      const now = clock.now();
      lanesByNextUse.clear();
      nextUse.fill(Number.POSITIVE_INFINITY);
      if (partitions.length === 0) {
        // Everything is dropped, so the next assignment counts as new whatever the total.
        owned.fill(0);
        ownedCount = 0;
        return;
      }
      validate(partitions, totalPartitions);
      const remapped = map === undefined || map.totalPartitions !== totalPartitions;
      // A new partition count maps lanes to other partitions: nothing can count as kept.
      const lanes = remapped
        ? createLaneMap(messages, totalPartitions, schedule.epochPeriods)
        : (map as LaneMap);
      const nextOwned = new Uint8Array(totalPartitions);
      const nextReadyAt = new Float64Array(totalPartitions);
      for (const partition of partitions) {
        const kept = !remapped && owned[partition] === 1;
        nextOwned[partition] = 1;
        nextReadyAt[partition] = kept ? readyAt[partition]! : now + slotPeriodMs;
      }
      map = lanes;
      owned = nextOwned;
      readyAt = nextReadyAt;
      ownedCount = new Set(partitions).size;

      for (let lane = 0; lane < messages; lane += 1) {
        if (!partitions.some((partition) => lanes.visits(lane, partition))) continue;
        nextUse[lane] = earliestUse(lane, now, lanes);
        lanesByNextUse.push(lane);
      }
    },

    tryAcquire() {
      const lanes = map;
      if (lanes === undefined || ownedCount === 0) return NOTHING_OWNED;
      const now = clock.now();
      for (;;) {
        const lane = lanesByNextUse.top();
        if (lane === undefined) return NOTHING_OWNED;
        if (nextUse[lane]! > now) return { granted: false, nextAt: nextUse[lane]! };
        // The cached time may have passed with the slot's use window: look again from now.
        const at = earliestUse(lane, now, lanes);
        if (at <= now) use(lane, now, lanes);
        else nextUse[lane] = at;
        lanesByNextUse.topChanged();
        if (at <= now) return GRANTED;
      }
    },

    share() {
      if (map === undefined || ownedCount === 0) return 0;
      return (messages * ownedCount) / map.totalPartitions;
    },
  };
}
