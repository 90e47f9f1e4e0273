/**
 * Which partition owns each of the N lanes, as a pure function of (lane, slot), so every worker
 * computes the same map from the topic's partition count alone.
 *
 * In epoch e (a run of `epochPeriods` slots) lane i belongs to partition (i + e·r) mod P, with
 * r = N mod P. In every epoch each partition holds floor(N / P) or ceil(N / P) lanes, the r
 * partitions holding one more forming a block that moves on by r each epoch, so over
 * P / gcd(r, P) epochs every partition holds lanes equally long: each partition's long-run share
 * is exactly N / P, fractional or not, and the group total is exactly N at every moment. When P
 * divides N, no lane ever changes partition.
 */
export interface LaneMap {
  readonly totalPartitions: number;
  partitionOf(lane: number, slot: number): number;
  /** Whether `lane` belongs to `partition` in some epoch. */
  visits(lane: number, partition: number): boolean;
  /** The first slot of the epoch after the one holding `slot`. */
  nextEpochSlot(slot: number): number;
}

export function createLaneMap(
  messages: number,
  totalPartitions: number,
  epochPeriods: number,
): LaneMap {
  const shift = messages % totalPartitions;
  const orbit = gcd(shift, totalPartitions);
  const epochOf = (slot: number): number => Math.floor(slot / epochPeriods);

  return {
    totalPartitions,
    partitionOf(lane, slot) {
      // Reduce the epoch first: e·r would lose precision for epochs counted from 1970.
      const epoch = ((epochOf(slot) % totalPartitions) + totalPartitions) % totalPartitions;
      return (lane + epoch * shift) % totalPartitions;
    },
    visits: (lane, partition) => lane % orbit === partition % orbit,
    nextEpochSlot: (slot) => (epochOf(slot) + 1) * epochPeriods,
  };
}

function gcd(a: number, b: number): number {
  let x = a;
  let y = b;
  while (y !== 0) [x, y] = [y, x % y];
  return x;
}
