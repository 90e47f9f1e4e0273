import { describe, expect, it } from 'vitest';
import { resolveWorkerCount } from './worker-count.ts';

describe('resolveWorkerCount', () => {
  it('auto is the CPUs available, at least one', () => {
    expect(resolveWorkerCount('auto', 6)).toBe(6);
    expect(resolveWorkerCount('auto', 0)).toBe(1);
  });

  it('a number is taken as given', () => {
    expect(resolveWorkerCount(1, 8)).toBe(1);
    expect(resolveWorkerCount(3, 2)).toBe(3);
  });
});
