import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AppServer, startAppServer } from '../../test/support/app-server.ts';
import { RawClient } from '../../test/support/raw-http.ts';

let server: AppServer;

beforeAll(async () => {
  server = await startAppServer({ idempotencyWindow: 60_000 });
});
afterAll(() => server.close());
beforeEach(() => {
  server.producer.batches.length = 0;
});

/** Sends the head as raw bytes (header values exactly as given, UTF-8 included). */
async function raw(
  headers: string,
  body = '{"a":1}',
): Promise<{ status: number; json: { id?: string; error: { code: string } } }> {
  const client = await RawClient.open(server.port);
  try {
    await client.write(
      Buffer.from(
        `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n${headers}` +
          `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
        'utf8',
      ),
    );
    const response = await client.response();
    return { status: response.status, json: JSON.parse(response.body) };
  } finally {
    client.destroy();
  }
}

describe('header values outside printable ASCII', () => {
  it.each(['Idempotency-Key', 'X-Throttle-Key'])(
    'refuses UTF-8 in %s with 400 invalid_header, writing nothing',
    async (name) => {
      const answer = await raw(`${name}: probe-é\r\n`);
      expect(answer.status).toBe(400);
      expect(answer.json.error.code).toBe('invalid_header');
      expect(server.producer.records).toHaveLength(0);
    },
  );

  it('takes printable ASCII as sent', async () => {
    const answer = await raw('Idempotency-Key: probe-e~ !\r\n');
    expect(answer.status).toBe(202);
    expect(answer.json.id).toBe('probe-e~ !');
    expect(server.producer.records[0]?.headers?.id).toBe('probe-e~ !');
  });
});

describe('a delivery of our own coming back', () => {
  it.each([
    ['X-Throttle-Id: 6f1c\r\nX-Throttle-Attempt: 1\r\nIdempotency-Key: 6f1c\r\n'],
    ['x-throttle-attempt: 2\r\n'],
    ['X-Throttle-Id: 6f1c\r\n'],
  ])('is refused with 508 loop_detected and not written (%j)', async (headers) => {
    const answer = await raw(headers);
    expect(answer.status).toBe(508);
    expect(answer.json.error.code).toBe('loop_detected');
    expect(server.producer.records).toHaveLength(0);
  });
});

describe('Idempotency-Key reused', () => {
  it('passes a retry with the same body, both answered with the same id', async () => {
    const first = await raw('Idempotency-Key: same-body\r\n', '{"v":1}');
    const again = await raw('Idempotency-Key: same-body\r\n', '{"v":1}');
    expect([first.status, again.status]).toEqual([202, 202]);
    expect(again.json.id).toBe('same-body');
  });

  it('refuses the same key with a different body with 409 idempotency_conflict', async () => {
    expect((await raw('Idempotency-Key: reused\r\n', '{"v":1}')).status).toBe(202);
    const conflict = await raw('Idempotency-Key: reused\r\n', '{"v":2}');
    expect(conflict.status).toBe(409);
    expect(conflict.json.error.code).toBe('idempotency_conflict');
    expect(server.producer.records.map((m) => m.value?.toString())).toEqual(['{"v":1}']);
  });

  it('does not hold a key whose request was refused against a corrected retry', async () => {
    server.producer.behaviour = 'fail';
    expect((await raw('Idempotency-Key: failed-first\r\n', '{"v":1}')).status).toBe(503);
    server.producer.behaviour = 'ack';
    expect((await raw('Idempotency-Key: failed-first\r\n', '{"v":2}')).status).toBe(202);
  });
});
