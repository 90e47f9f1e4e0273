import { describe, expect, it } from 'vitest';
import { startAppServer } from '../../test/support/app-server.ts';
import { JSON_TYPE, useAppServer } from '../../test/support/app-under-test.ts';
import { MAX_HEADER_BYTES } from './http-server.ts';
import { MAX_JSON_DEPTH } from './json-validation.ts';

const LIMIT = 1024;
const t = useAppServer({ maxBodyBytes: LIMIT, ackTimeout: 400 });

describe('bad input gets its 4xx JSON error and writes nothing', () => {
  it('refuses an empty body', async () => {
    await t.expectError(await t.post(''), 400, 'invalid_json');
    await t.expectNothingWrittenAndStillServing();
  });

  it.each([
    ['invalid JSON', '{"a":nope}'],
    ['truncated JSON', '{"a":[1,2,'],
    ['two JSON values', '{}{}'],
  ])('refuses %s', async (_, body) => {
    await t.expectError(await t.post(body), 400, 'invalid_json');
    await t.expectNothingWrittenAndStillServing();
  });

  it('refuses invalid UTF-8', async () => {
    const body = Uint8Array.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]);
    const error = await t.expectError(await t.post(body, JSON_TYPE), 400, 'invalid_json');
    expect(error.message).toContain('UTF-8');
    await t.expectNothingWrittenAndStillServing();
  });

  it('refuses very deep nesting without crashing', async () => {
    const roomy = await startAppServer({ maxBodyBytes: 1_000_000 });
    try {
      const response = await fetch(roomy.url, {
        method: 'POST',
        headers: JSON_TYPE,
        body: `${'['.repeat(200_000)}${']'.repeat(200_000)}`,
      });
      const error = await t.expectError(response, 400, 'invalid_json');
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
    const response = await t.post(Buffer.from('{"a":1}'), headers);
    await t.expectError(response, 415, 'unsupported_media_type');
    await t.expectNothingWrittenAndStillServing();
  });

  it('refuses a body over the limit by its Content-Length before reading it', async () => {
    const client = await t.rawRequest(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${LIMIT + 1}\r\n\r\n`,
    );
    // No body byte was sent: the answer can only come from the header.
    const response = await client.response();
    expect(response.status).toBe(413);
    expect(JSON.parse(response.body).error.code).toBe('body_too_large');
    expect(response.headers.connection).toBe('close');
    await client.closedByServer();
    await t.expectNothingWrittenAndStillServing();
  });

  it('answers a 100-continue request over the limit with 413 and no 100 Continue', async () => {
    const client = await t.rawRequest(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${LIMIT * 10}\r\n\r\n`,
    );
    const response = await client.response();
    client.destroy();
    expect(response.status).toBe(413);
  });

  it('sends 100 Continue, then takes the body, when the request is acceptable', async () => {
    const body = '{"continued":true}';
    const client = await t.rawRequest(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${body.length}\r\n\r\n`,
    );
    expect((await client.response()).status).toBe(100);
    await client.write(body);
    await t.waitFor(() => t.server.producer.records.length === 1);
    client.destroy();
    expect(t.server.producer.records[0]?.value?.toString()).toBe(body);
  });

  it('reads no more than the declared length when the Content-Length lies', async () => {
    // Declares 5 bytes, sends many times the limit: only `{"a":` is the body, and the rest is
    // not HTTP. Nothing beyond the declared length is buffered as body.
    const client = await t.rawRequest(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n',
      `{"a":${'1'.repeat(LIMIT * 8)}}`,
    );
    const response = await client.response();
    expect(response.status).toBe(400);
    expect(['invalid_json', 'bad_request']).toContain(JSON.parse(response.body).error.code);
    await client.closedByServer();
    await t.expectNothingWrittenAndStillServing();
  });

  it('answers 413 to a chunked body as soon as it passes the limit, without waiting for its end', async () => {
    const client = await t.rawRequest(
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
    await t.expectNothingWrittenAndStillServing();
  });

  it('answers 404 for an unknown route', async () => {
    await t.expectError(await fetch(`${t.server.url}/nope`), 404, 'not_found');
    await t.expectError(await t.post('{}', JSON_TYPE, '/v1/things'), 404, 'not_found');
    await t.expectNothingWrittenAndStillServing();
  });

  it('answers 405 with Allow for a wrong method', async () => {
    const get = await fetch(`${t.server.url}/`);
    await t.expectError(get, 405, 'method_not_allowed');
    expect(get.headers.get('allow')).toBe('POST');
    const put = await fetch(`${t.server.url}/`, { method: 'PUT', headers: JSON_TYPE, body: '{}' });
    await t.expectError(put, 405, 'method_not_allowed');
    const del = await fetch(`${t.server.url}/healthz`, { method: 'DELETE' });
    await t.expectError(del, 405, 'method_not_allowed');
    expect(del.headers.get('allow')).toContain('GET');
    await t.expectNothingWrittenAndStillServing();
  });

  it('answers 431 with a JSON error for oversized headers', async () => {
    const client = await t.rawRequest(
      `POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nX-Padding: ${'p'.repeat(MAX_HEADER_BYTES + 1)}\r\nContent-Length: 2\r\n\r\n{}`,
    );
    const response = await client.response();
    expect(response.status).toBe(431);
    expect(response.headers['content-type']).toContain('application/json');
    expect(JSON.parse(response.body).error.code).toBe('headers_too_large');
    await client.closedByServer();
    expect(await t.metricText()).toMatch(/ingest_http_requests_total\{[^}]*status="431"\} 1/);
    await t.expectNothingWrittenAndStillServing();
  });

  it('answers 400 with a JSON error for a request that is not HTTP', async () => {
    const client = await t.rawRequest('HELLO THERE\r\n\r\n');
    const response = await client.response();
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe('bad_request');
    await t.expectNothingWrittenAndStillServing();
  });

  it('survives a client that disconnects mid-body', async () => {
    const client = await t.rawRequest(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n',
      '{"partial":"',
    );
    await t.waitFor(async () => (await t.server.metrics.inFlight.get()).values[0]?.value === 1);
    client.destroy();
    await t.waitFor(async () => /status="499"\} 1/.test(await t.metricText()));
    expect((await t.server.metrics.inFlight.get()).values[0]?.value).toBe(0);
    await t.expectNothingWrittenAndStillServing();
  });

  it('refuses an Idempotency-Key sent twice', async () => {
    const client = await t.rawRequest(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nIdempotency-Key: a\r\nIdempotency-Key: b\r\nContent-Length: 2\r\n\r\n{}',
    );
    const response = await client.response();
    client.destroy();
    expect(response.status).toBe(400);
    expect(JSON.parse(response.body).error.code).toBe('invalid_header');
    await t.expectNothingWrittenAndStillServing();
  });
});
