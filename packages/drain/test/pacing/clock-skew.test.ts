import { defaultRateGuard } from '@kafka-throttle/common';
import { describe, expect, it } from 'vitest';
import { busiestWindow } from '../../../../test-support/window-check.ts';
import { createRateLimiter } from '../../src/pacing/rate-limiter.ts';
import { clockSkewBudgetMs } from '../../src/pacing/skew-budget.ts';
import { type GroupSimulationOptions, simulateGroup } from './group-simulation.ts';
import { randomScenario } from './random-scenario.ts';

/**
 * The chaos scenarios of the property tests (members joining, leaving, crashing, late asks,
 * slow sinks, an epoch boundary where rotating lanes change hands), run as drain runs them:
 * with the default guard added to the period, and with every other worker's clock `skewMs`
 * ahead of the rest. Returns the seeds whose starts broke the promise at the true period.
 */
function violationsWithSkew(skewOf: (periodMs: number) => number, seeds: number): number[] {
  const broken: number[] = [];
  for (let seed = 1; seed <= seeds; seed += 1) {
    const { simulation } = randomScenario(seed, 'chaos');
    const skewMs = skewOf(simulation.periodMs);
    const skewed: GroupSimulationOptions = {
      ...simulation,
      workers: simulation.workers.map((worker, i) => ({ ...worker, skewMs: i % 2 ? skewMs : 0 })),
      createLimiter: (options) =>
        createRateLimiter({
          ...options,
          periodMs: options.periodMs + defaultRateGuard(options.periodMs),
        }),
    };
    const { starts } = simulateGroup(skewed);
    if (busiestWindow(starts, simulation.periodMs).count > simulation.messages) broken.push(seed);
  }
  return broken;
}

const budget = (periodMs: number): number =>
  clockSkewBudgetMs(periodMs, defaultRateGuard(periodMs));

describe('clock skew between workers', () => {
  it('keeps the promise with clocks off by the whole budget, in either direction', () => {
    // 10 ms of guard and 5 ms of the schedule's margin at a 1 s period.
    expect(budget(1000)).toBeCloseTo(15, 0);
    expect(violationsWithSkew(budget, 60)).toEqual([]);
    expect(violationsWithSkew((p) => -budget(p), 60)).toEqual([]);
  });

  it('breaks it with a clock two periods ahead: the check is not vacuous', () => {
    // The taker starts a rotating lane's new epoch while the giver still uses its last slots.
    expect(violationsWithSkew((p) => 2 * p, 60).length).toBeGreaterThan(0);
  });
});
