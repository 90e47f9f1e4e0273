import type { Clock } from './clock.ts';
import { EXIT_CODE, signalExitCode } from './exit-codes.ts';
import type { Logger } from './logger.ts';

/** Signals that ask a service to stop gracefully: orchestrators, Ctrl-C, a closed terminal. */
const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

export interface ServiceProcessOptions {
  service: { start(): Promise<void>; stop(): Promise<void> };
  logger: Logger;
  clock: Clock;
  /** Longest graceful stop; past it the process exits with `EXIT_CODE.shutdownTimeout`. */
  shutdownTimeoutMs: number;
}

/**
 * For a service's `main.ts` only: starts the service and owns the process from then on, so both
 * services stop, time out and crash the same way (see `EXIT_CODE`).
 * - A stop signal stops the service and exits 0; a second one exits at once with 128 + signal.
 * - A stop that takes longer than `shutdownTimeoutMs` exits with `EXIT_CODE.shutdownTimeout`.
 * - A start that fails, a stop that fails or an uncaught exception exits 1 after a fatal line.
 */
export function runServiceProcess(options: ServiceProcessOptions): void {
  const { service, logger, clock, shutdownTimeoutMs } = options;
  let stopping = false;

  function exit(code: number): never {
    process.exit(code);
  }

  function crash(error: unknown, msg: string): never {
    logger.fatal({ err: error, exitCode: EXIT_CODE.crashed }, msg);
    return exit(EXIT_CODE.crashed);
  }

  function onStopSignal(signal: NodeJS.Signals): void {
    if (stopping) {
      const exitCode = signalExitCode(signal);
      logger.warn({ signal, exitCode }, 'second signal: exiting at once');
      exit(exitCode);
    }
    stopping = true;
    logger.info({ signal, timeoutMs: shutdownTimeoutMs }, 'stopping');
    const stopped = new AbortController();
    void clock.sleep(shutdownTimeoutMs, stopped.signal).then(() => {
      if (stopped.signal.aborted) return;
      const exitCode = EXIT_CODE.shutdownTimeout;
      logger.error({ timeoutMs: shutdownTimeoutMs, exitCode }, 'graceful stop took too long');
      exit(exitCode);
    });
    service.stop().then(
      () => {
        stopped.abort();
        exit(EXIT_CODE.stopped);
      },
      (error: unknown) => crash(error, 'graceful stop failed'),
    );
  }

  for (const signal of STOP_SIGNALS) process.on(signal, onStopSignal);
  process.on('uncaughtException', (error) => crash(error, 'crashed: uncaught exception'));
  process.on('unhandledRejection', (reason) => {
    // kafkajs can reject a promise nobody awaits while Kafka is away; that is no reason to stop
    // serving, so it is logged, not fatal.
    logger.error({ err: reason }, 'unhandled rejection');
  });

  service.start().catch((error: unknown) => {
    // A stop signal during start-up may cut the start short; the stop decides the exit code.
    if (stopping) return;
    crash(error, 'could not start');
  });
}
