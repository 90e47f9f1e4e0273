import type { ControlState, RateSetting } from '@kafka-throttle/common';
import { createSeededRandom, type SeededRandom } from '../../../../test-support/seeded-random.ts';
import { createSchedule } from '../../src/pacing/schedule.ts';
import type { GroupSimulationOptions } from './group-simulation.ts';
import { randomScenario } from './random-scenario.ts';

/** One write to the control topic, as an operator (or a worker's hold) makes it. */
export interface ControlWrite {
  at: number;
  kind: 'pause' | 'resume' | 'rate' | 'hold';
  state: ControlState;
}

export interface ControlScenario {
  seed: number;
  simulation: GroupSimulationOptions & { control: NonNullable<GroupSimulationOptions['control']> };
  writes: ControlWrite[];
  /** The longest a follower takes to read a record: well under the shortest period. */
  maxDelayMs: number;
  describe(): string;
}

const MAX_CHANGES = 8;

/**
 * A `chaos` group (members join, leave, crash, run late and dry) steered through the control
 * topic: pauses and resumes, rate changes (messages, period and burst), holds until a time.
 * Each worker's follower reads each record after a delay of its own (some followers are
 * always late), so workers learn every change at slightly different moments. Rate changes are
 * written at least three of the longest periods apart: each one is switched in before the next.
 */
export function randomControlScenario(seed: number): ControlScenario {
  const base = randomScenario(seed, 'chaos');
  const rng = createSeededRandom(seed ^ 0x5bd1e995);
  const initial: RateSetting = {
    messages: base.simulation.messages,
    periodMs: base.simulation.periodMs,
    burst: base.simulation.burst,
  };
  const first = base.simulation.generations[0]!.revokeAt;

  const writes: ControlWrite[] = [];
  let state: ControlState = {
    desired: { paused: false, rate: initial, version: 0, changedAt: 0, reason: 'configuration' },
    hold: undefined,
    source: 'config',
  };
  const rates = [initial];
  let at = first + rng.between(0.5, 6) * initial.periodMs;
  let lastRateAt = Number.NEGATIVE_INFINITY;
  const longest = () => Math.max(...rates.map((r) => r.periodMs));
  for (let i = rng.int(1, MAX_CHANGES); i > 0; i -= 1) {
    const { desired } = state;
    const period = desired.rate.periodMs;
    const roll = rng.next();
    let kind: ControlWrite['kind'];
    if (desired.paused) kind = roll < 0.7 ? 'resume' : roll < 0.85 ? 'hold' : 'rate';
    else kind = roll < 0.3 ? 'pause' : roll < 0.5 ? 'hold' : 'rate';
    if (kind === 'rate' && at < lastRateAt + 3 * longest())
      kind = desired.paused ? 'resume' : 'hold';
    let next: ControlState;
    if (kind === 'hold') {
      // As the writer does: a hold never shortens one already in force.
      const until = Math.max(at, state.hold?.until ?? 0) + rng.between(0.3, 3) * period;
      next = { ...state, hold: { until, changedAt: at, reason: '429', by: 'w' } };
    } else {
      const rate = kind === 'rate' ? randomRate(rng, desired.rate) : desired.rate;
      if (kind === 'rate') {
        rates.push(rate);
        lastRateAt = at;
      }
      next = {
        ...state,
        desired: {
          paused: kind === 'pause' || (kind !== 'resume' && desired.paused),
          rate,
          version: desired.version + 1,
          changedAt: at,
          reason: kind,
          ...(kind === 'rate'
            ? { previous: { rate: desired.rate, changedAt: at } }
            : desired.previous
              ? { previous: desired.previous }
              : {}),
        },
        source: 'topic',
      };
    }
    writes.push({ at, kind, state: next });
    state = next;
    // Sometimes a second change follows within a period, before every follower read the first.
    at += (rng.chance(0.3) ? rng.between(0.05, 1) : rng.between(1, 6)) * next.desired.rate.periodMs;
  }

  const shortest = Math.min(...rates.map((r) => r.periodMs));
  const maxDelayMs = 0.4 * shortest;
  const workers = base.simulation.workers;
  // Late followers read every record near the longest delay; the others anywhere below it.
  const late = workers.map(() => rng.chance(0.3));
  const seen = workers.map((_, w) => {
    let previous = Number.NEGATIVE_INFINITY;
    return writes.map((write) => {
      const delay = late[w] ? rng.between(0.8, 1) * maxDelayMs : rng.between(0, maxDelayMs);
      previous = Math.max(previous, write.at + delay);
      return previous;
    });
  });
  // Clock skew within what the limiter tolerates at every rate used (±δ/2 of the tightest).
  const tightest = Math.min(...rates.map((r) => createSchedule(r).gapMarginMs));
  const baseDelta = createSchedule(initial).gapMarginMs;
  const skewScale = Math.min(1, tightest / baseDelta);
  const untilMs = Math.max(base.simulation.untilMs, at + 4 * longest());

  return {
    seed,
    simulation: {
      ...base.simulation,
      workers: workers.map((w) => ({ ...w, skewMs: w.skewMs * skewScale })),
      untilMs,
      control: {
        records: writes.map(({ at, state }) => ({ at, state })),
        seenAt: (worker, index) => seen[worker]![index]!,
      },
    },
    writes,
    maxDelayMs,
    describe: () =>
      `${base.describe()}; control: ${writes
        .map((w) => {
          const t = ((w.at - first) / 1000).toFixed(3);
          const { messages, periodMs, burst } = w.state.desired.rate;
          return w.kind === 'rate'
            ? `${t}s rate ${messages}/${periodMs}ms burst ${burst}`
            : `${t}s ${w.kind}${w.kind === 'hold' ? ` until +${(((w.state.hold?.until ?? 0) - w.at) / 1000).toFixed(3)}s` : ''}`;
        })
        .join(', ')}; follower delays up to ${maxDelayMs.toFixed(1)} ms, late: ${late
        .map((l, i) => (l ? `w${i}` : ''))
        .filter(Boolean)
        .join(',')}`,
  };
}

/** Another rate: messages as random-scenario draws them, the period a quarter to 4 times. */
function randomRate(rng: SeededRandom, from: RateSetting): RateSetting {
  const messages = rng.chance(0.3) ? rng.int(1, 12) : rng.int(1, 200);
  const periodMs = rng.chance(0.4)
    ? from.periodMs
    : Math.min(10_000, Math.max(10, Math.round(from.periodMs * 4 ** rng.between(-1, 1))));
  const burst = rng.chance(0.4) ? messages : rng.chance(0.5) ? 1 : rng.int(1, messages);
  return { messages, periodMs, burst };
}
