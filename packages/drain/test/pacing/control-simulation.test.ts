import { describe, expect, it } from 'vitest';
import { controlViolations } from './control-promise.ts';
import { randomControlScenario } from './control-scenario.ts';
import { simulateGroup } from './group-simulation.ts';

const SEEDS = 1000;
const CHUNK = 200;

/** Runs seeds `from`..`to` and says what broke the promise, one line per seed (empty: none). */
function failures(from: number, to: number): { failed: string[]; summary: string } {
  const failed: string[] = [];
  const writes = { pause: 0, resume: 0, rate: 0, hold: 0 };
  const broken = { switch: 0, window: 0, pause: 0, hold: 0 };
  let starts = 0;
  for (let seed = from; seed <= to; seed += 1) {
    const scenario = randomControlScenario(seed);
    const result = simulateGroup(scenario.simulation);
    for (const write of scenario.writes) writes[write.kind] += 1;
    starts += result.starts.length;
    const violations = controlViolations(scenario, result);
    for (const v of violations) broken[v.rule] += 1;
    if (violations.length > 0) {
      const first = violations.slice(0, 3).map((v) => `[${v.rule}] ${v.detail}`);
      failed.push(`${scenario.describe()}\n  ${violations.length} violations: ${first.join('; ')}`);
    }
  }
  const summary =
    `seeds ${from}..${to}: writes ${JSON.stringify(writes)}, ${starts} starts, ` +
    `${failed.length} seeds with violations ${JSON.stringify(broken)}`;
  return { failed, summary };
}

describe('steering a simulated group through the control topic (property)', () => {
  for (let from = 1; from <= SEEDS; from += CHUNK) {
    const to = Math.min(SEEDS, from + CHUNK - 1);
    it(`keeps the promise through pauses, holds and rate changes: seeds ${from}..${to}`, () => {
      const { failed, summary } = failures(from, to);
      console.log(`control simulation, ${summary}`);
      expect(failed.slice(0, 5).join('\n'), summary).toBe('');
    }, 180_000);
  }
});
