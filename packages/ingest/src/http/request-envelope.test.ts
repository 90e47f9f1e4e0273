import { describe, expect, it } from 'vitest';
import { IngestError } from '../errors.ts';
import { MAX_KEY_LENGTH, toEnvelope } from './request-envelope.ts';

const base = {
  body: Buffer.from('{}'),
  receivedAt: 1_764_000_000_000,
  newId: () => 'generated-id',
};

describe('toEnvelope', () => {
  it('takes the id from Idempotency-Key and the key from X-Throttle-Key', () => {
    const envelope = toEnvelope({
      ...base,
      contentType: 'application/json; charset=utf-8',
      rawHeaders: ['Host', 'x', 'Idempotency-Key', 'order-17', 'x-throttle-KEY', 'customer-3'],
    });
    expect(envelope).toEqual({
      id: 'order-17',
      key: 'customer-3',
      body: base.body,
      contentType: 'application/json; charset=utf-8',
      receivedAt: base.receivedAt,
    });
  });

  it('makes a new id and uses no key when the headers are absent', () => {
    const envelope = toEnvelope({ ...base, contentType: undefined, rawHeaders: ['Host', 'x'] });
    expect(envelope.id).toBe('generated-id');
    expect(envelope.key).toBeNull();
    expect(envelope.contentType).toBe('application/json');
  });

  it.each([
    ['sent twice', ['Idempotency-Key', 'a', 'idempotency-key', 'b']],
    ['empty', ['X-Throttle-Key', '']],
    ['too long', ['X-Throttle-Key', 'k'.repeat(MAX_KEY_LENGTH + 1)]],
  ])('refuses a key that is %s', (_, rawHeaders) => {
    expect(() => toEnvelope({ ...base, contentType: undefined, rawHeaders })).toThrow(IngestError);
  });
});
