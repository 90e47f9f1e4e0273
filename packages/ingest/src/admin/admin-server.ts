import type { AddressInfo } from 'node:net';
import {
  type Clock,
  type Config,
  createControlFollower,
  createControlWriter,
  type Logger,
} from '@kafka-throttle/common';
import type { Kafka } from 'kafkajs';
import type { Registry } from 'prom-client';
import { createHttpServer } from '../http/http-server.ts';
import { createAdminApp } from './admin-app.ts';
import { createAdminReplay } from './admin-replay.ts';
import { createBearerCheck } from './bearer-token.ts';
import { readGroupStatus } from './group-status.ts';
import { createOldestWaiting } from './oldest-waiting.ts';
import { createLivePage } from './page/live-page.ts';

/** A few operators and a scraper: small limits, not the intake's. */
const ADMIN_LIMITS = { headersTimeout: 10_000, requestTimeout: 30_000, maxConnections: 64 };

export interface AdminServerDeps {
  config: Pick<Config, 'kafka' | 'rate' | 'drain' | 'dlq' | 'admin'>;
  kafka: Kafka;
  logger: Logger;
  clock: Clock;
  /** Served at GET /metrics, behind the token. */
  registry: Registry;
}

export interface AdminServer {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** The port listened on (useful with `admin.port` 0); 0 before start. */
  readonly port: number;
}

/**
 * The admin server: the control API and metrics on `admin.host:admin.port`, every request
 * behind `admin.token`. Undefined, after one log line saying so, when no token is configured.
 */
export function createAdminServer(deps: AdminServerDeps): AdminServer | undefined {
  const { config, kafka, clock } = deps;
  const logger = deps.logger.child({ component: 'admin' });
  const token = config.admin.token;
  if (token === undefined) {
    logger.info('no admin.token (ADMIN_TOKEN) configured: the admin server is off');
    return undefined;
  }
  const follower = createControlFollower({ kafka, config, logger, clock, role: 'admin' });
  const writer = createControlWriter({
    kafka,
    topic: config.kafka.topic,
    follower,
    clock,
    by: 'admin',
  });
  const oldest = createOldestWaiting({
    kafka,
    topic: config.kafka.topic,
    groupId: `${config.kafka.clientId}.peek.admin.${process.pid}.${Date.now().toString(36)}`,
    logger,
  });
  const replay = createAdminReplay({
    kafka,
    topic: config.kafka.topic,
    dlqTopic: config.dlq.topic,
    logger,
  });
  const admin = kafka.admin();
  let adminConnected: Promise<void> | undefined;
  const app = createAdminApp({
    authorized: createBearerCheck(token),
    follower,
    writer,
    registry: deps.registry,
    logger,
    replay,
    now: () => clock.now(),
    async groupStatus(rate) {
      adminConnected ??= admin.connect().catch((error: unknown) => {
        adminConnected = undefined;
        throw error;
      });
      await adminConnected;
      return readGroupStatus(
        {
          admin,
          oldest,
          clock,
          topic: config.kafka.topic,
          group: config.drain.group,
          dlqTopic: config.dlq.topic,
        },
        rate,
      );
    },
  });
  const page = createLivePage({
    config,
    kafka,
    logger,
    clock,
    token,
    follower,
    api: app.callback(),
  });
  const server = createHttpServer(page.handler, { logger, limits: ADMIN_LIMITS });
  let port = 0;
  let following: Promise<void> | undefined;

  return {
    async start() {
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(config.admin.port, config.admin.host, () => {
          server.off('error', reject);
          resolve();
        });
      });
      port = (server.address() as AddressInfo).port;
      page.start();
      following = follower.start().catch((error: unknown) => {
        logger.debug({ err: error }, 'stopped before the control topic was read');
      });
      logger.info({ host: config.admin.host, port }, 'admin server listening');
    },
    async stop() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await replay.stop();
      await writer.close().catch(() => undefined);
      await follower.stop();
      await following;
      await Promise.allSettled([oldest.stop(), admin.disconnect(), page.stop()]);
    },
    get port() {
      return port;
    },
  };
}
