import { describe, expect, it } from 'vitest';
import { IngestError } from './errors.ts';
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
      headers: { 'content-type': 'application/json; charset=utf-8' },
      headersDistinct: { 'idempotency-key': ['order-17'], 'x-throttle-key': ['customer-3'] },
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
    const envelope = toEnvelope({
      ...base,
      headers: { 'content-type': 'application/json' },
      headersDistinct: {},
    });
    expect(envelope.id).toBe('generated-id');
    expect(envelope.key).toBeNull();
  });

  it.each([
    ['sent twice', { 'idempotency-key': ['a', 'b'] }],
    ['empty', { 'x-throttle-key': [''] }],
    ['too long', { 'x-throttle-key': ['k'.repeat(MAX_KEY_LENGTH + 1)] }],
  ])('refuses a key that is %s', (_, headersDistinct) => {
    expect(() => toEnvelope({ ...base, headers: {}, headersDistinct })).toThrow(IngestError);
  });
});
