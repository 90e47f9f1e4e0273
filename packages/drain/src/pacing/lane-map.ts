/**
 * Which partition owns each of the N lanes, as a pure function of (lane, slot), so every worker
 * computes the same map from the topic's partition count alone.
 *
 * With N = a·P + r, lanes 0..a·P−1 belong to partition (lane mod P) for good: every partition
 * holds a whole lanes, and they never change hands except at a rebalance. The r remaining lanes
 * rotate: in epoch e (a run of `epochPeriods` grid periods) remainder lane i belongs to
 * partition (i + e·r) mod P. The r rotating lanes cover a block of r consecutive partitions that
 * moves on by r each epoch, so over P / gcd(r, P) epochs every partition holds them equally
 * long: each partition's long-run share is exactly N / P, fractional or not, and the group total
 * is exactly N at every moment. Hand-overs between workers happen only once per epoch and only
 * for the r rotating lanes, which keeps their cost (the taker skips the lane's first slot of the
 * epoch, see rate-limiter.ts) small.
 */
export interface LaneMap {
  readonly totalPartitions: number;
  /** Lanes below this index are fixed to partition lane mod P. */
  readonly fixedLanes: number;
  /** r = N mod P: lanes that rotate between partitions, one epoch at a time. */
  readonly rotatingLanes: number;
  readonly epochPeriods: number;
  partitionOf(lane: number, slot: number): number;
  /** Whether `lane` belongs to `partition` in some epoch. */
  visits(lane: number, partition: number): boolean;
  /** Whether `slot` is the first of its epoch (where a rotating lane may change partition). */
  opensEpoch(slot: number): boolean;
  /** The first slot of the epoch after the one holding `slot`. */
  nextEpochSlot(slot: number): number;
}

export function createLaneMap(
  messages: number,
  totalPartitions: number,
  epochPeriods: number,
): LaneMap {
  const perPartition = Math.floor(messages / totalPartitions);
  const fixedLanes = perPartition * totalPartitions;
  const rotatingLanes = messages - fixedLanes;
  const orbit = gcd(rotatingLanes, totalPartitions);
  const mod = (x: number, m: number): number => ((x % m) + m) % m;
  const epochOf = (slot: number): number => Math.floor(slot / epochPeriods);

  return {
    totalPartitions,
    fixedLanes,
    rotatingLanes,
    epochPeriods,
    partitionOf(lane, slot) {
      if (lane < fixedLanes) return lane % totalPartitions;
      // Reduce the epoch first: e·r would lose precision for epochs counted from 1970.
      const shift = mod(epochOf(slot), totalPartitions) * rotatingLanes;
      return (lane - fixedLanes + shift) % totalPartitions;
    },
    visits(lane, partition) {
      if (lane < fixedLanes) return lane % totalPartitions === partition;
      return (lane - fixedLanes) % orbit === partition % orbit;
    },
    opensEpoch: (slot) => mod(slot, epochPeriods) === 0,
    nextEpochSlot: (slot) => (epochOf(slot) + 1) * epochPeriods,
  };
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}
