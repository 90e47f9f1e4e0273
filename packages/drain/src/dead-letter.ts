import type { IHeaders, Kafka, KafkaMessage, Producer } from 'kafkajs';
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

export const DLQ_HEADERS = {
  reason: 'x-dlq-reason',
  status: 'x-dlq-status',
  error: 'x-dlq-error',
  attempts: 'x-dlq-attempts',
  sourceTopic: 'x-dlq-source-topic',
  sourcePartition: 'x-dlq-source-partition',
  sourceOffset: 'x-dlq-source-offset',
} as const;

export interface DeadLetterOptions {
  kafka: Kafka;
  topic: string;
}

export interface DeadLetter {
  connect(): Promise<void>;
  /** Resolves once the dead-letter topic holds the record (acks from all in-sync replicas). */
  send(record: DeadLetterRecord): Promise<void>;
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
    async send(record) {
      await current().send({
        topic: options.topic,
        acks: -1,
        messages: [deadLetterMessage(record)],
      });
    },
    async disconnect() {
      await producer?.disconnect();
    },
  };
}

export function deadLetterMessage(record: DeadLetterRecord): {
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
