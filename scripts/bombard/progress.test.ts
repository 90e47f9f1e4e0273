import { systemClock } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import { createProgress, renderBar } from './progress.ts';
import type { Outcome } from './summary.ts';

const accepted: Outcome = { kind: 'response', status: 202, latencyMs: 1 };
const rejected: Outcome = { kind: 'response', status: 503, latencyMs: 1 };

describe('renderBar', () => {
  it('fills in proportion and shows the tallies', () => {
    expect(renderBar({ finished: 5, accepted: 4, rejected: 1, errors: 0 }, 10, 10)).toBe(
      '[#####-----]  5/10  accepted 4  rejected 1  errors 0',
    );
    expect(renderBar({ finished: 10, accepted: 10, rejected: 0, errors: 0 }, 10, 4)).toBe(
      '[####] 10/10  accepted 10  rejected 0  errors 0',
    );
  });
});

describe('createProgress', () => {
  it('writes one plain line per tenth when not on a terminal', () => {
    const out: string[] = [];
    const progress = createProgress({
      total: 20,
      write: (t) => out.push(t),
      isTTY: false,
      clock: systemClock,
    });
    for (let i = 0; i < 20; i++) progress.record(i === 7 ? rejected : accepted);
    progress.finish();
    expect(out).toHaveLength(10);
    expect(out.every((line) => line.endsWith('\n') && !line.includes('\r'))).toBe(true);
    expect(out.at(-1)).toContain('20/20  accepted 19  rejected 1  errors 0');
  });

  it('redraws one line in place on a terminal and ends it at the finish', () => {
    const out: string[] = [];
    const progress = createProgress({
      total: 3,
      write: (t) => out.push(t),
      isTTY: true,
      clock: systemClock,
      redrawMs: 0,
    });
    for (let i = 0; i < 3; i++) progress.record(accepted);
    progress.finish();
    expect(out.slice(0, -1).every((t) => t.startsWith('\r'))).toBe(true);
    expect(out.at(-1)).toBe('\n');
    expect(out.join('')).not.toMatch(/\n.*\n/);
  });
});
