import { createLogger, loadConfigOrExit, systemClock } from '@kafka-throttle/common';
import { createIngestService } from './ingest-service.ts';
import { createIngestKafkaClient } from './kafka-client.ts';

/**
 * `pnpm ingest`: configuration from the environment and arguments, signals, exit codes.
 * Exit 0 after a graceful stop, 1 when it cannot start or a stop takes too long, 2 for bad
 * configuration.
 */
const STOP_TIMEOUT_MS = 10_000;

const config = loadConfigOrExit({ env: process.env, args: process.argv.slice(2) });
const logger = createLogger({ level: config.log.level, name: 'ingest' });
const kafka = createIngestKafkaClient(config, logger);
const service = createIngestService({ config, logger, kafka, clock: systemClock });

process.on('unhandledRejection', (reason) => {
  // kafkajs can reject a promise nobody awaits while Kafka is away; that is no reason to stop
  // answering clients.
  logger.error({ err: reason }, 'unhandled rejection');
});

let stopping = false;
function shutdown(signal: NodeJS.Signals): void {
  if (stopping) {
    logger.warn({ signal }, 'second signal: exiting now');
    process.exit(1);
  }
  stopping = true;
  logger.info({ signal }, 'stopping');
  const timer = setTimeout(() => {
    logger.error({ timeoutMs: STOP_TIMEOUT_MS }, 'graceful stop took too long: exiting');
    process.exit(1);
  }, STOP_TIMEOUT_MS);
  timer.unref();
  service.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: error }, 'graceful stop failed');
      process.exit(1);
    },
  );
}
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);

try {
  await service.start();
} catch (error) {
  logger.fatal({ err: error }, 'ingest could not start');
  process.exit(1);
}
