import type { IncomingHttpHeaders } from 'node:http';
import type { Envelope } from '@kafka-throttle/common';
import { IngestError } from './errors.ts';

/** Longest `Idempotency-Key` / `X-Throttle-Key` taken; both travel in every record. */
export const MAX_KEY_LENGTH = 256;

export interface EnvelopeSource {
  headers: IncomingHttpHeaders;
  /** Every value of every header, as Node's `req.headersDistinct` gives them. */
  headersDistinct: NodeJS.Dict<string[]>;
  body: Buffer;
  receivedAt: number;
  newId: () => string;
}

/**
 * The record a request becomes: the id is the client's `Idempotency-Key` or a fresh one, the
 * Kafka key is `X-Throttle-Key` (null without it), the content type is kept as sent.
 */
export function toEnvelope(source: EnvelopeSource): Envelope {
  const { headers, headersDistinct } = source;
  const idempotencyKey = optionalHeader(headersDistinct, 'idempotency-key');
  return {
    id: idempotencyKey ?? source.newId(),
    key: optionalHeader(headersDistinct, 'x-throttle-key') ?? null,
    body: source.body,
    contentType: headers['content-type'] ?? 'application/json',
    receivedAt: source.receivedAt,
  };
}

function optionalHeader(headers: NodeJS.Dict<string[]>, name: string): string | undefined {
  const values = headers[name];
  if (values === undefined || values.length === 0) return undefined;
  // Node would join a repeated header into "a, b"; a key sent twice is ambiguous, so it is
  // refused rather than silently becoming a third key.
  if (values.length > 1) throw invalid(name, 'it is sent more than once');
  const value = values[0] as string;
  if (value.length === 0) throw invalid(name, 'it is empty');
  if (value.length > MAX_KEY_LENGTH) {
    throw invalid(name, `it is longer than ${MAX_KEY_LENGTH} characters`);
  }
  return value;
}

function invalid(name: string, why: string): IngestError {
  return new IngestError('invalid_header', `the ${name} header is not usable: ${why}`);
}
