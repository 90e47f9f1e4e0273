import { ThrottleError } from '@kafka-throttle/common';

/**
 * Every error code ingest answers with, and its HTTP status. The codes are a contract with
 * clients (they branch on `code`); messages are for humans and may change.
 */
export const ERROR_STATUS = {
  bad_request: 400,
  invalid_json: 400,
  invalid_header: 400,
  not_found: 404,
  method_not_allowed: 405,
  request_timeout: 408,
  idempotency_conflict: 409,
  body_too_large: 413,
  unsupported_media_type: 415,
  expectation_failed: 417,
  headers_too_large: 431,
  client_closed: 499,
  internal_error: 500,
  not_implemented: 501,
  kafka_unavailable: 503,
  not_ready: 503,
  shutting_down: 503,
  too_many_connections: 503,
  loop_detected: 508,
} as const;

export type IngestErrorCode = keyof typeof ERROR_STATUS;

/** Seconds a client is asked to wait before retrying a 503: long enough for a reconnect. */
export const RETRY_AFTER_SECONDS = 2;

export interface ErrorBody<Code extends string = IngestErrorCode> {
  error: { code: Code; message: string };
}

/**
 * An error that becomes an HTTP answer: its status follows from its code, through the code table
 * of the API that answers it.
 */
export abstract class HttpError<Code extends string> extends ThrottleError {
  declare readonly code: Code;
  readonly status: number;

  protected constructor(
    statuses: Readonly<Record<Code, number>>,
    code: Code,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.status = statuses[code];
  }

  toBody(): ErrorBody<Code> {
    return errorBody(this.code, this.message);
  }
}

/** An error of the ingest API (its codes and statuses: `ERROR_STATUS`). */
export class IngestError extends HttpError<IngestErrorCode> {
  constructor(code: IngestErrorCode, message: string, options?: { cause?: unknown }) {
    super(ERROR_STATUS, code, message, options);
    this.name = 'IngestError';
  }

  /** 503s tell the client when to come back; nothing else is worth retrying as is. */
  get retryAfterSeconds(): number | undefined {
    return this.status === 503 ? RETRY_AFTER_SECONDS : undefined;
  }

  /** Errors after which the rest of the request may still be on the wire: drop the connection. */
  get closesConnection(): boolean {
    return this.code === 'body_too_large' || this.code === 'shutting_down';
  }
}

export function errorBody<Code extends string>(code: Code, message: string): ErrorBody<Code> {
  return { error: { code, message } };
}

/** Anything that is not an IngestError is a bug: the client learns only that much. */
export function toIngestError(error: unknown): IngestError {
  if (error instanceof IngestError) return error;
  return new IngestError('internal_error', 'internal error', { cause: error });
}

export function kafkaUnavailable(message: string, cause?: unknown): IngestError {
  return new IngestError('kafka_unavailable', message, { cause });
}

/** A failed produce request's answer: too large is a record's own fault only when it went alone. */
export function produceFailure(error: unknown, records: number): IngestError {
  if (error instanceof IngestError && (error.code !== 'body_too_large' || records === 1)) {
    return error;
  }
  const reason = error instanceof Error ? error.message : String(error);
  return kafkaUnavailable(`Kafka did not take the record: ${reason}`, error);
}

/**
 * Every code of a failure inside ingest that no client is answered with (the process side: the
 * workers, the page's assets, a batch nobody waits for). They reach logs and exit codes only.
 * - `page_not_built`: the live page's script could not be bundled at start.
 * - `worker_exited`: an ingest worker exited before it listened.
 * - `workers_not_stopped`: ingest workers did not stop gracefully when asked.
 * - `metrics_unavailable`: the primary did not send the service's metrics in time.
 * - `batch_abandoned`: every record of a produce batch was answered before Kafka's ack came.
 */
export type IngestFailureCode =
  | 'page_not_built'
  | 'worker_exited'
  | 'workers_not_stopped'
  | 'metrics_unavailable'
  | 'batch_abandoned';

export class IngestFailure extends ThrottleError<IngestFailureCode> {
  override name = 'IngestFailure';
}
