import { type Clock, DLQ_HEADERS, type Logger, retryWithBackoff } from '@kafka-throttle/common';
import type { IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
import { DrainError } from '../errors.ts';
import type { DeadLetterReason } from './retry-policy.ts';

/** Why a record could not be delivered, as it is written next to the record. */
export interface DeadLetterCause {
  reason: DeadLetterReason;
  status?: number;
  error?: string;
  attempts: number;
}

export interface DeadLetterRecord {
  message: KafkaMessage;
  sourceTopic: string;
  sourcePartition: number;
  cause: DeadLetterCause;
}

// Shared with replay, which reads them back.
export { DLQ_HEADERS };

export interface DeadLetterOptions {
  kafka: Kafka;
  topic: string;
  clock: Clock;
  logger: Logger;
  /** First wait after a failed write; it doubles while writes keep failing, up to `retryMaxMs`. */
  retryMs: number;
  retryMaxMs: number;
}

export interface DeadLetter {
  connect(): Promise<void>;
  /**
   * Resolves true once the dead-letter topic holds the record (acks from all in-sync replicas).
   * While the topic cannot be written it keeps trying, as long as `keepTrying()` holds and
   * `signal` is not aborted; false when it gave up.
   */
  send(record: DeadLetterRecord, keepTrying: () => boolean, signal: AbortSignal): Promise<boolean>;
  disconnect(): Promise<void>;
}

/**
 * Writes records that cannot be delivered to the dead-letter topic: the original key, value and
 * headers, plus headers saying why. Only after that is the source offset committed.
 */
export function createDeadLetter(options: DeadLetterOptions): DeadLetter {
  let producer: Producer | undefined;

  function current(): Producer {
    producer ??= options.kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    return producer;
  }

  return {
    connect: () => current().connect(),
    async send(record, keepTrying, signal) {
      if (signal.aborted || !keepTrying()) return false;
      const write = async (): Promise<void> => {
        // Its partition may have moved on during the wait: the new owner dead-letters it then.
        if (!keepTrying()) throw new DrainError('partition_revoked', "no longer this worker's");
        await current().send({
          topic: options.topic,
          acks: -1,
          messages: [deadLetterMessage(record)],
        });
      };
      try {
        await retryWithBackoff(write, {
          clock: options.clock,
          signal,
          initialMs: options.retryMs,
          maxMs: options.retryMaxMs,
          jitter: 'none',
          shouldRetry: keepTrying,
          onRetry(error) {
            options.logger.error(
              { err: error, partition: record.sourcePartition, offset: record.message.offset },
              'could not write to the dead-letter topic; retrying',
            );
          },
        });
        return true;
      } catch {
        // The record stays at the head of its partition; it is dead-lettered again later.
        return false;
      }
    },
    async disconnect() {
      await producer?.disconnect();
    },
  };
}

function deadLetterMessage(record: DeadLetterRecord): {
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
} {
  const { message, cause } = record;
  const headers: IHeaders = { ...(message.headers ?? {}) };
  headers[DLQ_HEADERS.reason] = cause.reason;
  if (cause.status !== undefined) headers[DLQ_HEADERS.status] = String(cause.status);
  if (cause.error !== undefined) headers[DLQ_HEADERS.error] = cause.error;
  headers[DLQ_HEADERS.attempts] = String(cause.attempts);
  headers[DLQ_HEADERS.sourceTopic] = record.sourceTopic;
  headers[DLQ_HEADERS.sourcePartition] = String(record.sourcePartition);
  headers[DLQ_HEADERS.sourceOffset] = message.offset;
  return { key: message.key, value: message.value, headers };
}
