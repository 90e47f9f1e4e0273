import { describe, expect, it } from 'vitest';
import { createRetryPolicy } from './retry-policy.ts';

const options = { maxAttempts: 5, backoffBaseMs: 200, backoffMaxMs: 1000 };

describe('createRetryPolicy', () => {
  it('is done after a delivery', () => {
    expect(createRetryPolicy(options).decide({ kind: 'delivered', status: 200 }, 1)).toEqual({
      action: 'done',
    });
  });

  it('dead-letters a rejected record at once, saying whether a status or an error did it', () => {
    const policy = createRetryPolicy(options);
    expect(policy.decide({ kind: 'reject', status: 422, error: 'HTTP 422' }, 1)).toEqual({
      action: 'dead-letter',
      reason: 'status',
    });
    expect(policy.decide({ kind: 'reject', error: 'unusable' }, 1)).toEqual({
      action: 'dead-letter',
      reason: 'error',
    });
  });

  it('backs off exponentially with full jitter, capped at the maximum', () => {
    const top = createRetryPolicy({ ...options, random: () => 0.999999 });
    expect([1, 2, 3, 4, 5].map((n) => top.backoff(n))).toEqual([200, 400, 800, 1000, 1000]);
    const bottom = createRetryPolicy({ ...options, random: () => 0 });
    expect([1, 2, 3].map((n) => bottom.backoff(n))).toEqual([0, 0, 0]);
    const half = createRetryPolicy({ ...options, random: () => 0.5 });
    expect(half.backoff(2)).toBe(200);
  });

  it('retries retriable failures until maxAttempts, then dead-letters them', () => {
    const policy = createRetryPolicy({ ...options, random: () => 0.5 });
    const failure = { kind: 'retry', status: 503, error: 'HTTP 503' } as const;
    expect(policy.decide(failure, 1)).toEqual({ action: 'retry', delayMs: 100 });
    expect(policy.decide(failure, 4)).toEqual({ action: 'retry', delayMs: 500 });
    expect(policy.decide(failure, 5)).toEqual({
      action: 'dead-letter',
      reason: 'attempts-exhausted',
    });
  });

  it('never retries sooner than Retry-After asks, and jitter may only add to it', () => {
    const policy = createRetryPolicy({ ...options, random: () => 0.5 });
    const asked = { kind: 'retry', status: 429, error: 'HTTP 429', retryAfterMs: 2000 } as const;
    expect(policy.decide(asked, 1)).toEqual({ action: 'retry', delayMs: 2000 });
    const short = { ...asked, retryAfterMs: 10 };
    expect(policy.decide(short, 3)).toEqual({ action: 'retry', delayMs: 400 });
  });
});
