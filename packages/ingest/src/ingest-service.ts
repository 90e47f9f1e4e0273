import type { AddressInfo } from 'node:net';
import { type Clock, type Config, configuredTopics, type Logger } from '@kafka-throttle/common';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { createAdminServer } from './admin/admin-server.ts';
import { createApp } from './http/app.ts';
import { createHttpServer } from './http/http-server.ts';
import { createIdempotencyGuard } from './http/idempotency-guard.ts';
import { createRequestTracker } from './http/request-tracker.ts';
import { createProduceBatcher } from './kafka/produce-batcher.ts';
import { createKafkaProducer } from './kafka/producer.ts';
import { createRecordSizeLimit } from './kafka/record-size-limit.ts';
import { createIngestMetrics, type IngestMetrics } from './metrics.ts';
import { createReadiness } from './readiness.ts';

export interface IngestServiceDeps {
  config: Pick<Config, 'kafka' | 'ingest' | 'dlq' | 'admin' | 'rate' | 'drain'>;
  logger: Logger;
  kafka: Kafka;
  clock: Clock;
  /** Process metrics (CPU, memory, event loop) in /metrics; off for a second instance in-process. */
  processMetrics?: boolean;
  /** As a worker of several: what `/metrics` answers (the cluster's aggregate). */
  metricsRenderer?: (registry: Registry) => () => Promise<string>;
  /**
   * Listen only once Kafka is ready: a replacement worker must not take connections, and answer
   * them 503, while the other workers can take them.
   */
  listenWhenReady?: boolean;
  /** As a worker of several: whether this one serves the admin port (one worker does). */
  servesAdmin?: boolean;
}

export interface IngestService {
  /** Listens, then connects to Kafka in the background (retrying until it can). */
  start(): Promise<void>;
  /** Stops accepting, answers every request in flight, flushes, disconnects. */
  stop(): Promise<void>;
  /** The port listened on (useful with `ingest.port` 0); 0 before start. */
  readonly port: number;
  /** The admin server's port; 0 without an admin token or before start. */
  readonly adminPort: number;
  readonly metrics: IngestMetrics;
}

export function createIngestService(deps: IngestServiceDeps): IngestService {
  const { config, kafka, clock } = deps;
  const logger = deps.logger;
  const settings = config.ingest;
  let stopping = false;
  let port = 0;

  const metrics = createIngestMetrics({
    processMetrics: deps.processMetrics,
    renderer: deps.metricsRenderer,
    ready: () => !stopping && readiness.status().ready,
  });
  const producer = createKafkaProducer({
    kafka,
    topic: config.kafka.topic,
    ackTimeout: settings.ackTimeout,
    logger,
    clock,
    metrics,
  });
  const recordSize = createRecordSizeLimit({
    topic: config.kafka.topic,
    maxBodyBytes: settings.maxBodyBytes,
    logger,
  });
  const batcher = createProduceBatcher({
    port: producer,
    clock,
    logger,
    linger: settings.linger,
    maxMessages: settings.maxBatchMessages,
    maxBytes: () => Math.min(settings.maxBatchBytes, recordSize.maxRecordBytes),
    ackTimeout: settings.ackTimeout,
    metrics,
  });
  const readiness = createReadiness({
    kafka,
    topics: configuredTopics(config),
    producer,
    clock,
    logger,
    // Not knowing Kafka's size limit is no reason to refuse records: it is learnt next time.
    onTopicsReady: (admin) =>
      recordSize.learn(admin).catch((error: unknown) => {
        logger.warn({ err: error }, "could not read the topic's max.message.bytes");
      }),
  });
  const tracker = createRequestTracker();
  const adminServer =
    deps.servesAdmin === false
      ? undefined
      : createAdminServer({ config, kafka, logger, clock, registry: metrics.registry });
  const app = createApp({
    batcher,
    readiness,
    metrics,
    logger,
    clock,
    maxBodyBytes: settings.maxBodyBytes,
    isStopping: () => stopping,
    tracker,
    // With an admin server, metrics are served there, behind its token.
    publicMetrics: config.admin.token === undefined,
    recordSize,
    idempotency: createIdempotencyGuard({
      clock,
      window: settings.idempotencyWindow,
      maxKeys: settings.idempotencyMaxKeys,
    }),
  });
  const server = createHttpServer(app.callback(), {
    logger,
    limits: {
      headersTimeout: settings.headersTimeout,
      requestTimeout: settings.requestTimeout,
      maxConnections: settings.maxConnections,
    },
    onRefused: (status) => metrics.httpRequests.inc({ route: 'other', method: '', status }),
  });

  return {
    async start() {
      if (deps.listenWhenReady) {
        readiness.start();
        while (!stopping && !readiness.status().ready) await clock.sleep(100);
        if (stopping) return;
      }
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(settings.port, settings.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      port = (server.address() as AddressInfo).port;
      readiness.start();
      logger.info(
        { host: settings.host, port, topic: config.kafka.topic, brokers: config.kafka.brokers },
        'ingest listening',
      );
      await adminServer?.start();
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Records of requests in flight go to Kafka at once from here on, without lingering.
      void batcher.flush();
      // Requests in the batcher are answered within the ack timeout; one still uploading its
      // body is not waited for much longer than that.
      const patience = new AbortController();
      await Promise.race([
        tracker.idle(),
        clock.sleep(settings.ackTimeout + 2000, patience.signal),
      ]);
      patience.abort();
      await batcher.close();
      // Keep-alive connections with no request left would hold close() open until they time out.
      server.closeAllConnections();
      await closed;
      await adminServer?.stop();
      await readiness.stop();
      await producer.disconnect();
      logger.info({ port }, 'ingest stopped');
    },
    get port() {
      return port;
    },
    get adminPort() {
      return adminServer?.port ?? 0;
    },
    metrics,
  };
}
