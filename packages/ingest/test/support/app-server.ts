import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLogger, type HttpLimits, systemClock } from '@kafka-throttle/common';
import { createApp } from '../../src/http/app.ts';
import { createHttpServer } from '../../src/http/http-server.ts';
import { createIdempotencyGuard } from '../../src/http/idempotency-guard.ts';
import { createProduceBatcher } from '../../src/kafka/produce-batcher.ts';
import { createIngestMetrics, type IngestMetrics } from '../../src/metrics.ts';
import type { ReadinessStatus } from '../../src/readiness.ts';
import { FakePort } from './fake-port.ts';

export interface AppServer {
  url: string;
  port: number;
  producer: FakePort;
  metrics: IngestMetrics;
  readiness: { topicsReady: boolean; state: ReadinessStatus };
  stopping: { value: boolean };
  close(): Promise<void>;
}

export interface AppServerOptions {
  maxBodyBytes?: number;
  ackTimeout?: number;
  linger?: number;
  maxBatchMessages?: number;
  newId?: () => string;
  now?: () => number;
  limits?: Partial<HttpLimits>;
  /** Remember Idempotency-Keys this long (0, the default here: unchecked). */
  idempotencyWindow?: number;
}

/** The real app, HTTP server and batcher on a free port, with a fake producer behind them. */
export async function startAppServer(options: AppServerOptions = {}): Promise<AppServer> {
  const logger = createLogger({ level: 'silent', name: 'ingest-test' });
  const producer = new FakePort();
  const metrics = createIngestMetrics({ processMetrics: false });
  const clock = { ...systemClock, now: options.now ?? systemClock.now };
  const batcher = createProduceBatcher({
    port: producer,
    clock,
    logger,
    linger: options.linger ?? 2,
    maxMessages: options.maxBatchMessages ?? 500,
    maxBytes: () => 1_000_000,
    ackTimeout: options.ackTimeout ?? 2000,
    metrics,
  });
  const readiness = {
    topicsReady: true,
    state: { ready: true } as ReadinessStatus,
    status(): ReadinessStatus {
      return this.state;
    },
  };
  const stopping = { value: false };
  const app = createApp({
    batcher,
    readiness,
    metrics,
    logger,
    clock,
    maxBodyBytes: options.maxBodyBytes ?? 1024,
    isStopping: () => stopping.value,
    idempotency: createIdempotencyGuard({
      clock,
      window: options.idempotencyWindow ?? 0,
      maxKeys: 1000,
    }),
    ...(options.newId ? { newId: options.newId } : {}),
  });
  const server: Server = createHttpServer(app.callback(), {
    logger,
    limits: {
      headersTimeout: 10_000,
      requestTimeout: 30_000,
      maxConnections: 1000,
      ...options.limits,
    },
    onRefused: (status) => metrics.httpRequests.inc({ route: 'other', method: '', status }),
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    producer,
    metrics,
    readiness,
    stopping,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
