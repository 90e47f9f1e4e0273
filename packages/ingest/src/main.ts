import cluster from 'node:cluster';
import { availableParallelism } from 'node:os';
import {
  createLogger,
  loadConfigOrExit,
  runServiceProcess,
  systemClock,
} from '@kafka-throttle/common';
import { cgroupCpuQuota } from './cluster/cpu-quota.ts';
import { createIngestPrimary } from './cluster/ingest-primary.ts';
import { LISTEN_WHEN_READY_ENV, SERVES_ADMIN_ENV } from './cluster/messages.ts';
import { resolveWorkerCount } from './cluster/worker-count.ts';
import { createWorkerMetrics } from './cluster/worker-metrics.ts';
import { runClusterWorker } from './cluster/worker-process.ts';
import { createIngestService } from './ingest-service.ts';
import { createIngestKafkaClient } from './kafka-client.ts';

// `pnpm ingest`: configuration from config files, environment and flags; signals and exit codes
// as for every service (runServiceProcess), with ingest.shutdownTimeout for a graceful stop.
// With ingest.workers > 1 this process is the primary and forks the workers (this same file).
const config = loadConfigOrExit({ env: process.env, args: process.argv.slice(2) });
const workers = cluster.isPrimary
  ? resolveWorkerCount(config.ingest.workers, availableParallelism(), cgroupCpuQuota())
  : 1;
const shutdownTimeoutMs = config.ingest.shutdownTimeout;

if (workers > 1 && cluster.isPrimary) {
  const logger = createLogger({ level: config.log.level, name: 'ingest' });
  const primary = createIngestPrimary({ cluster, workers, logger, clock: systemClock });
  // Whatever ends the primary (timeout, second signal, crash) ends the workers with it.
  process.on('exit', () => primary.killWorkers());
  runServiceProcess({ service: primary, logger, clock: systemClock, shutdownTimeoutMs });
} else if (cluster.isWorker) {
  const logger = createLogger({ level: config.log.level, name: 'ingest' }).child({
    worker: cluster.worker?.id,
  });
  const kafka = createIngestKafkaClient(config, logger);
  const service = createIngestService({
    config,
    logger,
    kafka,
    clock: systemClock,
    metricsRenderer: (registry) =>
      createWorkerMetrics(registry, {
        send: (message) => process.send?.(message),
        on: (event, listener) => process.on(event, listener),
      }),
    listenWhenReady: process.env[LISTEN_WHEN_READY_ENV] === '1',
    servesAdmin: process.env[SERVES_ADMIN_ENV] === '1',
  });
  runClusterWorker({ service, logger });
} else {
  const logger = createLogger({ level: config.log.level, name: 'ingest' });
  const kafka = createIngestKafkaClient(config, logger);
  const service = createIngestService({ config, logger, kafka, clock: systemClock });
  runServiceProcess({ service, logger, clock: systemClock, shutdownTimeoutMs });
}
