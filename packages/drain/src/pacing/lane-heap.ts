import { DrainError } from '../errors.ts';

/**
 * A binary min-heap of lane numbers ordered by a time kept per lane in `keys`, so the limiter
 * finds its earliest lane in O(1) and re-files it in O(log N) whatever N is (5,000 lanes at
 * 5,000 per second). Its storage is allocated once for the largest possible number of lanes.
 * Only the top lane's key may change between calls (then call `topChanged`).
 */
export interface LaneHeap {
  readonly size: number;
  /** The lane with the smallest key; undefined when empty. */
  top(): number | undefined;
  push(lane: number): void;
  /** Re-files the top lane after its key changed. */
  topChanged(): void;
  clear(): void;
}

export function createLaneHeap(capacity: number, keys: Float64Array): LaneHeap {
  const lanes = new Int32Array(capacity);
  let size = 0;

  function before(a: number, b: number): boolean {
    const ka = keys[lanes[a]!]!;
    const kb = keys[lanes[b]!]!;
    // Equal times go to the lower lane, so the order does not depend on insertion history.
    return ka < kb || (ka === kb && lanes[a]! < lanes[b]!);
  }

  function swap(a: number, b: number): void {
    const t = lanes[a]!;
    lanes[a] = lanes[b]!;
    lanes[b] = t;
  }

  function siftUp(from: number): void {
    let i = from;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(i, parent)) return;
      swap(i, parent);
      i = parent;
    }
  }

  function siftDown(from: number): void {
    let i = from;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= size) return;
      const right = left + 1;
      const child = right < size && before(right, left) ? right : left;
      if (!before(child, i)) return;
      swap(i, child);
      i = child;
    }
  }

  return {
    get size() {
      return size;
    },
    top: () => (size > 0 ? lanes[0] : undefined),
    push(lane) {
      if (size >= capacity)
        throw new DrainError('lane_heap_full', `lane heap is full (${capacity} lanes)`);
      lanes[size] = lane;
      size += 1;
      siftUp(size - 1);
    },
    topChanged: () => siftDown(0),
    clear() {
      size = 0;
    },
  };
}
