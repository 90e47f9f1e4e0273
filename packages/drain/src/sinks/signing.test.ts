import { createHmac, randomBytes } from 'node:crypto';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { createSigner } from './signing.ts';

const secret = (): string => `whsec_${randomBytes(32).toString('base64')}`;
const body = Buffer.from('{"hello":"wörld"}');

describe('createSigner', () => {
  it('signs nothing without secrets', () => {
    expect(createSigner([])).toBeUndefined();
  });

  it('gives v1,<base64 HMAC-SHA256 of "id.timestamp.body"> keyed with the decoded secret', () => {
    // The example of the Standard Webhooks specification, byte for byte.
    const signer = createSigner(['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw']);
    const payload = Buffer.from('{"test": 2432232314}');
    expect(signer?.sign('msg_p5jXN8AQM9LWM0D4loKWxJek', 1614265330, payload)).toBe(
      'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
    );
  });

  it('is what the standardwebhooks verifier accepts, and only for the same body', () => {
    const key = secret();
    const signer = createSigner([key]);
    const now = Math.floor(Date.now() / 1000);
    const headers = {
      'webhook-id': 'id-1',
      'webhook-timestamp': String(now),
      'webhook-signature': signer?.sign('id-1', now, body) ?? '',
    };
    expect(new Webhook(key).verify(body, headers)).toEqual({ hello: 'wörld' });
    expect(() => new Webhook(key).verify('{"hello":"world"}', headers)).toThrow(
      'No matching signature found',
    );
    expect(() => new Webhook(key).verify(body, { ...headers, 'webhook-id': 'id-2' })).toThrow(
      'No matching signature found',
    );
    expect(() => new Webhook(secret()).verify(body, headers)).toThrow(
      'No matching signature found',
    );
  });

  it('signs with every secret, space-separated, so either key verifies while rotating', () => {
    const [oldKey, newKey] = [secret(), secret()];
    const signer = createSigner([oldKey, newKey]);
    const now = Math.floor(Date.now() / 1000);
    const signature = signer?.sign('id-9', now, body) ?? '';
    expect(signature.split(' ')).toHaveLength(2);
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}= v1,[A-Za-z0-9+/]{43}=$/);
    const headers = {
      'webhook-id': 'id-9',
      'webhook-timestamp': String(now),
      'webhook-signature': signature,
    };
    expect(new Webhook(oldKey).verify(body, headers)).toEqual({ hello: 'wörld' });
    expect(new Webhook(newKey).verify(body, headers)).toEqual({ hello: 'wörld' });
  });

  it('signs the body bytes as they are, not a re-encoding of them', () => {
    const key = secret();
    const bytes = Buffer.from([0x7b, 0x7d, 0xff]);
    const expected = createHmac('sha256', Buffer.from(key.slice(6), 'base64'))
      .update(Buffer.concat([Buffer.from('x.5.'), bytes]))
      .digest('base64');
    expect(createSigner([key])?.sign('x', 5, bytes)).toBe(`v1,${expected}`);
  });
});
