/** Callbacks ordered by time (ties in the order they were added), for discrete simulations. */
export interface EventQueue {
  readonly size: number;
  add(at: number, run: () => void): void;
  /** Removes and returns the earliest event; undefined when empty. */
  take(): { at: number; run: () => void } | undefined;
}

interface Entry {
  at: number;
  seq: number;
  run: () => void;
}

export function createEventQueue(): EventQueue {
  const heap: Entry[] = [];
  let seq = 0;
  const before = (a: Entry, b: Entry): boolean => a.at < b.at || (a.at === b.at && a.seq < b.seq);

  return {
    get size() {
      return heap.length;
    },
    add(at, run) {
      heap.push({ at, seq: seq++, run });
      let i = heap.length - 1;
      while (i > 0) {
        const parent = (i - 1) >> 1;
        if (!before(heap[i]!, heap[parent]!)) break;
        [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
        i = parent;
      }
    },
    take() {
      const first = heap[0];
      const last = heap.pop();
      if (first === undefined || last === undefined) return undefined;
      if (heap.length > 0) {
        heap[0] = last;
        let i = 0;
        for (;;) {
          const left = 2 * i + 1;
          if (left >= heap.length) break;
          const right = left + 1;
          const child = right < heap.length && before(heap[right]!, heap[left]!) ? right : left;
          if (!before(heap[child]!, heap[i]!)) break;
          [heap[i], heap[child]] = [heap[child]!, heap[i]!];
          i = child;
        }
      }
      return { at: first.at, run: first.run };
    },
  };
}
