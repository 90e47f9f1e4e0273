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

export interface Sink {
  /** "log", "http", …: a label for logs and metrics. */
  readonly name: string;
  /**
   * Makes one attempt. Never throws for a failed delivery: failures are outcomes. `signal`
   * aborts the attempt when the worker must stop before it ends.
   */
  deliver(delivery: Delivery, signal: AbortSignal): Promise<SinkOutcome>;
  /**
   * Readies the sink's own code before the first attempt, sending nothing to the destination,
   * so the first attempts do not reach it later than the rest (see http-sink.ts).
   */
  warm?(): Promise<void>;
  close(): Promise<void>;
}
