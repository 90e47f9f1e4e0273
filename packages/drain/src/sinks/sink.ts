import type { Envelope } from '@kafka-throttle/common';

/** One delivery attempt of one record. */
export interface Delivery {
  envelope: Envelope;
  topic: string;
  partition: number;
  offset: string;
  /** 1 for the first attempt; retries count up. */
  attempt: number;
}

/**
 * What the destination made of one attempt. `retry` covers everything that may succeed later
 * (408, 425, 429, 5xx, timeouts, connection errors); `reject` is a verdict on the record itself.
 */
export type SinkOutcome =
  | { kind: 'delivered'; status?: number }
  | { kind: 'retry'; status?: number; error: string; retryAfterMs?: number }
  | { kind: 'reject'; status?: number; error: string };

/**
 * An attempt made ready to go (for http: a connected keep-alive socket holds the request,
 * nothing written yet). The worker takes its permit from the rate limiter and calls `send` in
 * the same breath, so what the destination sees is paced, not when the worker meant to send:
 * connecting, a busy event loop or a slow first request cannot come in between.
 */
export interface PreparedAttempt {
  kind: 'prepared';
  /** Sends now (the bytes leave before this returns, as far as the sink can make it). */
  send(): Promise<SinkOutcome>;
  /** Gives the attempt up; nothing reaches the destination. */
  cancel(): void;
  /** Called if the attempt can no longer be sent before `send` (its connection closed). */
  onLost(listener: () => void): void;
}

export interface Sink {
  /** "log", "http", …: a label for logs and metrics. */
  readonly name: string;
  /**
   * Readies one attempt without sending anything, at once or later (a promise). Gives the
   * outcome instead when the attempt failed before anything could be sent (the destination
   * unreachable). Never rejects for a failed delivery. `signal` aborts it when the worker must
   * stop before it ends.
   */
  prepare(
    delivery: Delivery,
    signal: AbortSignal,
  ): PreparedAttempt | SinkOutcome | Promise<PreparedAttempt | SinkOutcome>;
  /**
   * Readies the sink's own code before the first attempt, sending nothing to the destination,
   * so the first attempts do not take longer than the rest.
   */
  warm?(): Promise<void>;
  close(): Promise<void>;
}
