import type { Envelope } from '@kafka-throttle/common';
import { IngestError } from '../errors.ts';

/** Longest `Idempotency-Key` / `X-Throttle-Key` taken; both travel in every record. */
export const MAX_KEY_LENGTH = 256;

export interface EnvelopeSource {
  /** Header names and values as received, alternating (Node's `req.rawHeaders`). */
  rawHeaders: readonly string[];
  contentType: string | undefined;
  body: Buffer;
  receivedAt: number;
  newId: () => string;
}

/**
 * The record a request becomes: the id is the client's `Idempotency-Key` or a fresh one, the
 * Kafka key is `X-Throttle-Key` (null without it), the content type is kept as sent.
 */
export function toEnvelope(source: EnvelopeSource): Envelope {
  let idempotencyKey: string | undefined;
  let throttleKey: string | undefined;
  const raw = source.rawHeaders;
  // One pass over the raw headers: Node would join a repeated header into "a, b", and a key
  // sent twice is ambiguous, so it is refused rather than silently becoming a third key.
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i] as string;
    const length = name.length;
    if (length !== 15 && length !== 14 && length !== 13 && length !== 18) continue;
    const lower = name.toLowerCase();
    if (lower === 'idempotency-key') {
      idempotencyKey = checked(lower, raw[i + 1] as string, idempotencyKey);
    } else if (lower === 'x-throttle-key') {
      throttleKey = checked(lower, raw[i + 1] as string, throttleKey);
    } else if (DELIVERY_HEADERS.has(lower)) {
      throw new IngestError(
        'loop_detected',
        `the request carries ${name}, a header of kafka-throttle's own deliveries: a drain's SINK_URL points back at ingest`,
      );
    }
  }
  return {
    id: idempotencyKey ?? source.newId(),
    key: throttleKey ?? null,
    body: source.body,
    contentType: source.contentType ?? 'application/json',
    receivedAt: source.receivedAt,
  };
}

/**
 * Headers drain puts on every delivery. A request carrying them is one of our own deliveries
 * coming back: taking it would deliver it again, and again, multiplying traffic.
 */
const DELIVERY_HEADERS = new Set(['x-throttle-id', 'x-throttle-attempt']);

/**
 * Printable ASCII only. Node reads header bytes as Latin-1, so UTF-8 in a key would be stored
 * double-encoded while the destination got the original bytes: the client's id and the
 * destination's id would differ. Refusing keeps the id the same everywhere.
 */
const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

function checked(name: string, value: string, earlier: string | undefined): string {
  if (earlier !== undefined) throw invalid(name, 'it is sent more than once');
  if (value.length === 0) throw invalid(name, 'it is empty');
  if (!PRINTABLE_ASCII.test(value))
    throw invalid(name, 'it has characters outside printable ASCII');
  if (value.length > MAX_KEY_LENGTH) {
    throw invalid(name, `it is longer than ${MAX_KEY_LENGTH} characters`);
  }
  return value;
}

function invalid(name: string, why: string): IngestError {
  return new IngestError('invalid_header', `the ${name} header is not usable: ${why}`);
}
