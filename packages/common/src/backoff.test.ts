import { describe, expect, it } from 'vitest';
import { backoffDelay, retryWithBackoff } from './backoff.ts';
import type { Clock } from './clock.ts';

function recordingClock(): Clock & { slept: number[] } {
  const slept: number[] = [];
  return { slept, now: () => 0, sleep: async (ms) => void slept.push(ms) };
}

describe('backoffDelay', () => {
  it('doubles from the initial delay up to the maximum', () => {
    const options = { initialMs: 100, maxMs: 1000, jitter: 'none' as const };
    expect([1, 2, 3, 4, 5, 6].map((n) => backoffDelay(options, n))).toEqual([
      100, 200, 400, 800, 1000, 1000,
    ]);
  });

  it('draws full jitter below the ceiling', () => {
    expect(backoffDelay({ initialMs: 100, maxMs: 1000, random: () => 0.5 }, 3)).toBe(200);
    expect(backoffDelay({ initialMs: 100, maxMs: 1000, random: () => 0 }, 3)).toBe(0);
  });
});

describe('retryWithBackoff', () => {
  it('retries until the attempt succeeds, sleeping on the injected clock', async () => {
    const clock = recordingClock();
    let calls = 0;
    const result = await retryWithBackoff(
      async (n) => {
        calls = n;
        if (n < 3) throw new Error(`fail ${n}`);
        return 'ok';
      },
      { clock, initialMs: 10, maxMs: 100, jitter: 'none' },
    );
    expect(result).toBe('ok');
    expect(calls).toBe(3);
    expect(clock.slept).toEqual([10, 20]);
  });

  it('gives up after maxAttempts with the last error', async () => {
    const clock = recordingClock();
    await expect(
      retryWithBackoff(
        async (n) => {
          throw new Error(`fail ${n}`);
        },
        { clock, initialMs: 1, maxMs: 1, maxAttempts: 3 },
      ),
    ).rejects.toThrow('fail 3');
    expect(clock.slept).toHaveLength(2);
  });

  it('stops at once for an error that shouldRetry refuses', async () => {
    const clock = recordingClock();
    await expect(
      retryWithBackoff(
        async () => {
          throw new Error('permanent');
        },
        { clock, initialMs: 1, maxMs: 1, shouldRetry: () => false },
      ),
    ).rejects.toThrow('permanent');
    expect(clock.slept).toHaveLength(0);
  });

  it('stops when the signal aborts during a wait', async () => {
    const controller = new AbortController();
    const clock: Clock = {
      now: () => 0,
      sleep: async () => controller.abort(),
    };
    const retried: number[] = [];
    await expect(
      retryWithBackoff(
        async (n) => {
          throw new Error(`fail ${n}`);
        },
        {
          clock,
          initialMs: 1,
          maxMs: 1,
          signal: controller.signal,
          onRetry: (_e, n) => retried.push(n),
        },
      ),
    ).rejects.toThrow('fail 1');
    expect(retried).toEqual([1]);
  });
});
