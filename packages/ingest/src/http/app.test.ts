import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AppServer, startAppServer } from '../../test/support/app-server.ts';
import { RawClient } from '../../test/support/raw-http.ts';
import { MAX_HEADER_BYTES } from './http-server.ts';
import { MAX_JSON_DEPTH } from './json-validation.ts';

const LIMIT = 1024;
const JSON_TYPE = { 'content-type': 'application/json' };

let server: AppServer;

beforeAll(async () => {
  server = await startAppServer({ maxBodyBytes: LIMIT, ackTimeout: 400 });
});
afterAll(() => server.close());
afterEach(() => {
  server.producer.behaviour = 'ack';
  server.producer.batches.length = 0;
  server.producer.abortedSends.length = 0;
  server.readiness.topicsReady = true;
  server.readiness.state = { ready: true };
  server.stopping.value = false;
});

function post(
  body: string | Uint8Array,
  headers: Record<string, string> = JSON_TYPE,
  path = '/',
): Promise<Response> {
  return fetch(`${server.url}${path}`, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(15_000),
  });
}

async function expectError(
  response: Response,
  status: number,
  code: string,
): Promise<{ code: string; message: string }> {
  expect(response.status).toBe(status);
  expect(response.headers.get('content-type')).toContain('application/json');
  const body = (await response.json()) as { error: { code: string; message: string } };
  expect(body.error.code).toBe(code);
  expect(body.error.message.length).toBeGreaterThan(0);
  expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+/);
  return body.error;
}

/** Bad input writes nothing to Kafka and leaves ingest answering. */
async function expectNothingWrittenAndStillServing(): Promise<void> {
  expect(server.producer.records).toHaveLength(0);
  const response = await post('{"still":"up"}');
  expect(response.status).toBe(202);
  expect(server.producer.records).toHaveLength(1);
}

async function rawRequest(head: string, body: string | Buffer = ''): Promise<RawClient> {
  const client = await RawClient.open(server.port);
  await client.write(Buffer.concat([Buffer.from(head, 'latin1'), Buffer.from(body)]));
  return client;
}

async function metricText(): Promise<string> {
  return server.metrics.registry.metrics();
}

describe('POST / accepted', () => {
  it('answers 202 with the id, partition and offset of the record it produced', async () => {
    const response = await post('{"order":17}', {
      'content-type': 'application/json; charset=utf-8',
      'idempotency-key': 'order-17',
      'x-throttle-key': 'customer-3',
    });
    expect(response.status).toBe(202);
    const body = await response.json();
    const [record] = server.producer.placed.slice(-1);
    expect(body).toEqual({
      status: 'accepted',
      id: 'order-17',
      partition: record?.placement.partition,
      offset: record?.placement.offset,
    });
    const message = server.producer.records[0];
    expect(message?.value?.toString()).toBe('{"order":17}');
    expect(message?.key).toBe('customer-3');
    expect(message?.headers?.id).toBe('order-17');
    expect(message?.headers?.['content-type']).toBe('application/json; charset=utf-8');
    expect(Number(message?.headers?.['received-at'])).toBeGreaterThan(1_700_000_000_000);
  });

  it('gives each request without an Idempotency-Key a fresh UUID and no key', async () => {
    const answers = await Promise.all([post('[1]'), post('[2]')]);
    const ids = await Promise.all(
      answers.map(async (r) => ((await r.json()) as { id: string }).id),
    );
    for (const id of ids) expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-/);
    expect(new Set(ids).size).toBe(2);
    expect(server.producer.records.map((m) => m.key)).toEqual([null, null]);
  });

  it('keeps the body bytes exactly as sent', async () => {
    const body = '{ "text" : "h\\u00e9llo ü 😀" ,\n "n": 1.50 }';
    expect((await post(body)).status).toBe(202);
    expect(server.producer.records[0]?.value).toEqual(Buffer.from(body));
  });

  it('accepts a chunked body under the limit', async () => {
    const client = await rawRequest(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    await client.write('4\r\n{"a"\r\n');
    await client.write('3\r\n:1}\r\n0\r\n\r\n');
    const response = await client.response();
    client.destroy();
    expect(response.status).toBe(202);
    expect(server.producer.records[0]?.value?.toString()).toBe('{"a":1}');
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
      await waitFor(async () => {
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

describe('bad input gets its 4xx JSON error and writes nothing', () => {
  it('refuses an empty body', async () => {
    await expectError(await post(''), 400, 'invalid_json');
    await expectNothingWrittenAndStillServing();
  });

  it.each([
    ['invalid JSON', '{"a":nope}'],
    ['truncated JSON', '{"a":[1,2,'],
    ['two JSON values', '{}{}'],
  ])('refuses %s', async (_, body) => {
    await expectError(await post(body), 400, 'invalid_json');
    await expectNothingWrittenAndStillServing();
  });

  it('refuses invalid UTF-8', async () => {
    const body = Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
    const error = await expectError(await post(body, JSON_TYPE), 400, 'invalid_json');
    expect(error.message).toContain('UTF-8');
    await expectNothingWrittenAndStillServing();
  });

  it('refuses very deep nesting without crashing', async () => {
    const roomy = await startAppServer({ maxBodyBytes: 1_000_000 });
    try {
      const response = await fetch(roomy.url, {
        method: 'POST',
        headers: JSON_TYPE,
        body: `${'['.repeat(200_000)}${']'.repeat(200_000)}`,
      });
      const error = await expectError(response, 400, 'invalid_json');
      expect(error.message).toContain(`deeper than ${MAX_JSON_DEPTH}`);
      expect(roomy.producer.records).toHaveLength(0);
      const fine = await fetch(roomy.url, { method: 'POST', headers: JSON_TYPE, body: '[[1]]' });
      expect(fine.status).toBe(202);
    } finally {
      await roomy.close();
    }
  });

  it.each([
    ['text/plain', { 'content-type': 'text/plain' }],
    ['a form', { 'content-type': 'application/x-www-form-urlencoded' }],
    ['no content type at all', {}],
  ])('refuses %s with 415', async (_, headers: Record<string, string>) => {
    const response = await post(Buffer.from('{"a":1}'), headers);
    await expectError(response, 415, 'unsupported_media_type');
    await expectNothingWrittenAndStillServing();
  });

  it('refuses a body over the limit by its Content-Length before reading it', async () => {
    const client = await rawRequest(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`,
    );
    // No body byte was sent: the answer can only come from the header.
    const response = await client.response();
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).error.code).toBe('body_too_large');
    expect(response.headers.connection).toBe('close');
    await client.closedByServer();
    await expectNothingWrittenAndStillServing();
  });

  it('answers a 100-continue request over the limit with 413 and no 100 Continue', async () => {
    const client = await rawRequest(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${LIMIT * 10}\r\n\r\n`,
    );
    const response = await client.response();
    client.destroy();
    expect(response.status).toBe(413);
  });

  it('sends 100 Continue, then takes the body, when the request is acceptable', async () => {
    const body = '{"continued":true}';
    const client = await rawRequest(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    expect((await client.response()).status).toBe(100);
    await client.write(body);
    await waitFor(() => server.producer.records.length === 1);
    client.destroy();
    expect(server.producer.records[0]?.value?.toString()).toBe(body);
  });

  it('reads no more than the declared length when the Content-Length lies', async () => {
    // Declares 5 bytes, sends many times the limit: only `{"a":` is the body, and the rest is
    // not HTTP. Nothing beyond the declared length is buffered as body.
    const client = await rawRequest(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n',
      `{"a":${'1'.repeat(LIMIT * 8)}}`,
    );
    const response = await client.response();
    expect(response.status).toBe(400);
    expect(['invalid_json', 'bad_request']).toContain(JSON.parse(response.body).error.code);
    await client.closedByServer();
    await expectNothingWrittenAndStillServing();
  });

  it('answers 413 to a chunked body as soon as it passes the limit, without waiting for its end', async () => {
    const client = await rawRequest(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n',
    );
    const chunk = '1'.repeat(512);
    await client.write(`1\r\n[\r\n`);
    for (let i = 0; i < 3; i++) await client.write(`${chunk.length.toString(16)}\r\n${chunk}\r\n`);
    // The terminating chunk is never sent: the answer cannot wait for the end of the body.
    const response = await client.response();
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).error.code).toBe('body_too_large');
    await client.closedByServer();
    await expectNothingWrittenAndStillServing();
  });

  it('answers 404 for an unknown route', async () => {
    await expectError(await fetch(`${server.url}/nope`), 404, 'not_found');
    await expectError(await post('{}', JSON_TYPE, '/v1/things'), 404, 'not_found');
    await expectNothingWrittenAndStillServing();
  });

  it('answers 405 with Allow for a wrong method', async () => {
    const get = await fetch(`${server.url}/`);
    await expectError(get, 405, 'method_not_allowed');
    expect(get.headers.get('allow')).toBe('POST');
    const put = await fetch(`${server.url}/`, { method: 'PUT', headers: JSON_TYPE, body: '{}' });
    await expectError(put, 405, 'method_not_allowed');
    const del = await fetch(`${server.url}/healthz`, { method: 'DELETE' });
    await expectError(del, 405, 'method_not_allowed');
    expect(del.headers.get('allow')).toContain('GET');
    await expectNothingWrittenAndStillServing();
  });

  it('answers 431 with a JSON error for oversized headers', async () => {
    const client = await rawRequest(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Padding: ${'p'.repeat(MAX_HEADER_BYTES + 1)}\r\nContent-Length: 2\r\n\r\n{}`,
    );
    const response = await client.response();
    expect(response.status).toBe(431);
    expect(response.headers['content-type']).toContain('application/json');
    expect(JSON.parse(response.body).error.code).toBe('headers_too_large');
    await client.closedByServer();
    expect(await metricText()).toMatch(/ingest_http_requests_total\{[^}]*status="431"\} 1/);
    await expectNothingWrittenAndStillServing();
  });

  it('answers 400 with a JSON error for a request that is not HTTP', async () => {
    const client = await rawRequest('HELLO THERE\r\n\r\n');
    const response = await client.response();
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe('bad_request');
    await expectNothingWrittenAndStillServing();
  });

  it('survives a client that disconnects mid-body', async () => {
    const client = await rawRequest(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n',
      '{"partial":"',
    );
    await waitFor(async () => (await server.metrics.inFlight.get()).values[0]?.value === 1);
    client.destroy();
    await waitFor(async () => /status="499"\} 1/.test(await metricText()));
    expect((await server.metrics.inFlight.get()).values[0]?.value).toBe(0);
    await expectNothingWrittenAndStillServing();
  });

  it('refuses an Idempotency-Key sent twice', async () => {
    const client = await rawRequest(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\nContent-Length: 2\r\n\r\n{}',
    );
    const response = await client.response();
    client.destroy();
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe('invalid_header');
    await expectNothingWrittenAndStillServing();
  });
});

describe('when Kafka cannot take the record', () => {
  it('answers 503 kafka_unavailable with Retry-After when the produce request fails', async () => {
    server.producer.behaviour = 'fail';
    const response = await post('{"a":1}');
    await expectError(response, 503, 'kafka_unavailable');
    expect(Number(response.headers.get('retry-after'))).toBeGreaterThan(0);
  });

  it('answers 503 once the ack timeout passes, never hanging the client', async () => {
    server.producer.behaviour = 'hang';
    // The client waits far longer than the 400 ms ack timeout; getting any answer is the point.
    const response = await post('{"a":1}');
    const error = await expectError(response, 503, 'kafka_unavailable');
    expect(error.message).toContain('400 ms');
    expect(server.producer.abortedSends).toHaveLength(1);
  });

  it('answers 503 without producing while the topics have not been verified', async () => {
    server.readiness.topicsReady = false;
    await expectError(await post('{"a":1}'), 503, 'kafka_unavailable');
    expect(server.producer.records).toHaveLength(0);
  });

  it('still answers bad input with its 4xx while Kafka is away', async () => {
    server.readiness.topicsReady = false;
    await expectError(await post('{"a":'), 400, 'invalid_json');
  });

  it('turns new requests away with 503 shutting_down while stopping', async () => {
    server.stopping.value = true;
    const response = await post('{"a":1}');
    await expectError(response, 503, 'shutting_down');
    expect(response.headers.get('connection')).toBe('close');
    expect(server.producer.records).toHaveLength(0);
  });
});

describe('operations endpoints', () => {
  it('/healthz answers 200', async () => {
    const response = await fetch(`${server.url}/healthz`);
    expect(response.status).toBe(200);
    expect(await response.json()).toEqual({ status: 'ok' });
  });

  it('/readyz follows readiness and says why it is not ready', async () => {
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    server.readiness.state = { ready: false, reason: 'Kafka is unreachable' };
    const response = await fetch(`${server.url}/readyz`);
    expect(response.status).toBe(503);
    expect(await response.json()).toEqual({
      status: 'not_ready',
      reason: 'Kafka is unreachable',
      error: { code: 'not_ready', message: 'Kafka is unreachable' },
    });
    server.readiness.state = { ready: true };
    server.stopping.value = true;
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
  });

  it('/metrics counts requests by route and status and shows batch sizes', async () => {
    await post('{"m":1}');
    await post('not json');
    const response = await fetch(`${server.url}/metrics`);
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

async function waitFor(condition: () => boolean | Promise<boolean>, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await sleep(10);
  }
}
