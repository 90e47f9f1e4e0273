import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Ingest's Prometheus metrics, in a registry of its own: two services in one process (tests,
 * benchmarks) never share or double-register a metric.
 */
export interface IngestMetrics {
  registry: Registry;
  httpRequests: Counter<'route' | 'method' | 'status'>;
  httpDuration: Histogram<'route'>;
  inFlight: Gauge;
  /** From a request's hand-over to the batcher until Kafka acknowledged its record. */
  ackLatency: Histogram;
  batchSize: Histogram;
  batchBytes: Histogram;
  produceFailures: Counter<'reason'>;
  producerCreated: Counter;
  kafkaReady: Gauge;
  /** The text `/metrics` answers: this registry, or the whole service's with several workers. */
  render(): Promise<string>;
}

const SECONDS = [0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export interface IngestMetricsOptions {
  /** CPU, memory, event loop and GC metrics of the process (default true). */
  processMetrics?: boolean | undefined;
  /** Read at each scrape for `ingest_kafka_ready`. */
  ready?: () => boolean;
  /** What `/metrics` shows instead of this registry alone (the cluster's aggregate). */
  renderer?: ((registry: Registry) => () => Promise<string>) | undefined;
}

export function createIngestMetrics(options: IngestMetricsOptions = {}): IngestMetrics {
  const ready = options.ready;
  const registry = new Registry();
  if (options.processMetrics ?? true) collectDefaultMetrics({ register: registry });
  const registers = [registry];
  const render = options.renderer?.(registry) ?? (() => registry.metrics());
  return {
    registry,
    render,
    httpRequests: new Counter({
      name: 'ingest_http_requests_total',
      help: 'HTTP requests answered, by route, method and status',
      labelNames: ['route', 'method', 'status'] as const,
      registers,
    }),
    httpDuration: new Histogram({
      name: 'ingest_http_request_duration_seconds',
      help: 'time from request start to answer, by route',
      labelNames: ['route'] as const,
      buckets: SECONDS,
      registers,
    }),
    inFlight: new Gauge({
      name: 'ingest_http_requests_in_flight',
      help: 'HTTP requests being handled right now',
      registers,
    }),
    ackLatency: new Histogram({
      name: 'ingest_kafka_ack_duration_seconds',
      help: 'time from hand-over to the producer until Kafka acknowledged the record',
      buckets: SECONDS,
      registers,
    }),
    batchSize: new Histogram({
      name: 'ingest_produce_batch_size',
      help: 'records per produce request',
      buckets: [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024],
      registers,
    }),
    batchBytes: new Histogram({
      name: 'ingest_produce_batch_bytes',
      help: 'approximate record bytes per produce request',
      buckets: [1e3, 1e4, 1e5, 2.5e5, 5e5, 1e6, 2e6],
      registers,
    }),
    produceFailures: new Counter({
      name: 'ingest_produce_failures_total',
      help: 'produce requests that did not get an ack: error from Kafka or ack timeout',
      labelNames: ['reason'] as const,
      registers,
    }),
    producerCreated: new Counter({
      name: 'ingest_producers_created_total',
      help: 'idempotent producers created (the first, then one after each failed produce)',
      registers,
    }),
    kafkaReady: new Gauge({
      name: 'ingest_kafka_ready',
      help: '1 when Kafka is reachable, the topic exists and the producer is connected',
      registers,
      // Across workers: 1 only when every worker can produce.
      aggregator: 'min',
      collect() {
        if (ready) this.set(ready() ? 1 : 0);
      },
    }),
  };
}
