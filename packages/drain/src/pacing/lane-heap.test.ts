import { describe, expect, it } from 'vitest';
import { createSeededRandom } from '../../../../test-support/seeded-random.ts';
import { createLaneHeap } from './lane-heap.ts';

describe('createLaneHeap', () => {
  it('keeps the lane with the earliest time on top while top times change', () => {
    const rng = createSeededRandom(5);
    const keys = new Float64Array(300);
    const heap = createLaneHeap(300, keys);
    for (let lane = 0; lane < 300; lane += 1) {
      keys[lane] = Math.floor(rng.next() * 50);
      heap.push(lane);
    }
    for (let step = 0; step < 5000; step += 1) {
      const top = heap.top()!;
      const smallest = Math.min(...keys);
      expect(keys[top]).toBe(smallest);
      // Ties go to the lower lane.
      expect(top).toBe(keys.indexOf(smallest));
      keys[top] = keys[top]! + 1 + Math.floor(rng.next() * 80);
      heap.topChanged();
    }
  });

  it('is empty after clear and refuses more lanes than it was made for', () => {
    const keys = new Float64Array(2);
    const heap = createLaneHeap(2, keys);
    heap.push(0);
    heap.push(1);
    expect(() => heap.push(1)).toThrow(expect.objectContaining({ code: 'lane_heap_full' }));
    heap.clear();
    expect(heap.size).toBe(0);
    expect(heap.top()).toBeUndefined();
  });
});
