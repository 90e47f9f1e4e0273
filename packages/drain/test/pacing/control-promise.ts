import type { RateSetting } from '@kafka-throttle/common';
import { rateSwitchAt, sameRate } from '../../src/control/rate-switch.ts';
import type { ControlScenario } from './control-scenario.ts';
import type { GroupSimulationResult } from './group-simulation.ts';

/** A rate in force from `at` (true epoch ms) on. */
export interface Regime {
  rate: RateSetting;
  at: number;
}

export interface ControlViolation {
  rule: 'switch' | 'window' | 'pause' | 'hold';
  detail: string;
}

/**
 * The promise while the group is steered, checked on start times:
 * - switch: every worker switches to a new rate at the instant computed from the record
 *   (rate-switch.ts), never before it, also one that starts while the switch is ahead: the
 *   group agrees on it;
 * - window: a window of one period, the period in force where it starts, holds at most the
 *   limit in force, except that one reaching a switch or starting within one (new) period
 *   after it may hold the larger of the old and new limits;
 * - pause: no start later than one period (the longer of the one in force and the new) after
 *   a pause was written, until a resume is written;
 * - hold: no worker starts from the moment its follower read a hold until the hold ends.
 */
export function controlViolations(
  scenario: ControlScenario,
  result: GroupSimulationResult,
): ControlViolation[] {
  const { writes } = scenario;
  const { messages, periodMs, burst } = scenario.simulation;
  const violations: ControlViolation[] = [];
  const regimes: Regime[] = [{ rate: { messages, periodMs, burst }, at: Number.NEGATIVE_INFINITY }];
  const switchOf = new Map<number, number>();
  writes.forEach((write, k) => {
    if (write.kind !== 'rate') return;
    const before = regimes.at(-1)!.rate;
    const { rate, changedAt } = write.state.desired;
    if (sameRate(before, rate)) return;
    const at = rateSwitchAt(before, rate, changedAt);
    switchOf.set(k, at);
    regimes.push({ rate, at });
  });
  const regimeAt = (t: number): number => {
    let j = 0;
    while (j + 1 < regimes.length && regimes[j + 1]!.at <= t) j += 1;
    return j;
  };

  // switch: compare what each running process logged with the instant every worker must use.
  const switchTo = (rate: RateSetting | undefined, by: number): number | undefined => {
    if (rate === undefined) return undefined;
    const k = writes.findLastIndex(
      (w, i) => w.at <= by && switchOf.has(i) && sameRate(w.state.desired.rate, rate),
    );
    return switchOf.get(k);
  };
  const initial = regimes[0]!.rate;
  for (const entry of result.applied) {
    const who = `w${entry.worker} (process ${entry.process}) at ${entry.workerTime}`;
    const { pending, rate } = entry.applied;
    if (entry.what.includes('rate switch scheduled')) {
      const at = switchTo(pending?.rate, entry.trueTime);
      if (pending?.at !== at) {
        violations.push({
          rule: 'switch',
          detail: `${who} scheduled the switch for ${pending?.at}, the group's is ${at}`,
        });
      }
    }
    if (entry.what.includes('rate switched')) {
      const at = switchTo(rate, entry.trueTime);
      const configured = at === undefined && sameRate(rate, initial);
      if (!configured && (at === undefined || entry.workerTime < at)) {
        violations.push({ rule: 'switch', detail: `${who} switched before the group's ${at}` });
      }
    }
  }

  // window
  const starts = result.starts;
  let end = 0;
  for (let i = 0; i < starts.length; i += 1) {
    const w = starts[i]!;
    const j = regimeAt(w);
    const { rate } = regimes[j]!;
    const next = regimes[j + 1];
    const previous = regimes[j - 1];
    let limit = rate.messages;
    if (next && w + rate.periodMs > next.at) limit = Math.max(limit, next.rate.messages);
    if (previous && w < regimes[j]!.at + rate.periodMs) {
      limit = Math.max(limit, previous.rate.messages);
    }
    end = Math.max(end, i);
    while (end + 1 < starts.length && starts[end + 1]! < w + rate.periodMs) end += 1;
    const count = end - i + 1;
    if (count > limit) {
      violations.push({
        rule: 'window',
        detail: `${count} starts in [${w}, +${rate.periodMs} ms) where ${limit} may start (regime ${j})`,
      });
    }
  }

  // pause
  writes.forEach((write, k) => {
    const previous = writes[k - 1]?.state.desired.paused ?? false;
    if (write.kind !== 'pause' || previous) return;
    const resumed = writes.find((w, r) => r > k && !w.state.desired.paused)?.at ?? Infinity;
    const inForce = regimes[regimeAt(write.at)]!.rate.periodMs;
    const deadline = write.at + Math.max(inForce, write.state.desired.rate.periodMs);
    const late = starts.filter((t) => t > deadline && t < resumed);
    if (late.length > 0) {
      violations.push({
        rule: 'pause',
        detail: `${late.length} starts after the pause written at ${write.at}, first ${late[0]! - write.at} ms after it`,
      });
    }
  });

  // hold
  writes.forEach((write, k) => {
    const until = write.state.hold?.until;
    if (write.kind !== 'hold' || until === undefined) return;
    result.startsByWorker.forEach((own, worker) => {
      const from = scenario.simulation.control.seenAt(worker, k);
      // The hold ends at a time on the writer's clock, which each worker reads on its own.
      const skew = scenario.simulation.workers[worker]!.skewMs;
      const held = own.filter((t) => t >= from && t + skew < until);
      if (held.length > 0) {
        violations.push({
          rule: 'hold',
          detail: `w${worker} started ${held.length} times during the hold written at ${write.at}, read at ${from}`,
        });
      }
    });
  });
  return violations;
}
