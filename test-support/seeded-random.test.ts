import { describe, expect, it } from 'vitest';
import { createSeededRandom } from './seeded-random.ts';

describe('createSeededRandom', () => {
  it('replays the same sequence from the same seed, and another from another', () => {
    const draw = (seed: number) => {
      const rng = createSeededRandom(seed);
      return Array.from({ length: 5 }, () => rng.next());
    };
    expect(draw(42)).toEqual(draw(42));
    expect(draw(42)).not.toEqual(draw(43));
  });

  it('stays within its ranges and covers them', () => {
    const rng = createSeededRandom(7);
    const ints = new Set<number>();
    for (let i = 0; i < 10_000; i += 1) {
      const x = rng.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      const y = rng.between(-3, 5);
      expect(y).toBeGreaterThanOrEqual(-3);
      expect(y).toBeLessThan(5);
      ints.add(rng.int(2, 6));
    }
    expect([...ints].sort()).toEqual([2, 3, 4, 5, 6]);
  });
});
