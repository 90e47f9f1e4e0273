import type { IHeaders, KafkaMessage, Message } from 'kafkajs';

/**
 * A request as it travels through Kafka. The record is readable by any Kafka tool: the value is
 * the body exactly as received, the key is the client's `X-Throttle-Key`, the rest are headers.
 */
export interface Envelope {
  id: string;
  body: Buffer;
  key: string | null;
  contentType: string;
  /** Epoch milliseconds at which ingest accepted the request. */
  receivedAt: number;
}

export const ENVELOPE_HEADERS = {
  id: 'id',
  contentType: 'content-type',
  receivedAt: 'received-at',
} as const;

const DEFAULT_CONTENT_TYPE = 'application/json';

export function toKafkaMessage(envelope: Envelope): Message {
  return {
    key: envelope.key,
    value: envelope.body,
    headers: {
      [ENVELOPE_HEADERS.id]: envelope.id,
      [ENVELOPE_HEADERS.contentType]: envelope.contentType,
      [ENVELOPE_HEADERS.receivedAt]: String(envelope.receivedAt),
    },
  };
}

/**
 * Reads a record back. A record written by another tool may lack our headers: its id then comes
 * from where it sits (`fallbackId`, e.g. topic-partition-offset), its time from the record.
 */
export function fromKafkaMessage(message: KafkaMessage, fallbackId: string): Envelope {
  const headers = message.headers ?? {};
  const receivedAt = Number(header(headers, ENVELOPE_HEADERS.receivedAt));
  return {
    id: header(headers, ENVELOPE_HEADERS.id) ?? fallbackId,
    body: message.value ?? Buffer.alloc(0),
    key: message.key === null ? null : message.key.toString('utf8'),
    contentType: header(headers, ENVELOPE_HEADERS.contentType) ?? DEFAULT_CONTENT_TYPE,
    receivedAt:
      Number.isFinite(receivedAt) && receivedAt > 0 ? receivedAt : Number(message.timestamp),
  };
}

function header(headers: IHeaders, name: string): string | undefined {
  const value = headers[name];
  const first = Array.isArray(value) ? value[0] : value;
  if (first === undefined) return undefined;
  return Buffer.isBuffer(first) ? first.toString('utf8') : String(first);
}
