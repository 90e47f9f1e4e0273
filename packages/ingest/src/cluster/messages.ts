/** What the primary and its workers say to each other over the cluster's IPC channel. */
export type ClusterMessage =
  /** Primary to worker: stop gracefully (a signal to the primary, forwarded once). */
  | { type: 'ingest:stop' }
  /** Worker to primary: the service's metrics, for a `/metrics` request. */
  | { type: 'ingest:metrics-request'; id: number }
  | { type: 'ingest:metrics-response'; id: number; text?: string; error?: string };

export function isClusterMessage(value: unknown): value is ClusterMessage {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { type?: unknown }).type === 'string' &&
    (value as { type: string }).type.startsWith('ingest:')
  );
}

/** Set in a replacement worker's environment: listen only once Kafka is ready. */
export const LISTEN_WHEN_READY_ENV = 'INGEST_WORKER_LISTEN_WHEN_READY';

/**
 * Set in exactly one worker's environment: it serves the admin port. The admin server keeps the
 * page's history and follows the control topic; one per worker would answer the page from a
 * different history at each request.
 */
export const SERVES_ADMIN_ENV = 'INGEST_WORKER_SERVES_ADMIN';
