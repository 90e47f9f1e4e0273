import { retryWithBackoff, systemClock } from '@kafka-throttle/common';
import type { Admin, Kafka, Message } from 'kafkajs';
import { maxInWindow } from '../test-support/window-check.ts';
import type { Arrivals, CountingDestination } from './drain-destination.ts';
import { spawnDrainWorker, type WorkerChild } from './drain-workers.ts';

export interface AccuracyCase {
  bootstrap: string;
  kafka: Kafka;
  admin: Admin;
  destination: CountingDestination;
  /** N per period; the period is 1 s, so N is also the rate per second. */
  rate: number;
  workers: number;
  partitions: number;
  /** RATE_BURST; the configuration's default (N) when undefined. */
  burst: number | undefined;
  /** RATE_MARGIN; the configuration's default guard when undefined. */
  margin: string | undefined;
  /** Measured seconds, after the group settled and two periods more. */
  seconds: number;
  log: (line: string) => void;
}

export interface AccuracyRow {
  rate: number;
  workers: number;
  /** Most arrivals at the destination in any window of one period (measured span). */
  maxArrivals: number;
  /**
   * The longest window (ms, at most the period) in which the destination never saw more than
   * N: the period minus the arrival jitter that the pacing margin did not absorb.
   */
  holdsForMs: number;
  /** Most attempt starts in any window of one period, from the workers' own logs (if logged). */
  maxStarts: number | undefined;
  achieved: number;
  /**
   * Spread of (arrival at the destination − start logged by the worker) over the measured
   * span: max − min, and p99.9 − min, in ms. What the guard must cover (if starts are logged).
   */
  transitSpreadMs: number | undefined;
  transitP999Ms: number | undefined;
  /** p99 of |gap between consecutive arrivals − period/N|, in ms. */
  p99SpacingErrorMs: number;
  deliveries: number;
}

const PERIOD = 1000;

/**
 * One accuracy run: a topic with a backlog for the whole run, `workers` drain processes
 * (`pnpm drain`, HTTP sink) started together, a counting destination in its own process. The
 * measured span starts two periods after every worker has its share and lasts `seconds`.
 */
export async function runAccuracyCase(c: AccuracyCase): Promise<AccuracyRow> {
  const topic = `bench-accuracy-${c.rate}-${c.workers}-${Date.now()}`;
  await c.admin.createTopics({
    topics: [
      { topic, numPartitions: c.partitions, replicationFactor: 1 },
      { topic: `${topic}.dlq`, numPartitions: 1, replicationFactor: 1 },
    ],
    // The sends below retry until the partitions have leaders: a loaded broker takes a while.
    waitForLeaders: false,
  });
  // Enough for the whole run at the full rate, plus joining and warming up.
  const backlog = Math.ceil(c.rate * (c.seconds + 12) * 1.2) + 200;
  await produce(c.kafka, topic, backlog, c.partitions);
  c.log(`  ${c.rate}/s × ${c.workers} worker(s): ${backlog} records in ${topic}`);

  await c.destination.reset();
  const env = {
    KAFKA_BROKERS: c.bootstrap,
    KAFKA_TOPIC: topic,
    DRAIN_GROUP: `${topic}-group`,
    DRAIN_PORT: '0',
    DRAIN_HOST: '127.0.0.1',
    RATE_MESSAGES: String(c.rate),
    RATE_PERIOD: `${PERIOD}ms`,
    ...(c.burst === undefined ? {} : { RATE_BURST: String(Math.min(c.burst, c.rate)) }),
    ...(c.margin === undefined ? {} : { RATE_MARGIN: c.margin }),
    SINK: 'http',
    SINK_URL: c.destination.url,
    // Debug logs one line per attempt, with its start time: the starts column. Above 1,000/s
    // that printing would cost the worker more than the measurement is worth.
    LOG_LEVEL: c.rate <= 1000 ? 'debug' : 'info',
  };
  const workers: WorkerChild[] = [];
  try {
    for (let i = 0; i < c.workers; i++) workers.push(spawnDrainWorker(env));
    const share = c.rate / c.workers;
    await Promise.all(
      workers.map((w) =>
        w.waitFor(
          'partitions assigned',
          60_000,
          (l) => Math.abs(Number(l.share) - share) < 1e-6 * c.rate + 1e-9 || c.workers === 1,
        ),
      ),
    );
    const from = performance.timeOrigin + performance.now() + 2 * PERIOD + 200;
    await new Promise((resolve) =>
      setTimeout(resolve, from - (performance.timeOrigin + performance.now()) + c.seconds * PERIOD),
    );
    const to = from + c.seconds * PERIOD;
    const received = await c.destination.collect();
    const arrivals = received.times.filter((t) => t >= from && t < to).sort((a, b) => a - b);
    const attempts = workers.flatMap((w) => w.lines()).filter((l) => l.msg === 'attempt');
    const transit = transitSpread(attempts, received, from, to);
    const starts = attempts
      .map((l) => Number(l.startedAt))
      .filter((t) => t >= from && t < to)
      .sort((a, b) => a - b);
    return {
      rate: c.rate,
      workers: c.workers,
      maxArrivals: maxInWindow(arrivals, PERIOD),
      holdsForMs: longestWindowHolding(arrivals, c.rate),
      maxStarts: c.rate <= 1000 ? maxInWindow(starts, PERIOD) : undefined,
      achieved: arrivals.length / (c.seconds * c.rate),
      transitSpreadMs: transit?.spread,
      transitP999Ms: transit?.p999,
      p99SpacingErrorMs: p99SpacingError(arrivals, PERIOD / c.rate),
      deliveries: arrivals.length,
    };
  } finally {
    await Promise.all(workers.map((w) => w.stop()));
    await c.admin.deleteTopics({ topics: [topic, `${topic}.dlq`] }).catch(() => {});
  }
}

/** How much the time from start to arrival varies, per request matched by id. */
function transitSpread(
  attempts: Record<string, unknown>[],
  destination: Arrivals,
  from: number,
  to: number,
): { spread: number; p999: number } | undefined {
  if (attempts.length === 0) return undefined;
  const startOf = new Map<string, number>();
  for (const l of attempts) startOf.set(String(l.id), Number(l.startedAt));
  const transit: number[] = [];
  destination.times.forEach((at, i) => {
    const start = startOf.get(destination.ids[i] ?? '');
    if (start !== undefined && at >= from && at < to) transit.push(at - start);
  });
  if (transit.length === 0) return undefined;
  transit.sort((a, b) => a - b);
  const min = transit[0] as number;
  const p999 = transit[Math.min(transit.length - 1, Math.floor(transit.length * 0.999))] as number;
  return { spread: (transit.at(-1) as number) - min, p999: p999 - min };
}

function longestWindowHolding(sorted: number[], n: number): number {
  let low = 0;
  let high = PERIOD;
  while (high - low > 0.1) {
    const mid = (low + high) / 2;
    if (maxInWindow(sorted, mid) <= n) low = mid;
    else high = mid;
  }
  return low;
}

function p99SpacingError(sorted: number[], ideal: number): number {
  const errors: number[] = [];
  for (let i = 1; i < sorted.length; i++) {
    errors.push(Math.abs((sorted[i] as number) - (sorted[i - 1] as number) - ideal));
  }
  errors.sort((a, b) => a - b);
  return errors[Math.min(errors.length - 1, Math.floor(errors.length * 0.99))] ?? Number.NaN;
}

async function produce(
  kafka: Kafka,
  topic: string,
  count: number,
  partitions: number,
): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  const body = Buffer.from(JSON.stringify({ hello: 'world', pad: 'x'.repeat(100) }));
  try {
    const batch = 2000;
    for (let start = 0; start < count; start += batch) {
      const messages: Message[] = [];
      for (let i = start; i < Math.min(count, start + batch); i++) {
        messages.push({
          partition: i % partitions,
          value: body,
          headers: {
            id: `b-${i}`,
            'content-type': 'application/json',
            'received-at': String(Date.now()),
          },
        });
      }
      // A loaded broker may not serve a just-created topic's partitions for a moment.
      await retryWithBackoff(() => producer.send({ topic, acks: -1, messages }), {
        clock: systemClock,
        initialMs: 200,
        maxMs: 2000,
        maxAttempts: 20,
      });
    }
  } finally {
    await producer.disconnect();
  }
}
