import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** What the gauges read when scraped. */
export interface MetricsSources {
  share(): number;
  assigned(): number[];
  paused(): number[];
  depth(): ReadonlyMap<number, number>;
  inFlight(): number;
  /** Records not yet committed per owned partition (high watermark − committed offset). */
  lag(): Promise<ReadonlyMap<number, number>>;
}

export interface DrainMetrics {
  registry: Registry;
  deliveries: Counter<'outcome'>;
  attempts: Counter;
  sinkLatency: Histogram<'result'>;
  commits: Counter<'result'>;
  deadLetters: Counter<'reason'>;
}

/** One registry per worker, so several workers in one process (tests, benchmarks) stay apart. */
export function createDrainMetrics(sources: MetricsSources): DrainMetrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const registers = [registry];

  const deliveries = new Counter({
    name: 'drain_deliveries_total',
    help: 'Records by what happened to an attempt: delivered, retried (attempt failed, will retry) or dead_lettered',
    labelNames: ['outcome'] as const,
    registers,
  });
  for (const outcome of ['delivered', 'retried', 'dead_lettered']) deliveries.inc({ outcome }, 0);
  const attempts = new Counter({
    name: 'drain_attempts_total',
    help: 'Delivery attempts started (each took one permit of the rate)',
    registers,
  });
  const sinkLatency = new Histogram({
    name: 'drain_sink_latency_seconds',
    help: 'Duration of one delivery attempt at the sink',
    labelNames: ['result'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const commits = new Counter({
    name: 'drain_offset_commits_total',
    help: 'Offset commit requests by result',
    labelNames: ['result'] as const,
    registers,
  });
  const deadLetters = new Counter({
    name: 'drain_dead_letters_total',
    help: 'Records written to the dead-letter topic, by reason',
    labelNames: ['reason'] as const,
    registers,
  });

  new Gauge({
    name: 'drain_share_per_period',
    help: "This worker's share of the group's rate: deliveries per period (fractional)",
    registers,
    collect() {
      this.set(sources.share());
    },
  });
  new Gauge({
    name: 'drain_assigned_partitions',
    help: 'Partitions of the request topic assigned to this worker',
    registers,
    collect() {
      this.set(sources.assigned().length);
    },
  });
  new Gauge({
    name: 'drain_paused_partitions',
    help: 'Assigned partitions whose fetching is paused because their queue is full',
    registers,
    collect() {
      this.set(sources.paused().length);
    },
  });
  new Gauge({
    name: 'drain_partition_paused',
    help: '1 when fetching from the partition is paused',
    labelNames: ['partition'] as const,
    registers,
    collect() {
      this.reset();
      const paused = new Set(sources.paused());
      for (const partition of sources.assigned()) {
        this.set({ partition: String(partition) }, paused.has(partition) ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'drain_queue_depth',
    help: 'Fetched records waiting for delivery, per partition',
    labelNames: ['partition'] as const,
    registers,
    collect() {
      this.reset();
      for (const [partition, depth] of sources.depth()) {
        this.set({ partition: String(partition) }, depth);
      }
    },
  });
  new Gauge({
    name: 'drain_attempts_in_flight',
    help: 'Delivery attempts (or dead-letter writes) under way',
    registers,
    collect() {
      this.set(sources.inFlight());
    },
  });
  new Gauge({
    name: 'drain_partition_lag',
    help: 'Records not yet committed per assigned partition (high watermark − committed offset)',
    labelNames: ['partition'] as const,
    registers,
    async collect() {
      this.reset();
      for (const [partition, lag] of await sources.lag()) {
        this.set({ partition: String(partition) }, lag);
      }
    },
  });

  return { registry, deliveries, attempts, sinkLatency, commits, deadLetters };
}
