import { describe, expect, it } from 'vitest';
import { createClockOffsetEstimator } from './clock-offset.ts';

describe('createClockOffsetEstimator', () => {
  it('knows nothing before a sample', () => {
    expect(createClockOffsetEstimator().current()).toBeUndefined();
  });

  it('puts the broker stamp in the middle of the round trip', () => {
    const estimator = createClockOffsetEstimator();
    // Local clock 40 ms behind the broker; a 10 ms round trip stamped half-way.
    estimator.sample(1000, 1010, 1045);
    const { offsetMs, uncertaintyMs } = estimator.current()!;
    expect(offsetMs).toBeCloseTo(40.5, 6);
    expect(uncertaintyMs).toBeCloseTo(5.5, 6);
  });

  it('trusts the shortest recent round trip and forgets old ones', () => {
    const estimator = createClockOffsetEstimator();
    estimator.sample(0, 2, 101); // offset 100, ±1.5
    estimator.sample(10, 210, 150); // a slow trip: offset 40 ± 100.5
    expect(estimator.current()!.offsetMs).toBeCloseTo(100.5, 6);
    for (let i = 0; i < 8; i++)
      estimator.sample(1000 + i * 100, 1000 + i * 100 + 20, 990 + i * 100);
    // The short trip has left the window; the best of the eight remaining is taken.
    expect(estimator.current()!.offsetMs).toBeCloseTo(-19.5, 6);
    expect(estimator.current()!.uncertaintyMs).toBeCloseTo(10.5, 6);
  });

  it('ignores a sample whose ack came before its send or has no stamp', () => {
    const estimator = createClockOffsetEstimator();
    estimator.sample(10, 5, 100);
    estimator.sample(10, 20, Number.NaN);
    expect(estimator.current()).toBeUndefined();
  });
});
