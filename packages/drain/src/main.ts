import { createKafkaClient, createLogger, loadConfigOrExit } from '@kafka-throttle/common';
import { logLevel } from 'kafkajs';
import { monotonicClock } from './monotonic-clock.ts';
import { createDrainWorker } from './worker.ts';

// `pnpm drain`: one worker of the group, configured from config files, environment and flags.
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

let signalled = false;
function onSignal(signal: NodeJS.Signals): void {
  if (signalled) {
    logger.warn({ signal }, 'second signal: exiting at once');
    process.exit(signal === 'SIGINT' ? 130 : 143);
  }
  signalled = true;
  logger.info({ signal, timeoutMs: config.drain.shutdownTimeout }, 'stopping');
  const deadline = setTimeout(() => {
    logger.error({ timeoutMs: config.drain.shutdownTimeout }, 'graceful stop took too long');
    process.exit(1);
  }, config.drain.shutdownTimeout);
  deadline.unref();
  worker.stop().then(
    () => process.exit(0),
    (error: unknown) => {
      logger.error({ err: error }, 'stop failed');
      process.exit(1);
    },
  );
}
process.on('SIGTERM', onSignal);
process.on('SIGINT', onSignal);
process.on('unhandledRejection', (error) => {
  logger.error({ err: error }, 'unhandled rejection');
});

try {
  await worker.start();
} catch (error) {
  logger.fatal({ err: error }, 'could not start');
  process.exit(1);
}
