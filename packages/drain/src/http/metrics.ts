import type { DeliveryCounts } from '@kafka-throttle/common';
import {
  Counter,
  collectDefaultMetrics,
  Gauge,
  Histogram,
  type MetricObjectWithValues,
  type MetricValueWithName,
  Registry,
} from 'prom-client';

/** What the gauges read when scraped. */
export interface MetricsSources {
  share(): number;
  assigned(): number[];
  paused(): number[];
  depth(): ReadonlyMap<number, number>;
  inFlight(): number;
  /** Records not yet committed per owned partition (high watermark − committed offset). */
  lag(): Promise<ReadonlyMap<number, number>>;
  /** Whether the destination breaker holds every partition. */
  breakerOpen(): boolean;
}

export type AttemptResult = 'delivered' | 'retry' | 'reject';
export type DeliveryOutcome = 'delivered' | 'retried' | 'dead_lettered';

export interface DrainMetrics {
  registry: Registry;
  /** An attempt was sent (it took a permit). */
  attemptSent(): void;
  /** An attempt ended after `seconds` at the sink. */
  attemptEnded(result: AttemptResult, seconds: number): void;
  /** What became of an attempt's record. */
  delivery(outcome: DeliveryOutcome): void;
  /** The `delivery` counts so far, for the group's counts in the control topic. */
  deliveryCounts(): DeliveryCounts;
  commits: Counter<'result'>;
  deadLetters: Counter<'reason'>;
  /** The breaker opened or closed (label `to`). */
  breakerTransitions: Counter<'to'>;
}

const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
const RESULTS: readonly AttemptResult[] = ['delivered', 'retry', 'reject'];
const OUTCOMES: readonly DeliveryOutcome[] = ['delivered', 'retried', 'dead_lettered'];

/**
 * prom-client's observe and inc hash their labels on every call, a noticeable share of a
 * worker's CPU at tens of thousands of attempts per second. The per-attempt numbers are
 * therefore kept in plain arrays and handed to prom-client only when /metrics is scraped.
 */
class LatencyHistogram extends Histogram<'result'> {
  /** Per result: a count per bucket (the last one is +Inf), then the sum. */
  private readonly counts = RESULTS.map(() => new Float64Array(LATENCY_BUCKETS.length + 1));
  private readonly sums = new Float64Array(RESULTS.length);

  record(result: AttemptResult, seconds: number): void {
    const index = RESULTS.indexOf(result);
    const counts = this.counts[index] as Float64Array;
    let bucket = 0;
    while (bucket < LATENCY_BUCKETS.length && seconds > (LATENCY_BUCKETS[bucket] as number)) {
      bucket++;
    }
    counts[bucket] = (counts[bucket] as number) + 1;
    this.sums[index] = (this.sums[index] as number) + seconds;
  }

  override async get(): Promise<MetricObjectWithValues<MetricValueWithName<'result' | 'le'>>> {
    // The name, help and type as prom-client has them; only the values are ours.
    const base = await super.get();
    const bucket = `${base.name}_bucket`;
    const values: MetricValueWithName<'result' | 'le'>[] = [];
    RESULTS.forEach((result, index) => {
      const counts = this.counts[index] as Float64Array;
      let cumulative = 0;
      LATENCY_BUCKETS.forEach((le, i) => {
        cumulative += counts[i] as number;
        values.push({ metricName: bucket, labels: { le, result }, value: cumulative });
      });
      cumulative += counts[LATENCY_BUCKETS.length] as number;
      values.push({ metricName: bucket, labels: { le: '+Inf', result }, value: cumulative });
      const sum = this.sums[index] as number;
      values.push({ metricName: `${base.name}_sum`, labels: { result }, value: sum });
      values.push({ metricName: `${base.name}_count`, labels: { result }, value: cumulative });
    });
    return { ...base, values };
  }
}

/** One registry per worker, so several workers in one process (tests, benchmarks) stay apart. */
export function createDrainMetrics(sources: MetricsSources): DrainMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const outcomeCounts = new Float64Array(OUTCOMES.length);
  let attemptCount = 0;
  new Counter({
    name: 'drain_deliveries_total',
    help: 'Records by what happened to an attempt: delivered, retried (attempt failed, will retry) or dead_lettered',
    labelNames: ['outcome'] as const,
    registers,
    collect() {
      this.reset();
      OUTCOMES.forEach((outcome, i) => {
        this.inc({ outcome }, outcomeCounts[i] as number);
      });
    },
  });
  new Counter({
    name: 'drain_attempts_total',
    help: 'Delivery attempts sent (each took one permit of the rate)',
    registers,
    collect() {
      this.reset();
      this.inc(attemptCount);
    },
  });
  const sinkLatency = new LatencyHistogram({
    name: 'drain_sink_latency_seconds',
    help: 'Duration of one delivery attempt at the sink',
    labelNames: ['result'] as const,
    buckets: LATENCY_BUCKETS,
    registers,
  });
  const counter = <Label extends string>(name: string, help: string, label: Label) =>
    new Counter({ name, help, labelNames: [label], registers });
  const commits = counter(
    'drain_offset_commits_total',
    'Offset commit requests by result',
    'result',
  );
  const deadLetters = counter(
    'drain_dead_letters_total',
    'Records written to the dead-letter topic, by reason',
    'reason',
  );
  const breakerTransitions = counter(
    'drain_breaker_transitions_total',
    'Times the destination breaker opened (to="open") or closed (to="closed")',
    'to',
  );

  /** A gauge of one value, read when scraped. */
  const gauge = (name: string, help: string, read: () => number): void => {
    new Gauge({
      name,
      help,
      registers,
      collect() {
        this.set(read());
      },
    });
  };
  /** A gauge of one value per partition, read when scraped. */
  const partitionGauge = (
    name: string,
    help: string,
    read: () => Iterable<[number, number]> | Promise<Iterable<[number, number]>>,
  ): void => {
    new Gauge({
      name,
      help,
      labelNames: ['partition'] as const,
      registers,
      async collect() {
        this.reset();
        for (const [partition, value] of await read()) {
          this.set({ partition: String(partition) }, value);
        }
      },
    });
  };
  gauge(
    'drain_breaker_open',
    '1 while the destination breaker holds every partition and only probes go out',
    () => (sources.breakerOpen() ? 1 : 0),
  );
  gauge(
    'drain_share_per_period',
    "This worker's share of the group's rate: deliveries per period (fractional)",
    () => sources.share(),
  );
  gauge(
    'drain_assigned_partitions',
    'Partitions of the request topic assigned to this worker',
    () => sources.assigned().length,
  );
  gauge(
    'drain_paused_partitions',
    'Assigned partitions whose fetching is paused because their queue is full',
    () => sources.paused().length,
  );
  partitionGauge('drain_partition_paused', '1 when fetching from the partition is paused', () => {
    const paused = new Set(sources.paused());
    return sources.assigned().map((partition) => [partition, paused.has(partition) ? 1 : 0]);
  });
  partitionGauge('drain_queue_depth', 'Fetched records waiting for delivery, per partition', () =>
    sources.depth(),
  );
  gauge('drain_attempts_in_flight', 'Delivery attempts (or dead-letter writes) under way', () =>
    sources.inFlight(),
  );
  partitionGauge(
    'drain_partition_lag',
    'Records not yet committed per assigned partition (high watermark − committed offset)',
    () => sources.lag(),
  );

  return {
    registry,
    attemptSent() {
      attemptCount++;
    },
    attemptEnded: (result, seconds) => sinkLatency.record(result, seconds),
    delivery(outcome) {
      const index = OUTCOMES.indexOf(outcome);
      outcomeCounts[index] = (outcomeCounts[index] as number) + 1;
    },
    deliveryCounts: () => ({
      delivered: outcomeCounts[0] as number,
      retried: outcomeCounts[1] as number,
      deadLettered: outcomeCounts[2] as number,
    }),
    commits,
    deadLetters,
    breakerTransitions,
  };
}
