import { describe, expect, it } from 'vitest';
import { busiestWindow } from '../../../../test-support/window-check.ts';
import { simulateGroup } from '../../test/pacing/group-simulation.ts';
import { achieved } from '../../test/pacing/limiter-harness.ts';
import { randomScenario } from '../../test/pacing/random-scenario.ts';
import type { RateLimiter, RateLimiterOptions } from './rate-limiter.ts';

describe('createRateLimiter: randomized groups (property)', () => {
  // 150 seeds in batches of 25: one test would hold vitest's worker for minutes on a loaded
  // machine, long enough for its progress reports to time out.
  const batches = [1, 26, 51, 76, 101, 126].map((first) => ({ first, last: first + 24 }));

  it.each(batches)(
    'never more than N starts in any window of one period, whatever the group does (seeds $first-$last)',
    ({ first, last }) => {
      for (let seed = first; seed <= last; seed += 1) {
        const scenario = randomScenario(seed, 'chaos');
        const result = simulateGroup(scenario.simulation);
        const { messages, periodMs } = scenario.simulation;
        const busiest = busiestWindow(result.starts, periodMs);
        expect(busiest.count, scenario.describe()).toBeLessThanOrEqual(messages);
        // The same check by sliding: N + 1 consecutive starts span at least a period.
        for (let i = 0; i + messages < result.starts.length; i += 1) {
          if (result.starts[i + messages]! - result.starts[i]! < periodMs) {
            expect.fail(`${scenario.describe()}: starts ${i}..${i + messages} within a period`);
          }
        }
        expect(result.refusedAtNextAt, scenario.describe()).toBe(0);
      }
    },
  );

  it.each(batches)(
    'at least 95% of N per period with a backlog and workers at most ε late (seeds $first-$last)',
    ({ first, last }) => {
      for (let seed = first; seed <= last; seed += 1) {
        const scenario = randomScenario(seed, 'steady');
        const result = simulateGroup(scenario.simulation);
        const { messages, periodMs } = scenario.simulation;
        expect(
          busiestWindow(result.starts, periodMs).count,
          scenario.describe(),
        ).toBeLessThanOrEqual(messages);
        const ratio = achieved(result.starts, scenario.measureFrom, scenario.measureUntil, {
          messages,
          periodMs,
        });
        expect(ratio, scenario.describe()).toBeGreaterThanOrEqual(0.95);
        expect(result.refusedAtNextAt, scenario.describe()).toBe(0);
      }
    },
  );

  it('the same property check catches a limiter that breaks the promise', () => {
    // Independent sliding windows holding ceil(share) each: what the design rules out.
    const naive = (options: RateLimiterOptions): RateLimiter => {
      const log: number[] = [];
      let capacity = 0;
      return {
        assign(partitions, total) {
          capacity = Math.ceil((options.messages * new Set(partitions).size) / total);
        },
        tryAcquire() {
          const now = options.clock.now();
          while (log.length > 0 && now - log[0]! >= options.periodMs) log.shift();
          if (log.length < capacity) {
            log.push(now);
            return { granted: true };
          }
          return {
            granted: false,
            nextAt: capacity === 0 ? Number.POSITIVE_INFINITY : log[0]! + options.periodMs,
          };
        },
        share: () => capacity,
      };
    };
    let caught = 0;
    for (let seed = 1; seed <= 40; seed += 1) {
      const scenario = randomScenario(seed, 'chaos');
      const result = simulateGroup({ ...scenario.simulation, createLimiter: naive });
      const { messages, periodMs } = scenario.simulation;
      if (busiestWindow(result.starts, periodMs).count > messages) caught += 1;
    }
    expect(caught).toBeGreaterThan(10);
  });
});
