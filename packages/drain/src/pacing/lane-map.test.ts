import { describe, expect, it } from 'vitest';
import { createLaneMap } from './lane-map.ts';

describe('createLaneMap', () => {
  it('gives every partition floor(N / P) or ceil(N / P) lanes in every epoch, N in all', () => {
    const map = createLaneMap(50, 6, 40);
    for (const slot of [0, 40, 80, 123_456_789]) {
      const held = new Array<number>(6).fill(0);
      for (let lane = 0; lane < 50; lane += 1) held[map.partitionOf(lane, slot)]! += 1;
      expect(held.every((count) => count === 8 || count === 9)).toBe(true);
      expect(held.reduce((a, b) => a + b)).toBe(50);
    }
  });

  it('moves no lane when the partition count divides N', () => {
    const map = createLaneMap(12, 6, 40);
    for (let lane = 0; lane < 12; lane += 1) {
      expect(map.partitionOf(lane, 0)).toBe(lane % 6);
      expect(map.partitionOf(lane, 123_456_789)).toBe(lane % 6);
      for (let partition = 0; partition < 6; partition += 1) {
        expect(map.visits(lane, partition)).toBe(partition === lane % 6);
      }
    }
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

  it('moves lanes only at epoch boundaries, and knows which partitions each visits', () => {
    const map = createLaneMap(4, 6, 5);
    for (let lane = 0; lane < 4; lane += 1) {
      const seen = new Set<number>();
      for (let slot = 0; slot < 6 * 5 * 4; slot += 1) {
        seen.add(map.partitionOf(lane, slot));
        if (slot % 5 !== 0) {
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
