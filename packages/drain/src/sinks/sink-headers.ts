import type { ClientRequest, OutgoingHttpHeaders } from 'node:http';
import type { Clock } from '@kafka-throttle/common';
import { basicAuthorization } from './basic-auth.ts';
import { createSigner } from './signing.ts';
import type { Delivery } from './sink.ts';

export interface SinkHeadersOptions {
  /** The sink URL: its user name and password become HTTP Basic authentication. */
  url: string;
  /** `sink.headers`, validated at start (no header of ours among them). */
  headers?: Readonly<Record<string, string>>;
  /** `sink.signingSecret`: `whsec_…` secrets; none, no signature. */
  signingSecrets?: readonly string[];
  clock: Clock;
}

/** The headers of one attempt, made when it is prepared. */
export interface AttemptHeaders {
  headers: OutgoingHttpHeaders;
  /**
   * Called just before the request is written. The signature is made when the attempt is
   * prepared, off the path from permit to send, but `webhook-timestamp` is the attempt's own
   * time: when the clock has moved on to another second while the attempt waited for its
   * permit, this signs again (then, and only then, the HMAC is on that path).
   */
  stamp(request: ClientRequest): void;
}

const nothingToStamp = (): void => {};

/**
 * What every delivery carries: the configured headers and credentials, the throttle's own
 * headers, and, with signing secrets, the Standard Webhooks `webhook-*` headers.
 */
export function createSinkHeaders(
  options: SinkHeadersOptions,
): (delivery: Delivery) => AttemptHeaders {
  const authorization = basicAuthorization(options.url);
  const fixed: Record<string, string> = {
    ...options.headers,
    ...(authorization === undefined ? {} : { authorization }),
  };
  const signer = createSigner(options.signingSecrets ?? []);
  const { clock } = options;

  return (delivery) => {
    const { envelope } = delivery;
    const headers: OutgoingHttpHeaders = {
      ...fixed,
      'content-type': envelope.contentType,
      'content-length': String(envelope.body.length),
      'x-throttle-id': envelope.id,
      'x-throttle-attempt': String(delivery.attempt),
      'x-throttle-received-at': String(envelope.receivedAt),
      'idempotency-key': envelope.id,
    };
    if (signer === undefined) return { headers, stamp: nothingToStamp };
    let signedAt = Math.floor(clock.now() / 1000);
    headers['webhook-id'] = envelope.id;
    headers['webhook-timestamp'] = String(signedAt);
    headers['webhook-signature'] = signer.sign(envelope.id, signedAt, envelope.body);
    return {
      headers,
      stamp(request) {
        const now = Math.floor(clock.now() / 1000);
        if (now === signedAt) return;
        signedAt = now;
        request.setHeader('webhook-timestamp', String(now));
        request.setHeader('webhook-signature', signer.sign(envelope.id, now, envelope.body));
      },
    };
  };
}
