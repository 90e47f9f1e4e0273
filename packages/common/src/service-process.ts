import type { Clock } from './clock.ts';
import { EXIT_CODE, signalExitCode } from './exit-codes.ts';
import type { Logger } from './logger.ts';

/** Signals that ask a service to stop gracefully: orchestrators, Ctrl-C, a closed terminal. */
export const STOP_SIGNALS: readonly NodeJS.Signals[] = ['SIGTERM', 'SIGINT', 'SIGHUP'];

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

  const crash = (error: unknown, msg: string): never => crashProcess(logger, error, msg);

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
  startSupervised(service, logger, () => stopping);
}

/** A fatal line, then exit 1 (`EXIT_CODE.crashed`): how a service process ends on a bug. */
export function crashProcess(logger: Logger, error: unknown, msg: string): never {
  logger.fatal({ err: error, exitCode: EXIT_CODE.crashed }, msg);
  process.exit(EXIT_CODE.crashed);
}

/**
 * Starts `service` in a process that crashes on what nobody caught: an uncaught exception or a
 * failed start exits 1. A failed start after a stop began is not a crash: the stop cut it short
 * and decides the exit code.
 */
export function startSupervised(
  service: ServiceProcessOptions['service'],
  logger: Logger,
  stopping: () => boolean,
): void {
  process.on('uncaughtException', (error) =>
    crashProcess(logger, error, 'crashed: uncaught exception'),
  );
  process.on('unhandledRejection', (reason) => {
    // kafkajs can reject a promise nobody awaits while Kafka is away; that is no reason to stop
    // serving, so it is logged, not fatal.
    logger.error({ err: reason }, 'unhandled rejection');
  });
  service.start().catch((error: unknown) => {
    if (stopping()) return;
    crashProcess(logger, error, 'could not start');
  });
}
