import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { startAppServer } from '../../test/support/app-server.ts';
import { JSON_TYPE, useAppServer } from '../../test/support/app-under-test.ts';

const LIMIT = 1024;
const t = useAppServer({ maxBodyBytes: LIMIT, ackTimeout: 400 });

describe('POST / accepted', () => {
  it('answers 202 with the id, partition and offset of the record it produced', async () => {
    const response = await t.post('{"order":17}', {
      'content-type': 'application/json; charset=utf-8',
      'idempotency-key': 'order-17',
      'x-throttle-key': 'customer-3',
    });
    expect(response.status).toBe(202);
    const body = await response.json();
    const [record] = t.server.producer.placed.slice(-1);
    expect(body).toEqual({
      status: 'accepted',
      id: 'order-17',
      partition: record?.placement.partition,
      offset: record?.placement.offset,
    });
    const message = t.server.producer.records[0];
    expect(message?.value?.toString()).toBe('{"order":17}');
    expect(message?.key).toBe('customer-3');
    expect(message?.headers?.id).toBe('order-17');
    expect(message?.headers?.['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(message?.headers?.['received-at'])).toBeGreaterThan(1_700_000_000_000);
  });

  it('gives each request without an Idempotency-Key a fresh UUID and no key', async () => {
    const answers = await Promise.all([t.post('[1]'), t.post('[2]')]);
    const ids = await Promise.all(
      answers.map(async (r) => ((await r.json()) as { id: string }).id),
    );
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
    expect(new Set(ids).size).toBe(2);
    expect(t.server.producer.records.map((m) => m.key)).toEqual([null, null]);
  });

  it('keeps the body bytes exactly as sent', async () => {
    const body = '{ "text" : "h\\u00e9llo ü 😀" ,\n "n": 1.50 }';
    expect((await t.post(body)).status).toBe(202);
    expect(t.server.producer.records[0]?.value).toEqual(Buffer.from(body));
  });

  it('accepts a chunked body under the limit', async () => {
    const client = await t.rawRequest(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    await client.write('4\r\n{"a"\r\n');
    await client.write('3\r\n:1}\r\n0\r\n\r\n');
    const response = await client.response();
    client.destroy();
    expect(response.status).toBe(202);
    expect(t.server.producer.records[0]?.value?.toString()).toBe('{"a":1}');
  });

  it('coalesces concurrent requests into a few produce requests and answers each with its own record', async () => {
    // Its own server: the first produce request is held until all sixty requests are in, which
    // on a busy machine takes longer than the shared server's short ack timeout.
    const patient = await startAppServer({ maxBodyBytes: LIMIT, ackTimeout: 60_000 });
    try {
      patient.producer.behaviour = 'manual';
      const count = 60;
      let answered = 0;
      const answers = Array.from({ length: count }, (_, i) =>
        fetch(patient.url, {
          method: 'POST',
          headers: { ...JSON_TYPE, 'idempotency-key': `req-${i}` },
          body: JSON.stringify({ i }),
        }).finally(() => {
          answered += 1;
        }),
      );
      await t.waitFor(async () => {
        const inFlight = await patient.metrics.inFlight.get();
        return patient.producer.pending.length === 1 && inFlight.values[0]?.value === count;
      });
      // A request counted in flight may still be reading its body, and then joins a later
      // batch: ack whatever is produced until every request has its answer.
      while (answered < count) {
        if (patient.producer.pending.length > 0) patient.producer.ackNext();
        await sleep(5);
      }
      const bodies = (await Promise.all((await Promise.all(answers)).map((r) => r.json()))) as {
        id: string;
        partition: number;
        offset: string;
      }[];
      // One held batch, the queue behind it in one more, and stragglers at most in a third.
      expect(patient.producer.batches.length).toBeGreaterThanOrEqual(2);
      expect(patient.producer.batches.length).toBeLessThanOrEqual(3);
      expect(patient.producer.records).toHaveLength(count);
      for (const body of bodies) {
        const placed = patient.producer.placed.find((p) => p.message.headers?.id === body.id);
        expect(placed?.placement).toEqual({ partition: body.partition, offset: body.offset });
        expect(placed?.message.value?.toString()).toBe(`{"i":${body.id.slice(4)}}`);
      }
    } finally {
      await patient.close();
    }
  });
});

describe('when Kafka cannot take the record', () => {
  it('answers 503 kafka_unavailable with Retry-After when the produce request fails', async () => {
    t.server.producer.behaviour = 'fail';
    const response = await t.post('{"a":1}');
    await t.expectError(response, 503, 'kafka_unavailable');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('answers 503 once the ack timeout passes, never hanging the client', async () => {
    t.server.producer.behaviour = 'hang';
    // The client waits far longer than the 400 ms ack timeout; getting any answer is the point.
    const response = await t.post('{"a":1}');
    const error = await t.expectError(response, 503, 'kafka_unavailable');
    expect(error.message).toContain('400 ms');
    expect(t.server.producer.abortedSends).toHaveLength(1);
  });

  it('answers 503 without producing while the topics have not been verified', async () => {
    t.server.readiness.topicsReady = false;
    await t.expectError(await t.post('{"a":1}'), 503, 'kafka_unavailable');
    expect(t.server.producer.records).toHaveLength(0);
  });

  it('still answers bad input with its 4xx while Kafka is away', async () => {
    t.server.readiness.topicsReady = false;
    await t.expectError(await t.post('{"a":'), 400, 'invalid_json');
  });

  it('turns new requests away with 503 shutting_down while stopping', async () => {
    t.server.stopping.value = true;
    const response = await t.post('{"a":1}');
    await t.expectError(response, 503, 'shutting_down');
    expect(response.headers.get('connection')).toBe('close');
    expect(t.server.producer.records).toHaveLength(0);
  });
});

describe('operations endpoints', () => {
  it('/healthz answers 200', async () => {
    const response = await fetch(`${t.server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz follows readiness and says why it is not ready', async () => {
    expect((await fetch(`${t.server.url}/readyz`)).status).toBe(200);
    t.server.readiness.state = { ready: false, reason: 'Kafka is unreachable' };
    const response = await fetch(`${t.server.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: 'not_ready',
      reason: 'Kafka is unreachable',
      error: { code: 'not_ready', message: 'Kafka is unreachable' },
    });
    t.server.readiness.state = { ready: true };
    t.server.stopping.value = true;
    expect((await fetch(`${t.server.url}/readyz`)).status).toBe(503);
  });

  it('/metrics counts requests by route and status and shows batch sizes', async () => {
    await t.post('{"m":1}');
    await t.post('not json');
    const response = await fetch(`${t.server.url}/metrics`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/plain');
    const text = await response.text();
    expect(text).toMatch(/ingest_http_requests_total\{route="\/",method="POST",status="202"\} \d+/);
    expect(text).toMatch(/ingest_http_requests_total\{route="\/",method="POST",status="400"\} \d+/);
    expect(text).toContain('ingest_produce_batch_size_bucket{le="1"}');
    expect(text).toContain('ingest_kafka_ack_duration_seconds_count');
    expect(text).toContain('ingest_http_requests_in_flight');
  });
});
