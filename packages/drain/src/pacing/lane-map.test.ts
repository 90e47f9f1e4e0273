import { describe, expect, it } from 'vitest';
import { createLaneMap } from './lane-map.ts';

describe('createLaneMap', () => {
  it('fixes floor(N / P) lanes to each partition and rotates the remainder', () => {
    const map = createLaneMap(50, 6, 40);
    expect(map.fixedLanes).toBe(48);
    expect(map.rotatingLanes).toBe(2);
    for (let lane = 0; lane < 48; lane += 1) {
      expect(map.partitionOf(lane, 0)).toBe(lane % 6);
      expect(map.partitionOf(lane, 123_456_789)).toBe(lane % 6);
    }
    // Lane 48 rotates: it moves on by r = 2 partitions each epoch (40 slots).
    expect(map.partitionOf(48, 40)).toBe((map.partitionOf(48, 0) + 2) % 6);
  });

  it('gives every partition exactly N / P lanes on average over a rotation cycle', () => {
    for (const [messages, partitions] of [
      [5, 6],
      [50, 6],
      [1, 6],
      [7, 12],
      [8, 9],
      [3, 1],
    ] as const) {
      const epochs = 3;
      const map = createLaneMap(messages, partitions, epochs);
      const held = new Array<number>(partitions).fill(0);
      const firstSlot = 4_000_000_000 * epochs;
      const cycle = partitions * epochs;
      for (let slot = firstSlot; slot < firstSlot + cycle; slot += 1) {
        for (let lane = 0; lane < messages; lane += 1) held[map.partitionOf(lane, slot)]! += 1;
      }
      for (const count of held) expect(count / cycle).toBeCloseTo(messages / partitions, 12);
    }
  });

  it('moves rotating lanes only at epoch boundaries, and knows which partitions each visits', () => {
    const map = createLaneMap(4, 6, 5);
    for (let lane = 4 - map.rotatingLanes; lane < 4; lane += 1) {
      const seen = new Set<number>();
      for (let slot = 0; slot < 6 * 5 * 4; slot += 1) {
        seen.add(map.partitionOf(lane, slot));
        if (!map.opensEpoch(slot)) {
          expect(map.partitionOf(lane, slot)).toBe(map.partitionOf(lane, slot - 1));
        }
      }
      for (let partition = 0; partition < 6; partition += 1) {
        expect(map.visits(lane, partition)).toBe(seen.has(partition));
      }
    }
    expect(map.nextEpochSlot(7)).toBe(10);
    expect(map.nextEpochSlot(10)).toBe(15);
  });
});
