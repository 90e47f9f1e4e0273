import { createLogger, runServiceProcess, systemClock } from '../../src/index.ts';

/**
 * A stand-in service run as a real process by service-process.test.ts: how its start and stop
 * behave comes from the environment, so each case can provoke one way of ending.
 * - START: "ok" (default), "fail" (start rejects), "throw-later" (an uncaught exception once up)
 * - STOP: "ok" (default), "fail" (stop rejects), "hang" (stop never finishes)
 * - SHUTDOWN_TIMEOUT_MS: the graceful stop budget (default 30000)
 */
const logger = createLogger({ level: 'info', name: 'test-service' });
const startMode = process.env.START ?? 'ok';
const stopMode = process.env.STOP ?? 'ok';

const service = {
  async start(): Promise<void> {
    if (startMode === 'fail') throw new Error('cannot start: test');
    if (startMode === 'throw-later') {
      setTimeout(() => {
        throw new Error('boom: test');
      }, 50);
    }
    // Something that keeps the process alive, as a server would.
    setInterval(() => {}, 60_000);
    logger.info('service started');
  },
  async stop(): Promise<void> {
    logger.info({ mode: stopMode }, 'service stop called');
    if (stopMode === 'fail') throw new Error('cannot stop: test');
    if (stopMode === 'hang') await new Promise(() => {});
  },
};

runServiceProcess({
  service,
  logger,
  clock: systemClock,
  shutdownTimeoutMs: Number(process.env.SHUTDOWN_TIMEOUT_MS ?? 30_000),
});
