import { createHmac, createSecretKey, type KeyObject } from 'node:crypto';
import { signingKey } from '@kafka-throttle/common';

/** Signs deliveries as Standard Webhooks describes, with every configured secret. */
export interface Signer {
  /**
   * The `webhook-signature` value for one attempt: `v1,<base64 HMAC-SHA256>` of
   * `<id>.<timestamp>.<body>` per secret, space-separated (several while rotating).
   */
  sign(id: string, timestampSeconds: number, body: Buffer): string;
}

/**
 * A signer for `whsec_…` secrets (already validated at start), or undefined without any.
 * The keys are decoded once here, not per attempt.
 */
export function createSigner(secrets: readonly string[]): Signer | undefined {
  if (secrets.length === 0) return undefined;
  const keys: KeyObject[] = secrets.map((secret) => createSecretKey(signingKey(secret)));
  return {
    sign(id, timestampSeconds, body) {
      const prefix = `${id}.${timestampSeconds}.`;
      let signatures = '';
      for (const key of keys) {
        const mac = createHmac('sha256', key).update(prefix).update(body).digest('base64');
        signatures += signatures === '' ? `v1,${mac}` : ` v1,${mac}`;
      }
      return signatures;
    },
  };
}
