import { AggregatorRegistry, type Registry } from 'prom-client';
import { IngestFailure } from '../errors.ts';
import { type ClusterMessage, isClusterMessage } from './messages.ts';

/** The worker's side of the IPC channel: what it needs to send and receive. */
export interface WorkerChannel {
  send(message: ClusterMessage): void;
  on(event: 'message', listener: (message: unknown) => void): void;
}

/**
 * In a worker: `/metrics` shows the service, not this worker. The worker's registry is offered to
 * prom-client's aggregation, and a scrape asks the primary, which collects every worker's
 * registry and sums them (gauges by their aggregator).
 */
export function createWorkerMetrics(
  registry: Registry,
  channel: WorkerChannel,
  timeoutMs = 10_000,
): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one is what makes prom-client answer the primary's collection requests here.
  new AggregatorRegistry();
  const pending = new Map<number, (answer: { text?: string; error?: string }) => void>();
  let nextId = 1;
  channel.on('message', (message) => {
    if (!isClusterMessage(message) || message.type !== 'ingest:metrics-response') return;
    pending.get(message.id)?.(message);
  });
  return () =>
    new Promise<string>((resolve, reject) => {
      const id = nextId++;
      const timer = setTimeout(() => {
        pending.delete(id);
        reject(
          new IngestFailure(
            'metrics_unavailable',
            `the primary did not send the metrics within ${timeoutMs} ms`,
          ),
        );
      }, timeoutMs);
      pending.set(id, (answer) => {
        clearTimeout(timer);
        pending.delete(id);
        if (answer.text !== undefined) resolve(answer.text);
        else
          reject(
            new IngestFailure(
              'metrics_unavailable',
              answer.error ?? 'the primary could not collect the metrics',
            ),
          );
      });
      channel.send({ type: 'ingest:metrics-request', id });
    });
}
