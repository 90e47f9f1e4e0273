import { Webhook } from 'standardwebhooks';
import type { Arrival } from './destination.ts';

/** What a destination made of one arrival's Standard Webhooks signature. */
export interface Verdict {
  id: string;
  attempt: number;
  /** The secret (by index) the destination checked with. */
  secret: number;
  valid: boolean;
  /** The same headers with one byte of the body changed: must never verify. */
  tamperedValid: boolean;
  timestamp: number;
  at: number;
}

/**
 * Checks an arrival as a receiver would, with the `standardwebhooks` package and one secret:
 * true when its webhook-* headers verify its body.
 */
export function verifies(secret: string, arrival: Arrival, body = arrival.body): boolean {
  try {
    new Webhook(secret).verify(body, {
      'webhook-id': String(arrival.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(arrival.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(arrival.headers['webhook-signature'] ?? ''),
    });
    return true;
  } catch {
    return false;
  }
}

/** The body with its last character changed, as a meddler on the way might. */
export function tampered(body: string): string {
  return `${body.slice(0, -1)}${body.endsWith('}') ? ' }' : '}'}`;
}
