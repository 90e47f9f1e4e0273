import { describe, expect, it } from 'vitest';
import { busiestWindow, maxInWindow, rateWindows } from './window-check.ts';

/** The same count by brute force: every window that starts at a start time. */
function bruteForce(times: number[], windowMs: number): number {
  let best = 0;
  for (const from of times) {
    best = Math.max(best, times.filter((t) => t >= from && t < from + windowMs).length);
  }
  return best;
}

describe('maxInWindow', () => {
  it('is 0 without starts and 1 for a single start', () => {
    expect(maxInWindow([], 1000)).toBe(0);
    expect(maxInWindow([42], 1000)).toBe(1);
  });

  it('treats the window as half-open: starts exactly one window apart never share it', () => {
    expect(maxInWindow([0, 1000, 2000, 3000], 1000)).toBe(1);
    expect(maxInWindow([0, 999.999, 2000], 1000)).toBe(2);
  });

  it('counts starts at the same instant together', () => {
    expect(maxInWindow([5, 5, 5, 5, 5, 1005, 1005], 1000)).toBe(5);
    expect(maxInWindow([5, 5, 5, 5, 5, 1004, 1005], 1000)).toBe(6);
  });

  it('reports N + 1 starts squeezed into one window, as a violation of N per window', () => {
    // Five per second, evenly spaced, then one start early: six within one second.
    const times = [0, 200, 400, 600, 800, 999, 1200];
    expect(maxInWindow(times, 1000)).toBe(6);
    expect(busiestWindow(times, 1000)).toEqual({ count: 6, first: 0, last: 5 });
  });

  it('agrees with a brute-force count on random start times', () => {
    let state = 7;
    const random = (): number => {
      state = (state * 48271) % 2147483647;
      return state / 2147483647;
    };
    for (let round = 0; round < 200; round += 1) {
      const times = Array.from({ length: 1 + Math.floor(random() * 60) }, () =>
        Math.floor(random() * 5000),
      ).sort((a, b) => a - b);
      const windowMs = 1 + Math.floor(random() * 1500);
      expect(maxInWindow(times, windowMs)).toBe(bruteForce(times, windowMs));
    }
  });

  it('refuses unsorted times, times that are not numbers and a window that is not positive', () => {
    expect(() => maxInWindow([0, 10, 5], 100)).toThrow(/unsorted/);
    expect(() => maxInWindow([0, Number.NaN], 100)).toThrow(/not a finite number/);
    expect(() => maxInWindow([0], 0)).toThrow(/must be positive/);
  });
});

describe('rateWindows', () => {
  it('agrees with maxInWindow on times in any order, and names each N + 1 that fit a period', () => {
    const times = [1200, 0, 400, 999, 200, 600, 800];
    const { tightestMs, violations } = rateWindows(times, 5, 1000);
    expect(
      maxInWindow(
        [...times].sort((a, b) => a - b),
        1000,
      ),
    ).toBe(6);
    expect(tightestMs).toBe(999);
    expect(violations).toEqual([{ index: 0, spanMs: 999 }]);
    expect(rateWindows([0, 200, 400, 600, 800, 1000], 5, 1000)).toEqual({
      tightestMs: 1000,
      violations: [],
    });
    expect(rateWindows([1, 2], 5, 1000)).toEqual({ tightestMs: undefined, violations: [] });
  });
});
