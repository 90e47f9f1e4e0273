import { createSeededRandom, type SeededRandom } from '../../../../test-support/seeded-random.ts';
import { createSchedule } from '../../src/pacing/schedule.ts';
import type {
  GroupSimulationOptions,
  SimulatedGeneration,
  SimulatedWorker,
} from './group-simulation.ts';

/**
 * `chaos`: members join, leave, crash and rebalance (eager), ask late (up to 3ε, sometimes by
 * up to two periods, like a slow sink), run dry now and then, on clocks skewed by up to ±δ/2.
 * `steady`: one assignment for the whole run, always a backlog, asks at most ε late.
 */
export type ScenarioKind = 'chaos' | 'steady';

export interface RandomScenario {
  seed: number;
  kind: ScenarioKind;
  simulation: GroupSimulationOptions;
  /** Where `steady` throughput is measured: whole grid periods once every member pays. */
  measureFrom: number;
  measureUntil: number;
  describe(): string;
}

const MAX_WORKERS = 5;

export function randomScenario(seed: number, kind: ScenarioKind): RandomScenario {
  const rng = createSeededRandom(seed);
  const totalPartitions = rng.int(1, 12);
  const messages = rng.chance(0.3) ? rng.int(1, 12) : rng.int(1, 200);
  // Log-uniform from 10 ms to 10 s.
  const periodMs = Math.round(10 * 1000 ** rng.next());
  const burst = rng.chance(0.4) ? messages : rng.chance(0.5) ? 1 : rng.int(1, messages);
  const schedule = createSchedule({ messages, periodMs, burst });
  const { marginMs: epsilon, gapMarginMs: delta, slotPeriodMs } = schedule;

  // Rotation epochs are hundreds of periods long: rather than simulate several, the run is
  // placed so that one epoch boundary (where rotating lanes change hands between workers, on
  // absolute time) falls inside it, a third to two thirds of the way through.
  const periods = 90;
  // (Summed as when the grid paused one period between epochs of 400: the same seeds place
  // the run exactly where they did.)
  const epochMs = (schedule.epochPeriods - 1) * slotPeriodMs + slotPeriodMs;
  const anyTime = 1_700_000_000_000 + Math.floor(rng.next() * 1e9) + rng.next();
  const boundary = Math.ceil(anyTime / epochMs) * epochMs;
  const start = boundary - rng.between(1 / 3, 2 / 3) * periods * slotPeriodMs;
  const untilMs = start + periods * slotPeriodMs;

  const workers: SimulatedWorker[] = [];
  for (let i = 0; i < MAX_WORKERS; i += 1)
    workers.push(randomWorker(rng, kind, schedule, totalPartitions));

  const generations: SimulatedGeneration[] = [];
  const idle: Array<[number, number]> = [];
  let members = pickMembers(rng, rng.int(1, MAX_WORKERS));
  generations.push(generation(rng, start, members, totalPartitions, 0));
  if (kind === 'chaos') {
    const rebalances = rng.int(0, 6);
    const times = Array.from({ length: rebalances }, () =>
      rng.between(start + slotPeriodMs, untilMs - slotPeriodMs),
    ).sort((a, b) => a - b);
    for (const at of times) {
      const previous = generations.at(-1)!;
      if (at <= Math.max(...previous.members.map((m) => m.assignAt))) continue;
      // Some members crash before the rebalance their crash causes.
      for (const member of previous.members) {
        if (rng.chance(0.15)) member.crashAt = rng.between(member.assignAt, at);
      }
      members = rng.chance(0.2) ? members : pickMembers(rng, rng.int(1, MAX_WORKERS));
      const gapMs = rng.chance(0.5) ? 0 : rng.between(0, periodMs);
      generations.push(generation(rng, at, members, totalPartitions, gapMs));
    }
    for (let i = rng.int(0, 3); i > 0; i -= 1) {
      const from = rng.between(start, untilMs);
      idle.push([from, from + rng.between(0.1, 3) * periodMs]);
    }
  }

  const measureFrom = (Math.floor(start / slotPeriodMs) + 3) * slotPeriodMs;
  const measureUntil = Math.floor(untilMs / slotPeriodMs) * slotPeriodMs;
  return {
    seed,
    kind,
    simulation: {
      messages,
      periodMs,
      burst,
      totalPartitions,
      workers,
      generations,
      idle,
      untilMs,
    },
    measureFrom,
    measureUntil,
    describe: () =>
      `seed ${seed} (${kind}): ${messages} per ${periodMs} ms, burst ${burst}, ` +
      `${totalPartitions} partitions, ε ${epsilon} ms, δ ${delta} ms, ` +
      `generations ${generations
        .map((g) => g.members.map((m) => `w${m.worker}[${m.partitions.join(',')}]`).join(' '))
        .join(' | ')}`,
  };
}

function randomWorker(
  rng: SeededRandom,
  kind: ScenarioKind,
  schedule: ReturnType<typeof createSchedule>,
  totalPartitions: number,
): SimulatedWorker {
  const { marginMs: epsilon, gapMarginMs: delta, slotPeriodMs, messages, periodMs } = schedule;
  // Fast enough to keep up when it holds a single partition, which may carry ceil(N / P) lanes.
  const deliveryCapMs = (0.25 * slotPeriodMs) / Math.ceil(messages / totalPartitions);
  const deliveryMaxMs = rng.between(0, deliveryCapMs);
  const skewMs = rng.between(-delta / 2, delta / 2);
  if (kind === 'steady') {
    return {
      skewMs,
      latenessMs: () => rng.between(0, epsilon),
      deliveryMs: () => rng.between(0, deliveryMaxMs),
    };
  }
  const slowSink = rng.chance(0.3);
  return {
    skewMs,
    latenessMs: () => {
      if (rng.chance(0.25)) return 0;
      if (slowSink && rng.chance(0.05)) return rng.between(0, 2 * periodMs);
      return rng.between(0, 3 * epsilon);
    },
    deliveryMs: () =>
      slowSink && rng.chance(0.05) ? rng.between(0, periodMs) : rng.between(0, deliveryMaxMs),
  };
}

function pickMembers(rng: SeededRandom, count: number): number[] {
  const pool = Array.from({ length: MAX_WORKERS }, (_, i) => i);
  shuffle(rng, pool);
  return pool.slice(0, count).sort((a, b) => a - b);
}

function generation(
  rng: SeededRandom,
  revokeAt: number,
  members: number[],
  totalPartitions: number,
  gapMs: number,
): SimulatedGeneration {
  const owned: number[][] = members.map(() => []);
  for (let partition = 0; partition < totalPartitions; partition += 1) {
    owned[rng.int(0, members.length - 1)]!.push(partition);
  }
  return {
    revokeAt,
    forgetOnRevoke: rng.chance(0.3),
    members: members.map((worker, i) => ({
      worker,
      partitions: owned[i]!,
      // Members learn the new assignment at slightly different moments.
      assignAt: revokeAt + gapMs + (gapMs > 0 ? rng.between(0, gapMs / 4) : 0),
    })),
  };
}

function shuffle<T>(rng: SeededRandom, items: T[]): void {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = rng.int(0, i);
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
}
