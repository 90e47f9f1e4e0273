import { describe, expect, it } from 'vitest';
import { createEventQueue } from './event-queue.ts';

describe('createEventQueue', () => {
  it('hands events out by time, and in the order added at the same time', () => {
    const queue = createEventQueue();
    const order: string[] = [];
    for (const [at, name] of [
      [30, 'c'],
      [10, 'a1'],
      [20, 'b'],
      [10, 'a2'],
      [10, 'a3'],
    ] as const) {
      queue.add(at, () => order.push(name));
    }
    const times: number[] = [];
    for (let event = queue.take(); event; event = queue.take()) {
      times.push(event.at);
      event.run();
    }
    expect(order).toEqual(['a1', 'a2', 'a3', 'b', 'c']);
    expect(times).toEqual([10, 10, 10, 20, 30]);
    expect(queue.size).toBe(0);
  });
});
