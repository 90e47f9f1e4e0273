import {
  createLogger,
  loadConfigOrExit,
  runServiceProcess,
  systemClock,
} from '@kafka-throttle/common';
import { createIngestService } from './ingest-service.ts';
import { createIngestKafkaClient } from './kafka-client.ts';

// `pnpm ingest`: configuration from config files, environment and flags; signals and exit codes
// as for every service (runServiceProcess), with ingest.shutdownTimeout for a graceful stop.
const config = loadConfigOrExit({ env: process.env, args: process.argv.slice(2) });
const logger = createLogger({ level: config.log.level, name: 'ingest' });
const kafka = createIngestKafkaClient(config, logger);
const service = createIngestService({ config, logger, kafka, clock: systemClock });

runServiceProcess({
  service,
  logger,
  clock: systemClock,
  shutdownTimeoutMs: config.ingest.shutdownTimeout,
});
