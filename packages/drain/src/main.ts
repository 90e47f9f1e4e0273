import {
  createKafkaClient,
  createLogger,
  loadConfigOrExit,
  runServiceProcess,
} from '@kafka-throttle/common';
import { logLevel } from 'kafkajs';
import { monotonicClock } from './monotonic-clock.ts';
import { createDrainWorker } from './worker.ts';

// `pnpm drain`: one worker of the group, configured from config files, environment and flags;
// signals and exit codes as for every service (runServiceProcess), with drain.shutdownTimeout.
const config = loadConfigOrExit({ env: process.env, args: process.argv.slice(2) });
const logger = createLogger({ level: config.log.level, name: 'drain' });
const kafka = createKafkaClient({
  kafka: config.kafka,
  role: 'drain',
  logger,
  // kafkajs says "pausing/resuming" at info each time a queue fills or empties; ours is enough.
  overrides: { logLevel: logLevel.WARN },
});
const worker = createDrainWorker({ config, logger, kafka, clock: monotonicClock });

runServiceProcess({
  service: worker,
  logger,
  clock: monotonicClock,
  shutdownTimeoutMs: config.drain.shutdownTimeout,
});
