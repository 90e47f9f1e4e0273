import { describe, expect, it } from 'vitest';
import { allAccepted, formatSummary, type Outcome, percentile, summarize } from './summary.ts';

const ok = (latencyMs: number, status = 202): Outcome => ({ kind: 'response', status, latencyMs });
const failed = (error: string): Outcome => ({ kind: 'error', error, latencyMs: 1 });

describe('percentile (nearest rank)', () => {
  const hundred = Array.from({ length: 100 }, (_, i) => i + 1);

  it('picks the value at rank ceil(p/100 * n)', () => {
    expect(percentile(hundred, 50)).toBe(50);
    expect(percentile(hundred, 95)).toBe(95);
    expect(percentile(hundred, 99)).toBe(99);
    expect(percentile(hundred, 100)).toBe(100);
    expect(percentile([10, 20, 30, 40], 50)).toBe(20);
    expect(percentile([10, 20, 30, 40], 51)).toBe(30);
  });

  it('handles one value, p = 0 and an empty list', () => {
    expect(percentile([7], 99)).toBe(7);
    expect(percentile([3, 4], 0)).toBe(3);
    expect(percentile([], 50)).toBeUndefined();
  });
});

describe('summarize', () => {
  it('counts accepted, rejected by status and transport errors by kind', () => {
    const summary = summarize(
      [
        ok(5),
        ok(1),
        ok(3, 503),
        ok(2, 400),
        ok(4, 503),
        failed('ECONNREFUSED'),
        failed('timeout'),
        failed('ECONNREFUSED'),
      ],
      2000,
    );
    expect(summary).toEqual({
      sent: 8,
      accepted: 2,
      rejected: [
        [400, 1],
        [503, 2],
      ],
      transportErrors: [
        ['ECONNREFUSED', 2],
        ['timeout', 1],
      ],
      elapsedMs: 2000,
      requestsPerSecond: 4,
      latency: { p50: 3, p95: 5, p99: 5, max: 5 },
    });
    expect(allAccepted(summary)).toBe(false);
  });

  it('leaves latency out when nothing answered, and says not all accepted', () => {
    const summary = summarize([failed('ECONNREFUSED')], 10);
    expect(summary.latency).toBeUndefined();
    expect(allAccepted(summary)).toBe(false);
    expect(allAccepted(summarize([], 10))).toBe(false);
  });

  it('is all accepted only when every request got a 2xx', () => {
    expect(allAccepted(summarize([ok(1), ok(2, 200)], 10))).toBe(true);
  });
});

describe('formatSummary', () => {
  it('prints one aligned row per figure', () => {
    const text = formatSummary(summarize([ok(10), ok(20), ok(30, 503), failed('ECONNRESET')], 500));
    expect(text.split('\n')).toEqual([
      'requests sent     4',
      'accepted (2xx)    2',
      'rejected 503      1',
      'transport errors  1',
      '  ECONNRESET      1',
      'duration          0.50 s',
      'requests/s        8.0',
      'latency p50       20.0 ms',
      'latency p95       30.0 ms',
      'latency p99       30.0 ms',
      'latency max       30.0 ms',
    ]);
  });
});
