import type { Cluster, Worker } from 'node:cluster';
import type { AddressInfo } from 'node:net';
import { backoffDelay, type Clock, type Logger } from '@kafka-throttle/common';
import { AggregatorRegistry } from 'prom-client';
import { IngestFailure } from '../errors.ts';
import { isClusterMessage, LISTEN_WHEN_READY_ENV, SERVES_ADMIN_ENV } from './messages.ts';

export interface IngestPrimaryDeps {
  cluster: Cluster;
  workers: number;
  logger: Logger;
  clock: Clock;
  /** A worker that lived at least this long before it died is not part of a crash loop. */
  healthyAfterMs?: number;
}

export interface IngestPrimary {
  /** Forks the workers; resolves once every one listens, rejects if one dies before it does. */
  start(): Promise<void>;
  /** Asks every worker to stop gracefully and waits; rejects if one exits with a failure. */
  stop(): Promise<void>;
  /** Kills what is left at once: for a process that exits without a graceful stop. */
  killWorkers(): void;
}

const RESTART_BACKOFF = { initialMs: 200, maxMs: 10_000, jitter: 'none' } as const;

/**
 * The primary of `ingest.workers` > 1: holds no producer and serves no request. It forks the
 * workers, which share the port (node:cluster hands each new connection to the next worker),
 * replaces a worker that dies (backing off while they keep dying soon after start), answers the
 * workers' requests for the service's metrics, and forwards a stop.
 */
export function createIngestPrimary(deps: IngestPrimaryDeps): IngestPrimary {
  const { cluster, workers, clock } = deps;
  const log = deps.logger.child({ role: 'primary' });
  const healthyAfterMs = deps.healthyAfterMs ?? 10_000;
  const aggregator = new AggregatorRegistry();
  const listening = new Set<number>();
  const exits = new Map<number, Promise<number | null>>();
  const restarts = new AbortController();
  let stopping = false;
  let crashStreak = 0;

  /** The worker serving the admin port; its replacement takes the port over. */
  let adminWorker: number | undefined;

  function fork(listenWhenReady: boolean): Worker {
    const servesAdmin = adminWorker === undefined;
    const worker = cluster.fork({
      ...(listenWhenReady ? { [LISTEN_WHEN_READY_ENV]: '1' } : {}),
      ...(servesAdmin ? { [SERVES_ADMIN_ENV]: '1' } : {}),
    });
    if (servesAdmin) adminWorker = worker.id;
    const bornAt = clock.now();
    worker.on('listening', () => listening.add(worker.id));
    worker.on('message', (message: unknown) => {
      if (!isClusterMessage(message) || message.type !== 'ingest:metrics-request') return;
      aggregator.clusterMetrics().then(
        (text) => send(worker, { type: 'ingest:metrics-response', id: message.id, text }),
        (error: unknown) =>
          send(worker, { type: 'ingest:metrics-response', id: message.id, error: String(error) }),
      );
    });
    const exited = new Promise<number | null>((resolve) => {
      worker.on('exit', (code, signal) => {
        listening.delete(worker.id);
        if (adminWorker === worker.id) adminWorker = undefined;
        resolve(code);
        if (stopping) return;
        const lived = clock.now() - bornAt;
        crashStreak = lived >= healthyAfterMs ? 1 : crashStreak + 1;
        const delayMs = backoffDelay(RESTART_BACKOFF, crashStreak);
        log.error(
          { worker: worker.id, pid: worker.process.pid, code, signal, livedMs: lived, delayMs },
          'worker died; replacing it',
        );
        void clock.sleep(delayMs, restarts.signal).then(() => {
          if (!stopping) fork(listening.size > 0);
        });
      });
    });
    exits.set(worker.id, exited);
    void exited.then(() => exits.delete(worker.id));
    return worker;
  }

  return {
    async start() {
      log.info({ workers }, 'starting ingest workers');
      const started = Array.from({ length: workers }, () => fork(false)).map(
        (worker) =>
          new Promise<AddressInfo>((resolve, reject) => {
            worker.once('listening', resolve);
            worker.once('exit', (code) =>
              reject(
                new IngestFailure(
                  'worker_exited',
                  `worker ${worker.id} exited with code ${code} before it listened`,
                ),
              ),
            );
          }),
      );
      const addresses = await Promise.all(started);
      log.info({ port: addresses[0]?.port, workers }, 'ingest listening');
    },
    async stop() {
      stopping = true;
      restarts.abort();
      for (const worker of Object.values(cluster.workers ?? {})) {
        if (worker?.isConnected()) send(worker, { type: 'ingest:stop' });
      }
      const codes = await Promise.all(exits.values());
      const failed = codes.filter((code) => code !== 0);
      if (failed.length > 0) {
        throw new IngestFailure(
          'workers_not_stopped',
          `${failed.length} worker(s) failed to stop gracefully: ${failed}`,
        );
      }
      log.info({ workers }, 'ingest workers stopped');
    },
    killWorkers() {
      for (const worker of Object.values(cluster.workers ?? {})) worker?.process.kill('SIGKILL');
    },
  };
}

function send(worker: Worker, message: unknown): void {
  // A worker that is going away cannot be told anything more; its exit is handled.
  if (worker.isConnected()) worker.send(message as never, undefined, () => {});
}
