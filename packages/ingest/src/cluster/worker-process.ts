import {
  crashProcess,
  EXIT_CODE,
  type Logger,
  STOP_SIGNALS,
  startSupervised,
} from '@kafka-throttle/common';
import { isClusterMessage } from './messages.ts';

export interface ClusterWorkerOptions {
  service: { start(): Promise<void>; stop(): Promise<void> };
  logger: Logger;
}

/**
 * For `main.ts` in a worker of several: starts the service and stops it gracefully on the
 * primary's word or on a stop signal (Ctrl-C reaches the whole process group). Repeated signals
 * do not cut the stop short here: the primary owns the shutdown timeout and the second-signal
 * exit, and kills what is left. A crash exits 1, so the primary replaces the worker.
 */
export function runClusterWorker(options: ClusterWorkerOptions): void {
  const { service, logger } = options;
  let stopping = false;

  function stop(reason: string): void {
    if (stopping) return;
    stopping = true;
    logger.info({ reason }, 'stopping');
    service.stop().then(
      () => process.exit(EXIT_CODE.stopped),
      (error: unknown) => crashProcess(logger, error, 'graceful stop failed'),
    );
  }

  for (const signal of STOP_SIGNALS) process.on(signal, () => stop(signal));
  process.on('message', (message: unknown) => {
    if (isClusterMessage(message) && message.type === 'ingest:stop') stop('primary');
  });
  startSupervised(service, logger, () => stopping);
}
