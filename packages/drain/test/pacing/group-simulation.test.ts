import { describe, expect, it } from 'vitest';
import { simulateGroup } from './group-simulation.ts';

const T0 = 1_764_000_000_000;
const prompt = { skewMs: 0, latenessMs: () => 0, deliveryMs: () => 1 };

describe('simulateGroup', () => {
  it('starts nothing while there is no work, and nothing from a crashed worker', () => {
    const result = simulateGroup({
      messages: 6,
      periodMs: 1000,
      burst: 6,
      totalPartitions: 6,
      workers: [prompt, prompt],
      generations: [
        {
          revokeAt: T0,
          members: [
            { worker: 0, partitions: [0, 1, 2], assignAt: T0 },
            { worker: 1, partitions: [3, 4, 5], assignAt: T0, crashAt: T0 + 20_000 },
          ],
        },
      ],
      idle: [[T0 + 10_000, T0 + 15_000]],
      untilMs: T0 + 40_000,
    });
    const [first, second] = result.startsByWorker;
    expect(first!.filter((t) => t >= T0 + 10_000 && t < T0 + 15_000)).toEqual([]);
    expect(first!.filter((t) => t >= T0 + 30_000).length).toBeGreaterThanOrEqual(27);
    expect(second!.filter((t) => t >= T0 + 20_000)).toEqual([]);
    expect(result.refusedAtNextAt).toBe(0);
  });

  it('runs a new process, with a fresh limiter, for a worker that rejoins after it crashed', () => {
    const result = simulateGroup({
      messages: 6,
      periodMs: 1000,
      burst: 6,
      totalPartitions: 6,
      workers: [prompt],
      generations: [
        {
          revokeAt: T0,
          members: [{ worker: 0, partitions: [0, 1], assignAt: T0, crashAt: T0 + 5000 }],
        },
        { revokeAt: T0 + 8000, members: [{ worker: 0, partitions: [0, 1], assignAt: T0 + 8000 }] },
      ],
      untilMs: T0 + 20_000,
    });
    expect(result.limiters).toHaveLength(2);
    // The restarted process waits a grid period before its partitions pay again.
    const restarted = result.starts.filter((t) => t >= T0 + 5000);
    expect(restarted[0]).toBeGreaterThanOrEqual(T0 + 8000 + 1005);
  });
});
