import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import {
  type AppServer,
  type AppServerOptions,
  startAppServer,
} from '../../test/support/app-server.ts';
import { RawClient, type RawResponse } from '../../test/support/raw-http.ts';

const LIMIT = 1024;
const servers: AppServer[] = [];
const clients: RawClient[] = [];

afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function serve(options: AppServerOptions = {}): Promise<AppServer> {
  const server = await startAppServer({ maxBodyBytes: LIMIT, ...options });
  servers.push(server);
  return server;
}

async function open(server: AppServer): Promise<RawClient> {
  const client = await RawClient.open(server.port);
  clients.push(client);
  return client;
}

function post(body: string, extra = ''): string {
  return (
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n' +
    `${extra}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`
  );
}

function expectJsonError(response: RawResponse, status: number, code: string): void {
  expect(response.status).toBe(status);
  expect(response.headers['content-type']).toContain('application/json');
  expect(JSON.parse(response.body).error.code).toBe(code);
}

/** Gives a request that was wrongly let through the time to reach the producer. */
async function settleRequests(server: AppServer): Promise<void> {
  await sleep(300);
  const still = await fetch(server.url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"after":1}',
  });
  expect(still.status).toBe(202);
}

describe('every request either answered or not written', () => {
  it('answers a complete request whose client then half-closes the connection', async () => {
    const server = await serve();
    // Kafka acks only once the half-close has reached ingest, as with a real broker's ack time:
    // an answer written before the half-close is read would prove nothing.
    server.producer.behaviour = 'manual';
    const client = await open(server);
    await client.write(post('{"half":"closed"}'));
    await client.halfClose();
    const deadline = Date.now() + 10_000;
    while (server.producer.pending.length === 0 && Date.now() < deadline) await sleep(20);
    await sleep(300);
    server.producer.ackNext();
    const response = await client.response();
    expect(response.status).toBe(202);
    expect(JSON.parse(response.body).status).toBe('accepted');
    expect(server.producer.records.map((m) => m.value?.toString())).toEqual(['{"half":"closed"}']);
    await client.closedByServer();
  });

  it('produces nothing pipelined after an answer that closes the connection (client asked)', async () => {
    const server = await serve();
    const client = await open(server);
    await client.write(
      'POST /nope HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n' +
        `Content-Length: 2\r\n\r\n{}${post('{"pipelined":2}')}`,
    );
    await client.closedByServer();
    expect(client.responses.map((r) => r.status)).toEqual([404]);
    await settleRequests(server);
    expect(server.producer.records.map((m) => m.value?.toString())).toEqual(['{"after":1}']);
  });

  it('produces nothing pipelined after an answer that closes the connection (ingest decided)', async () => {
    const server = await serve();
    const client = await open(server);
    // Refused by its Content-Length: the body is never read, so the connection is closed.
    const tooLarge = 'x'.repeat(LIMIT + 1);
    await client.write(post(tooLarge) + post('{"pipelined":2}'));
    await client.closedByServer();
    expect(client.responses.map((r) => r.status)).toEqual([413]);
    expect(client.responses[0]?.headers.connection).toBe('close');
    await settleRequests(server);
    expect(server.producer.records.map((m) => m.value?.toString())).toEqual(['{"after":1}']);
  });

  it('still answers pipelined requests in order on a connection that stays open', async () => {
    const server = await serve();
    const client = await open(server);
    await client.write(post('{"p":1}') + post('not json') + post('{"p":3}'));
    const deadline = Date.now() + 10_000;
    while (client.responses.length < 3 && Date.now() < deadline) await sleep(20);
    expect(client.responses.map((r) => r.status)).toEqual([202, 400, 202]);
    expect(server.producer.records.map((m) => m.value?.toString())).toEqual(['{"p":1}', '{"p":3}']);
  });
});

describe('answers Node would give without our JSON body', () => {
  it('answers a request without Host with 400 and a JSON error', async () => {
    const server = await serve();
    const client = await open(server);
    await client.write(
      'POST / HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}',
    );
    expectJsonError(await client.response(), 400, 'bad_request');
    await settleRequests(server);
    expect(server.producer.records).toHaveLength(1);
  });

  it('answers an unknown Expect with 417 and a JSON error', async () => {
    const server = await serve();
    const client = await open(server);
    await client.write(post('{"a":1}', 'Expect: foo\r\n'));
    expectJsonError(await client.response(), 417, 'expectation_failed');
    await settleRequests(server);
    expect(server.producer.records).toHaveLength(1);
  });

  it('answers CONNECT with 405 and a JSON error', async () => {
    const server = await serve();
    const client = await open(server);
    await client.write('CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n');
    expectJsonError(await client.response(), 405, 'method_not_allowed');
  });

  it('answers OPTIONS with 204 and Allow', async () => {
    const server = await serve();
    const root = await fetch(server.url, { method: 'OPTIONS' });
    expect(root.status).toBe(204);
    expect(root.headers.get('allow')).toContain('POST');
    expect(await root.text()).toBe('');
    const health = await fetch(`${server.url}/healthz`, { method: 'OPTIONS' });
    expect(health.status).toBe(204);
    expect(health.headers.get('allow')).toContain('GET');
  });
});

describe('timeouts and the connection cap', () => {
  it('answers 408 within a second of the headers timeout', async () => {
    const server = await serve({ limits: { headersTimeout: 1500, requestTimeout: 3000 } });
    const client = await open(server);
    await client.write('POST / HTTP/1.1\r\nHost: x\r\n');
    // Node's default check interval (30 s) would answer this after up to 31.5 s.
    expectJsonError(await client.response(1500 + 1000), 408, 'request_timeout');
  });

  it('answers 408 within a second of the request timeout for a body that never ends', async () => {
    const server = await serve({ limits: { headersTimeout: 1500, requestTimeout: 2500 } });
    const client = await open(server);
    await client.write(
      'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"slow":',
    );
    expectJsonError(await client.response(2500 + 1000), 408, 'request_timeout');
    expect(server.producer.records).toHaveLength(0);
  });

  it('answers a connection over the cap at once with 503 too_many_connections', async () => {
    const server = await serve({ limits: { maxConnections: 2 } });
    const held = [await open(server), await open(server)];
    const third = await open(server);
    // Nothing sent: the answer comes from the connection alone.
    const refused = await third.response();
    expectJsonError(refused, 503, 'too_many_connections');
    expect(Number(refused.headers['retry-after'])).toBeGreaterThan(0);
    await third.closedByServer();
    // A held connection still works; once one closes, a new one is taken again.
    await held[0]?.write(post('{"held":1}'));
    expect((await held[0]?.response())?.status).toBe(202);
    held[1]?.destroy();
    const deadline = Date.now() + 10_000;
    for (;;) {
      const next = await open(server);
      await next.write(post('{"later":1}'));
      const answer = await next.response();
      if (answer.status === 202) break;
      if (Date.now() > deadline) throw new Error('the freed connection was never taken again');
      await sleep(50);
    }
    expect(server.producer.records.map((m) => m.value?.toString())).toEqual([
      '{"held":1}',
      '{"later":1}',
    ]);
  });
});

describe('a chunk size no body within the limit can have', () => {
  // Node's parser keeps a chunk's declared size to itself: ingest learns of the chunk only as its
  // bytes arrive. Such a request is refused as soon as its bytes pass the limit, or by the
  // request timeout, and nothing of it reaches Kafka (README, "Sending requests").
  const chunkedHead =
    'POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n';

  it('answers 413 and closes once the bytes of the chunk pass the limit', async () => {
    const server = await serve();
    const client = await open(server);
    await client.write(`${chunkedHead}ffffffffffffffff\r\n[`);
    for (let sent = 1; sent <= LIMIT && !client.isClosed; sent += 256) {
      await client.write('1,'.repeat(128));
    }
    const response = await client.response();
    expectJsonError(response, 413, 'body_too_large');
    expect(response.headers.connection).toBe('close');
    await client.closedByServer();
    await settleRequests(server);
    expect(server.producer.records.map((m) => m.value?.toString())).toEqual(['{"after":1}']);
  });

  it('answers 408 at the request timeout when the chunk stops short, and produces nothing', async () => {
    const server = await serve({ limits: { headersTimeout: 1000, requestTimeout: 2000 } });
    const client = await open(server);
    // What follows the size is data of the declared chunk, the "last chunk" included.
    await client.write(`${chunkedHead}ffffffffffffffff\r\n{"a":1}\r\n0\r\n\r\n`);
    expectJsonError(await client.response(2000 + 1000), 408, 'request_timeout');
    await client.closedByServer();
    await settleRequests(server);
    expect(server.producer.records.map((m) => m.value?.toString())).toEqual(['{"after":1}']);
  });

  it('answers 400 at once to a chunk size that does not fit 64 bits', async () => {
    const server = await serve();
    const client = await open(server);
    await client.write(`${chunkedHead}1ffffffffffffffff\r\n{"a":1}\r\n0\r\n\r\n`);
    expectJsonError(await client.response(), 400, 'bad_request');
    await client.closedByServer();
    await settleRequests(server);
    expect(server.producer.records.map((m) => m.value?.toString())).toEqual(['{"after":1}']);
  });
});
